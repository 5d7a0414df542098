import { SourceError } from '../rules/errors.js';

/** One Pine token with its 1-based position. `nl` ends a logical line; `indent`/`dedent` open and close blocks. */
export interface Token {
  readonly kind: 'num' | 'str' | 'id' | 'op' | 'nl' | 'indent' | 'dedent' | 'eof';
  readonly text: string;
  readonly value: number;
  readonly line: number;
  readonly col: number;
}

const OPS = [':=', '+=', '-=', '*=', '/=', '%=', '==', '!=', '<=', '>=', '=>', '+', '-', '*', '/', '%', '<', '>'];
const SINGLE = '=?:()[],.';

/** The `//@version=N` a script declares (5 or 6), or an error naming the line. */
export function scriptVersion(text: string, file: string): number {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*\/\/\s*@version\s*=\s*(\d+)/.exec(lines[i]);
    if (!m) continue;
    const v = Number(m[1]);
    if (v !== 5 && v !== 6) {
      throw new SourceError(
        file,
        text,
        i + 1,
        lines[i].indexOf('@') + 1,
        `Pine version ${v} is not supported (use //@version=5 or 6)`,
      );
    }
    return v;
  }
  throw new SourceError(file, text, 1, 1, 'missing //@version=5 or //@version=6 at the top of the script');
}

/**
 * Splits a Pine text into tokens. Blocks are marked by indentation in steps of 4 spaces (a tab counts 4); a line
 * indented by a non-multiple of 4, or any line inside open brackets, continues the previous line.
 */
export function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  const fail = (line: number, col: number, msg: string): never => {
    throw new SourceError(file, text, line, col, msg);
  };
  const lines = text.split(/\r?\n/);
  let depth = 0;
  let level = 0;
  let open = false; // a logical line is in progress
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li];
    const line = li + 1;
    let width = 0;
    let i = 0;
    while (i < raw.length && (raw[i] === ' ' || raw[i] === '\t')) {
      width += raw[i] === '\t' ? 4 : 1;
      i++;
    }
    if (i >= raw.length || raw.startsWith('//', i)) continue;
    const continuation = open && (depth > 0 || width % 4 !== 0);
    if (!continuation) {
      if (open) out.push(endOfLine(out, lines));
      if (width % 4 !== 0) fail(line, i + 1, 'indentation must be a multiple of 4 spaces (or a continuation line)');
      const want = width / 4;
      if (want > level + 1) fail(line, i + 1, 'unexpected indentation');
      // Whether a block may start here is the parser's call (it knows what opened it).
      if (want === level + 1) out.push({ kind: 'indent', text: '', value: 0, line, col: i + 1 });
      while (want < level) {
        out.push({ kind: 'dedent', text: '', value: 0, line, col: i + 1 });
        level--;
      }
      level = want;
      open = true;
    }
    while (i < raw.length) {
      const c = raw[i];
      const col = i + 1;
      if (c === ' ' || c === '\t') {
        i++;
        continue;
      }
      if (c === '/' && raw[i + 1] === '/') break;
      if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(raw[i + 1] ?? ''))) {
        const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(raw.slice(i));
        const t = m ? m[0] : c;
        out.push({ kind: 'num', text: t, value: Number(t), line, col });
        i += t.length;
        continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(raw.slice(i));
        const t = m ? m[0] : c;
        out.push({ kind: 'id', text: t, value: 0, line, col });
        i += t.length;
        continue;
      }
      if (c === '"' || c === "'") {
        let j = i + 1;
        let s = '';
        while (j < raw.length && raw[j] !== c) {
          if (raw[j] === '\\' && j + 1 < raw.length) {
            const e = raw[j + 1];
            s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
            j += 2;
          } else s += raw[j++];
        }
        if (j >= raw.length) fail(line, col, 'unterminated string');
        out.push({ kind: 'str', text: s, value: 0, line, col });
        i = j + 1;
        continue;
      }
      const op = OPS.find((o) => raw.startsWith(o, i));
      if (op) {
        out.push({ kind: 'op', text: op, value: 0, line, col });
        i += op.length;
        continue;
      }
      if (SINGLE.includes(c)) {
        if (c === '(' || c === '[') depth++;
        if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
        out.push({ kind: 'op', text: c, value: 0, line, col });
        i++;
        continue;
      }
      if (c === '{' || c === '}') fail(line, col, `"${c}" is not Pine syntax (blocks are indented)`);
      fail(line, col, `unexpected character "${c}"`);
    }
  }
  const last = out.length > 0 ? out[out.length - 1].line : 1;
  if (open) out.push(endOfLine(out, lines));
  while (level-- > 0) out.push({ kind: 'dedent', text: '', value: 0, line: last, col: 1 });
  out.push({ kind: 'eof', text: '', value: 0, line: last, col: 1 });
  return out;
}

// The `nl` token of the logical line that ends with out[-1]: placed just after the line's last character.
function endOfLine(out: readonly Token[], lines: readonly string[]): Token {
  const line = out[out.length - 1].line;
  return { kind: 'nl', text: '', value: 0, line, col: (lines[line - 1] ?? '').trimEnd().length + 1 };
}
