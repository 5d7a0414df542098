/** A token of one rules line; `col` is 1-based. */
export interface Token {
  readonly kind: 'num' | 'word' | 'tf' | 'op' | 'end';
  readonly text: string;
  readonly col: number;
}

const OPS = ['<=', '>=', '==', '!=', '..', '<', '>', '+', '-', '*', '/', '(', ')', ',', '.', '[', ']', '=', '%'];

/** Splits one line (comments already removed) into tokens, or returns the column of a character it cannot read. */
export function tokenize(line: string): Token[] | { badColumn: number } {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c >= '0' && c <= '9') {
      while (i < line.length && line[i] >= '0' && line[i] <= '9') i++;
      if (line[i] === '.' && line[i + 1] >= '0' && line[i + 1] <= '9') {
        i++;
        while (i < line.length && line[i] >= '0' && line[i] <= '9') i++;
      }
      if (/[a-zA-Z]/.test(line[i] ?? '')) {
        while (i < line.length && /[a-zA-Z]/.test(line[i])) i++;
        out.push({ kind: 'tf', text: line.slice(start, i), col: start + 1 });
      } else {
        out.push({ kind: 'num', text: line.slice(start, i), col: start + 1 });
      }
      continue;
    }
    if (/[a-zA-Z_]/.test(c)) {
      while (i < line.length && /[a-zA-Z0-9_]/.test(line[i])) i++;
      out.push({ kind: 'word', text: line.slice(start, i), col: start + 1 });
      continue;
    }
    const op = OPS.find((o) => line.startsWith(o, i));
    if (op === undefined) return { badColumn: i + 1 };
    out.push({ kind: 'op', text: op, col: i + 1 });
    i += op.length;
  }
  out.push({ kind: 'end', text: '', col: line.length + 1 });
  return out;
}
