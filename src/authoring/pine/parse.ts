import { SourceError } from '../rules/errors.js';
import { type Token, tokenize } from './lexer.js';

/** A position in the source (1-based). */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

/** A Pine expression. Dotted names (`ta.sma`, `strategy.long`) are one `id`. */
export type Expr =
  | { kind: 'num'; pos: Pos; value: number }
  | { kind: 'str'; pos: Pos; value: string }
  | { kind: 'bool'; pos: Pos; value: boolean }
  | { kind: 'na'; pos: Pos }
  | { kind: 'id'; pos: Pos; name: string }
  | { kind: 'call'; pos: Pos; name: string; args: Expr[]; named: Map<string, Expr>; namedPos: Map<string, Pos> }
  | { kind: 'index'; pos: Pos; target: Expr; index: Expr }
  | { kind: 'unary'; pos: Pos; op: '-' | '+' | 'not'; expr: Expr }
  | { kind: 'bin'; pos: Pos; op: string; left: Expr; right: Expr }
  | { kind: 'tern'; pos: Pos; cond: Expr; whenTrue: Expr; whenFalse: Expr }
  | { kind: 'tuple'; pos: Pos; items: Expr[] };

/** A Pine statement. */
export type Stmt =
  | { kind: 'decl'; pos: Pos; name: string; isVar: boolean; expr: Expr }
  | { kind: 'tupleDecl'; pos: Pos; names: string[]; expr: Expr }
  | { kind: 'assign'; pos: Pos; name: string; op: string; expr: Expr }
  | { kind: 'if'; pos: Pos; cond: Expr; body: Stmt[]; orElse?: Stmt[] }
  | { kind: 'for'; pos: Pos; name: string; from: Expr; to: Expr; by?: Expr; body: Stmt[] }
  | { kind: 'fn'; pos: Pos; name: string; params: string[]; body: Stmt[] }
  | { kind: 'break'; pos: Pos }
  | { kind: 'continue'; pos: Pos }
  | { kind: 'expr'; pos: Pos; expr: Expr };

/** A parsed script: its version and top-level statements. */
export interface PineScript {
  readonly version: number;
  readonly body: Stmt[];
}

const TYPES = new Set(['int', 'float', 'bool', 'string', 'color']);
/** Keywords and constructs of Pine that this subset refuses, with the reason shown to the user. */
const REFUSED: Readonly<Record<string, string>> = {
  while: '"while" loops are not in the supported Pine subset (use a for loop with bounds)',
  switch: '"switch" is not in the supported Pine subset (use if / else if)',
  varip: '"varip" is not in the supported Pine subset (bars are evaluated once, at their close)',
  import: 'libraries ("import") are not in the supported Pine subset',
  export: 'libraries ("export") are not in the supported Pine subset',
  type: 'user-defined types ("type") are not in the supported Pine subset',
  method: 'methods ("method") are not in the supported Pine subset',
  enum: '"enum" is not in the supported Pine subset',
  in: '"for ... in" loops are not in the supported Pine subset (use for i = a to b)',
};

/** Parses a Pine script (the subset in docs/pine.md) into statements; mistakes throw SourceError with line:col. */
export function parsePine(text: string, file: string, version: number): PineScript {
  const toks = tokenize(text, file);
  let k = 0;
  const peek = (o = 0): Token => toks[Math.min(k + o, toks.length - 1)];
  const next = (): Token => toks[k < toks.length - 1 ? k++ : k];
  const fail = (t: Pos, msg: string): never => {
    throw new SourceError(file, text, t.line, Math.max(1, t.col), msg);
  };
  const isOp = (t: Token, s: string) => t.kind === 'op' && t.text === s;
  const expectOp = (s: string, what: string): Token => {
    const t = peek();
    if (!isOp(t, s)) fail(t, `expected "${s}" ${what}, found ${describe(t)}`);
    return next();
  };
  const pos = (t: Token): Pos => ({ line: t.line, col: t.col });
  const refuseWord = (t: Token) => {
    if (t.kind === 'id' && REFUSED[t.text] !== undefined) fail(t, REFUSED[t.text]);
  };
  let depth = 0;

  const block = (): Stmt[] => {
    const t = peek();
    if (t.kind !== 'nl') fail(t, `expected the end of the line, found ${describe(t)}`);
    next();
    if (peek().kind !== 'indent') fail(peek(), 'expected an indented block');
    next();
    const body: Stmt[] = [];
    while (peek().kind !== 'dedent' && peek().kind !== 'eof') body.push(statement());
    if (peek().kind === 'dedent') next();
    return body;
  };

  const endLine = () => {
    const t = peek();
    if (t.kind === 'nl') next();
    else if (t.kind !== 'eof' && t.kind !== 'dedent') fail(t, `expected the end of the line, found ${describe(t)}`);
  };

  const ifStmt = (): Stmt => {
    const t = next();
    const cond = expr();
    const then = block();
    let els: Stmt[] | undefined;
    if (peek().kind === 'id' && peek().text === 'else') {
      next();
      if (peek().kind === 'id' && peek().text === 'if') els = [ifStmt()];
      else els = block();
    }
    return { kind: 'if', pos: pos(t), cond, body: then, ...(els ? { orElse: els } : {}) };
  };

  const statement = (): Stmt => {
    if (++depth > 200) fail(peek(), 'the script nests too deeply');
    try {
      return statementInner();
    } finally {
      depth--;
    }
  };

  const statementInner = (): Stmt => {
    const t = peek();
    refuseWord(t);
    if (t.kind === 'indent')
      fail(t, 'unexpected indentation (a block follows only if, else, for or a function header)');
    if (t.kind === 'id') {
      if (t.text === 'if') return ifStmt();
      if (t.text === 'else') fail(t, '"else" without an "if" just above');
      if (t.text === 'for') {
        next();
        const v = peek();
        if (v.kind !== 'id') fail(v, `expected the loop variable, found ${describe(v)}`);
        next();
        if (peek().kind === 'id' && peek().text === 'in') refuseWord(peek());
        if (isOp(peek(), ',')) fail(peek(), REFUSED.in);
        expectOp('=', 'after the loop variable');
        const from = expr();
        const to = peek();
        if (!(to.kind === 'id' && to.text === 'to')) fail(to, `expected "to" in the for loop, found ${describe(to)}`);
        next();
        const upper = expr();
        let by: Expr | undefined;
        if (peek().kind === 'id' && peek().text === 'by') {
          next();
          by = expr();
        }
        const body = block();
        return { kind: 'for', pos: pos(t), name: v.text, from, to: upper, ...(by ? { by } : {}), body };
      }
      if (t.text === 'break' || t.text === 'continue') {
        next();
        endLine();
        return { kind: t.text, pos: pos(t) };
      }
      // Function declaration: name(params) =>
      if (isOp(peek(1), '(') && isFnHeader()) {
        next();
        next();
        const params: string[] = [];
        while (!isOp(peek(), ')')) {
          let p = next();
          if (p.kind === 'id' && (TYPES.has(p.text) || p.text === 'simple' || p.text === 'series')) {
            if (peek().kind === 'id') p = next();
            if (peek().kind === 'id') p = next();
          }
          if (p.kind !== 'id') fail(p, `expected a parameter name, found ${describe(p)}`);
          if (isOp(peek(), '=')) fail(peek(), 'default parameter values are not in the supported Pine subset');
          params.push(p.text);
          if (isOp(peek(), ',')) next();
          else if (!isOp(peek(), ')'))
            fail(peek(), `expected "," or ")" in the parameter list, found ${describe(peek())}`);
        }
        next();
        expectOp('=>', 'after the parameter list');
        let body: Stmt[];
        if (peek().kind === 'nl') body = block();
        else {
          const e = expr();
          body = [{ kind: 'expr', pos: e.pos, expr: e }];
          endLine();
        }
        return { kind: 'fn', pos: pos(t), name: t.text, params, body };
      }
      // Declarations: [var] [type] name = expr
      let j = 0;
      let isVar = false;
      if (peek(j).kind === 'id' && peek(j).text === 'var') {
        isVar = true;
        j++;
      }
      if (peek(j).kind === 'id' && TYPES.has(peek(j).text) && peek(j + 1).kind === 'id') j++;
      const name = peek(j);
      if (name.kind === 'id' && isOp(peek(j + 1), '=') && (j > 0 || !isOp(peek(j + 1), '=='))) {
        k += j + 2;
        refuseWord(name);
        const e = expr();
        endLine();
        return { kind: 'decl', pos: pos(name), name: name.text, isVar, expr: e };
      }
      if (isVar) fail(peek(j), `expected a variable name after "var", found ${describe(peek(j))}`);
      const op = peek(1);
      if (op.kind === 'op' && [':=', '+=', '-=', '*=', '/=', '%='].includes(op.text)) {
        k += 2;
        const e = expr();
        endLine();
        return { kind: 'assign', pos: pos(t), name: t.text, op: op.text, expr: e };
      }
    }
    if (isOp(t, '[')) {
      // Tuple declaration: [a, b, c] = f(...)
      const save = k;
      next();
      const names: string[] = [];
      let ok = true;
      while (ok) {
        const n = peek();
        if (n.kind !== 'id') {
          ok = false;
          break;
        }
        names.push(n.text);
        next();
        if (isOp(peek(), ',')) next();
        else if (isOp(peek(), ']')) {
          next();
          break;
        } else ok = false;
      }
      if (ok && isOp(peek(), '=')) {
        next();
        const e = expr();
        endLine();
        return { kind: 'tupleDecl', pos: pos(t), names, expr: e };
      }
      k = save;
    }
    const e = expr();
    endLine();
    return { kind: 'expr', pos: e.pos, expr: e };
  };

  // At `name (`: true when the matching `)` is followed by `=>`.
  const isFnHeader = (): boolean => {
    let d = 0;
    for (let j = k + 1; j < toks.length; j++) {
      const t = toks[j];
      if (t.kind === 'nl' || t.kind === 'eof') return false;
      if (isOp(t, '(')) d++;
      if (isOp(t, ')') && --d === 0) return isOp(toks[j + 1], '=>');
    }
    return false;
  };

  let exprDepth = 0;
  const expr = (): Expr => {
    if (++exprDepth > 200) fail(peek(), 'the expression nests too deeply');
    try {
      return ternary();
    } finally {
      exprDepth--;
    }
  };

  const ternary = (): Expr => {
    const c = orExpr();
    if (isOp(peek(), '?')) {
      const q = next();
      const a = expr();
      expectOp(':', 'in the ternary "cond ? a : b"');
      const b = expr();
      return { kind: 'tern', pos: pos(q), cond: c, whenTrue: a, whenFalse: b };
    }
    return c;
  };

  const binary =
    (ops: readonly string[], sub: () => Expr, words = false) =>
    (): Expr => {
      let l = sub();
      for (;;) {
        const t = peek();
        const hit = words ? t.kind === 'id' && ops.includes(t.text) : t.kind === 'op' && ops.includes(t.text);
        if (!hit) return l;
        next();
        const r = sub();
        l = { kind: 'bin', pos: pos(t), op: t.text, left: l, right: r };
      }
    };

  const unary = (): Expr => {
    const t = peek();
    if ((t.kind === 'op' && (t.text === '-' || t.text === '+')) || (t.kind === 'id' && t.text === 'not')) {
      next();
      if (++exprDepth > 200) fail(t, 'the expression nests too deeply');
      try {
        return { kind: 'unary', pos: pos(t), op: t.text as '-' | '+' | 'not', expr: unary() };
      } finally {
        exprDepth--;
      }
    }
    return postfix();
  };
  const mul = binary(['*', '/', '%'], unary);
  const add = binary(['+', '-'], mul);
  const cmp = binary(['<', '<=', '>', '>='], add);
  const eq = binary(['==', '!='], cmp);
  const andExpr = binary(['and'], eq, true);
  const orExpr = binary(['or'], andExpr, true);

  const postfix = (): Expr => {
    let e = primary();
    for (;;) {
      const t = peek();
      if (isOp(t, '[')) {
        next();
        const idx = expr();
        expectOp(']', 'to close the history reference');
        e = { kind: 'index', pos: pos(t), target: e, index: idx };
      } else if (isOp(t, '(')) {
        if (e.kind !== 'id') return fail(t, 'only named functions can be called');
        e = call(e.name, e.pos);
      } else if (isOp(t, '.') && e.kind !== 'id') {
        fail(t, 'member access on a value (methods, fields) is not in the supported Pine subset');
      } else return e;
    }
  };

  const call = (name: string, at: Pos): Expr => {
    next();
    const args: Expr[] = [];
    const named = new Map<string, Expr>();
    const namedPos = new Map<string, Pos>();
    while (!isOp(peek(), ')')) {
      const t = peek();
      if (t.kind === 'id' && isOp(peek(1), '=')) {
        next();
        next();
        if (named.has(t.text)) fail(t, `argument "${t.text}" given twice`);
        named.set(t.text, expr());
        namedPos.set(t.text, pos(t));
      } else {
        if (named.size > 0) fail(t, 'a positional argument cannot follow named ones');
        args.push(expr());
      }
      if (isOp(peek(), ',')) next();
      else if (!isOp(peek(), ')'))
        fail(peek(), `expected "," or ")" in the call to ${name}, found ${describe(peek())}`);
    }
    next();
    return { kind: 'call', pos: at, name, args, named, namedPos };
  };

  const primary = (): Expr => {
    const t = next();
    const p = pos(t);
    if (t.kind === 'num') {
      if (!Number.isFinite(t.value)) fail(t, `bad number "${t.text}"`);
      return { kind: 'num', pos: p, value: t.value };
    }
    if (t.kind === 'str') return { kind: 'str', pos: p, value: t.text };
    if (isOp(t, '(')) {
      const e = expr();
      expectOp(')', 'to close the parenthesis');
      return e;
    }
    if (isOp(t, '[')) {
      const items: Expr[] = [];
      while (!isOp(peek(), ']')) {
        items.push(expr());
        if (isOp(peek(), ',')) next();
        else if (!isOp(peek(), ']')) fail(peek(), `expected "," or "]", found ${describe(peek())}`);
      }
      next();
      return { kind: 'tuple', pos: p, items };
    }
    if (t.kind === 'id') {
      refuseWord(t);
      if (t.text === 'true' || t.text === 'false') return { kind: 'bool', pos: p, value: t.text === 'true' };
      if (t.text === 'na' && !isOp(peek(), '(')) return { kind: 'na', pos: p };
      if (t.text === 'if' || t.text === 'for')
        fail(t, `"${t.text}" as an expression is not in the supported Pine subset`);
      let name = t.text;
      while (isOp(peek(), '.') && peek(1).kind === 'id') {
        next();
        name += `.${next().text}`;
      }
      if (isOp(peek(), '.')) fail(peek(), `expected a name after "${name}."`);
      if (isOp(peek(), '<')) {
        // generic calls like array.new<float>() are outside the subset
        if (peek(1).kind === 'id' && TYPES.has(peek(1).text) && isOp(peek(2), '>')) {
          fail(t, `"${name}<...>" (collections) is not in the supported Pine subset`);
        }
      }
      return { kind: 'id', pos: p, name };
    }
    return fail(t, `unexpected ${describe(t)}`);
  };

  const body: Stmt[] = [];
  while (peek().kind !== 'eof') {
    if (peek().kind === 'dedent' || peek().kind === 'nl') {
      next();
      continue;
    }
    body.push(statement());
  }
  return { version, body };
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'nl':
      return 'the end of the line';
    case 'eof':
      return 'the end of the script';
    case 'indent':
      return 'an indented line';
    case 'dedent':
      return 'the end of the block';
    case 'str':
      return `"${t.text}"`;
    default:
      return `"${t.text}"`;
  }
}
