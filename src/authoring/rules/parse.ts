import { nearestWord, SourceError } from './errors.js';
import { type Token, tokenize } from './lexer.js';

/** Where a node starts in the source (1-based). */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

/** An expression of the rule language. */
export type Expr =
  | { kind: 'num'; value: number; pos: Pos }
  | { kind: 'param'; name: string; pos: Pos }
  | { kind: 'price'; field: string; ago: number; tf?: string; pos: Pos }
  | { kind: 'ind'; name: string; args: Expr[]; source?: string; output?: string; ago: number; tf?: string; pos: Pos }
  | { kind: 'bin'; op: string; left: Expr; right: Expr; pos: Pos }
  | { kind: 'neg'; expr: Expr; pos: Pos }
  | { kind: 'not'; expr: Expr; pos: Pos }
  | { kind: 'cross'; dir: 'above' | 'below'; left: Expr; right: Expr; pos: Pos };

/** A parameter declared with `param NAME = V [in LO..HI [step S]]`. */
export interface ParamDecl {
  readonly name: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  readonly pos: Pos;
}

/** A parsed rules text. */
export interface RulesProgram {
  readonly params: ParamDecl[];
  readonly signals: Partial<Record<'buy' | 'sell' | 'short' | 'cover', Expr>>;
  readonly stopLoss?: number;
  readonly takeProfit?: number;
  readonly trailing?: { readonly distance: number; readonly after?: number };
  readonly breakEven?: number;
}

/** Price fields an expression can read. */
export const PRICE_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;

/** Indicators: argument count range and named outputs (the first is the default). */
export const INDICATORS: Readonly<Record<string, { min: number; max: number; outputs?: readonly string[] }>> = {
  sma: { min: 1, max: 1 },
  ema: { min: 1, max: 1 },
  wma: { min: 1, max: 1 },
  rsi: { min: 0, max: 1 },
  roc: { min: 1, max: 1 },
  stddev: { min: 1, max: 1 },
  macd: { min: 0, max: 3, outputs: ['macd', 'signal', 'histogram'] },
  bbands: { min: 0, max: 2, outputs: ['middle', 'upper', 'lower'] },
  atr: { min: 0, max: 1 },
  cci: { min: 0, max: 1 },
  adx: { min: 0, max: 1, outputs: ['adx', 'plusdi', 'minusdi'] },
  stoch: { min: 0, max: 3, outputs: ['k', 'd'] },
  donchian: { min: 0, max: 1, outputs: ['middle', 'upper', 'lower'] },
  vwap: { min: 0, max: 0 },
  obv: { min: 0, max: 0 },
};

/** Timeframes `on TF` accepts. */
export const TIMEFRAMES = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '1w'];

const STATEMENTS = ['param', 'buy', 'sell', 'short', 'cover', 'stop', 'take', 'trailing', 'break'];

class LineParser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly line: number,
    private readonly fail: (col: number, msg: string, suggestion?: string) => never,
    private readonly params: ReadonlySet<string>,
  ) {}

  peek(): Token {
    return this.toks[this.i];
  }
  next(): Token {
    return this.toks[this.i++];
  }
  pos(t: Token): Pos {
    return { line: this.line, col: t.col };
  }
  isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text.toLowerCase() === text;
  }
  isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  describe(t: Token): string {
    return t.kind === 'end' ? 'the end of the line' : `"${t.text}"`;
  }
  word(expected: string, options: readonly string[] = [expected]): Token {
    const t = this.next();
    if (t.kind !== 'word' || !options.includes(t.text.toLowerCase())) {
      this.fail(
        t.col,
        `expected ${options.map((o) => `"${o}"`).join(' or ')}, found ${this.describe(t)}`,
        t.kind === 'word' ? nearestWord(t.text, options) : undefined,
      );
    }
    return t;
  }
  op(text: string): Token {
    const t = this.next();
    if (t.kind !== 'op' || t.text !== text) this.fail(t.col, `expected "${text}", found ${this.describe(t)}`);
    return t;
  }
  number(): number {
    let sign = 1;
    if (this.isOp('-')) {
      this.next();
      sign = -1;
    }
    const t = this.next();
    if (t.kind !== 'num') this.fail(t.col, `expected a number, found ${this.describe(t)}`);
    return sign * Number(t.text);
  }
  percent(): number {
    const t = this.peek();
    const n = this.number();
    this.op('%');
    if (!(n > 0 && n < 1000)) this.fail(t.col, `a percentage must be above 0, got ${n}%`);
    return n / 100;
  }
  end(): void {
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t.col, `unexpected ${this.describe(t)} after a complete statement`);
  }

  expr(): Expr {
    let left = this.and();
    while (this.isWord('or')) {
      const t = this.next();
      left = { kind: 'bin', op: 'or', left, right: this.and(), pos: this.pos(t) };
    }
    return left;
  }
  and(): Expr {
    let left = this.not();
    while (this.isWord('and')) {
      const t = this.next();
      left = { kind: 'bin', op: 'and', left, right: this.not(), pos: this.pos(t) };
    }
    return left;
  }
  not(): Expr {
    if (this.isWord('not')) {
      const t = this.next();
      return { kind: 'not', expr: this.not(), pos: this.pos(t) };
    }
    return this.compare();
  }
  compare(): Expr {
    const left = this.sum();
    const t = this.peek();
    if (t.kind === 'op' && ['<', '<=', '>', '>=', '==', '!='].includes(t.text)) {
      this.next();
      return { kind: 'bin', op: t.text, left, right: this.sum(), pos: this.pos(t) };
    }
    if (this.isWord('crosses')) {
      this.next();
      const d = this.word('above', ['above', 'below']);
      return {
        kind: 'cross',
        dir: d.text.toLowerCase() as 'above' | 'below',
        left,
        right: this.sum(),
        pos: this.pos(t),
      };
    }
    return left;
  }
  sum(): Expr {
    let left = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { kind: 'bin', op: t.text, left, right: this.product(), pos: this.pos(t) };
    }
    return left;
  }
  product(): Expr {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const t = this.next();
      left = { kind: 'bin', op: t.text, left, right: this.unary(), pos: this.pos(t) };
    }
    return left;
  }
  unary(): Expr {
    if (this.isOp('-')) {
      const t = this.next();
      return { kind: 'neg', expr: this.unary(), pos: this.pos(t) };
    }
    return this.postfix();
  }
  postfix(): Expr {
    const e = this.primary();
    if (e.kind !== 'ind' && e.kind !== 'price') {
      if (this.isOp('[') || this.isOp('.') || this.isWord('on')) {
        this.fail(this.peek().col, `"${this.peek().text}" applies to a price or an indicator only`);
      }
      return e;
    }
    if (this.isOp('.')) {
      const dot = this.next();
      const t = this.next();
      const outputs = e.kind === 'ind' ? INDICATORS[e.name].outputs : undefined;
      if (!outputs) this.fail(dot.col, `${e.kind === 'ind' ? e.name : e.field} has no named outputs`);
      if (t.kind !== 'word' || !outputs.includes(t.text.toLowerCase())) {
        this.fail(
          t.col,
          `unknown output ${this.describe(t)} of ${(e as { name: string }).name} (outputs: ${outputs.join(', ')})`,
          t.kind === 'word' ? nearestWord(t.text, outputs) : undefined,
        );
      }
      (e as { output?: string }).output = t.text.toLowerCase();
    }
    if (this.isOp('[')) {
      this.next();
      const t = this.peek();
      const n = this.number();
      if (!Number.isInteger(n) || n < 0 || n > 5000)
        this.fail(t.col, `a bar offset is a whole number 0..5000, got ${n}`);
      this.op(']');
      (e as { ago: number }).ago = n;
    }
    if (this.isWord('on')) {
      this.next();
      const t = this.next();
      if (t.kind !== 'tf' || !TIMEFRAMES.includes(t.text.toLowerCase())) {
        this.fail(
          t.col,
          `expected a timeframe (${TIMEFRAMES.join(', ')}), found ${this.describe(t)}`,
          nearestWord(t.text, TIMEFRAMES),
        );
      }
      (e as { tf?: string }).tf = t.text.toLowerCase();
    }
    return e;
  }
  primary(): Expr {
    const t = this.next();
    if (t.kind === 'num') return { kind: 'num', value: Number(t.text), pos: this.pos(t) };
    if (t.kind === 'op' && t.text === '(') {
      const e = this.expr();
      this.op(')');
      return e;
    }
    if (t.kind !== 'word') this.fail(t.col, `expected a value, found ${this.describe(t)}`);
    const name = t.text.toLowerCase();
    if ((PRICE_FIELDS as readonly string[]).includes(name))
      return { kind: 'price', field: name, ago: 0, pos: this.pos(t) };
    if (this.params.has(t.text)) return { kind: 'param', name: t.text, pos: this.pos(t) };
    const spec = INDICATORS[name];
    if (spec === undefined || !this.isOp('(')) {
      const known = [...PRICE_FIELDS, ...Object.keys(INDICATORS), ...this.params];
      this.fail(
        t.col,
        spec === undefined ? `unknown name "${t.text}"` : `${name} needs parentheses: ${name}(...)`,
        spec === undefined ? nearestWord(t.text, known) : undefined,
      );
    }
    this.op('(');
    const args: Expr[] = [];
    let source: string | undefined;
    if (!this.isOp(')')) {
      do {
        const a = this.peek();
        if (
          args.length === 0 &&
          source === undefined &&
          a.kind === 'word' &&
          (PRICE_FIELDS as readonly string[]).includes(a.text.toLowerCase()) &&
          ['sma', 'ema', 'wma', 'rsi', 'roc', 'stddev', 'macd', 'bbands'].includes(name)
        ) {
          this.next();
          source = a.text.toLowerCase();
          continue;
        }
        args.push(this.sum());
      } while (this.isOp(',') && this.next());
    }
    this.op(')');
    if (args.length < spec.min || args.length > spec.max) {
      const range = spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
      this.fail(t.col, `${name} takes ${range} argument${spec.max === 1 ? '' : 's'}, got ${args.length}`);
    }
    return { kind: 'ind', name, args, ...(source ? { source } : {}), ago: 0, pos: this.pos(t) };
  }
}

/** Parses a rules text; every mistake throws a SourceError naming line and column with a caret. */
export function parseRules(text: string, file: string): RulesProgram {
  const params: ParamDecl[] = [];
  const names = new Set<string>();
  const signals: RulesProgram['signals'] = {};
  const out: { -readonly [K in keyof RulesProgram]: RulesProgram[K] } = { params, signals };
  const lines = text.split(/\n/);
  for (const [idx, raw] of lines.entries()) {
    const lineNo = idx + 1;
    const fail = (col: number, msg: string, suggestion?: string): never => {
      throw new SourceError(file, text, lineNo, col, msg, suggestion);
    };
    const hash = raw.search(/#|\/\//);
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    const toks = tokenize(line);
    if (!Array.isArray(toks)) fail(toks.badColumn, `unexpected character "${line[toks.badColumn - 1]}"`);
    const tokens = toks as Token[];
    if (tokens[0].kind === 'end') continue;
    const p = new LineParser(tokens, lineNo, fail, names);
    const head = p.next();
    const kw = head.kind === 'word' ? head.text.toLowerCase() : '';
    switch (kw) {
      case 'param': {
        const n = p.next();
        if (n.kind !== 'word') fail(n.col, `expected a parameter name, found ${p.describe(n)}`);
        if (names.has(n.text)) fail(n.col, `parameter "${n.text}" is declared twice`);
        if (
          (PRICE_FIELDS as readonly string[]).includes(n.text.toLowerCase()) ||
          INDICATORS[n.text.toLowerCase()] ||
          STATEMENTS.includes(n.text.toLowerCase())
        ) {
          fail(n.col, `"${n.text}" is a reserved word; choose another parameter name`);
        }
        p.op('=');
        const value = p.number();
        const decl: { -readonly [K in keyof ParamDecl]: ParamDecl[K] } = { name: n.text, value, pos: p.pos(n) };
        if (p.isWord('in')) {
          p.next();
          const at = p.peek();
          decl.min = p.number();
          p.op('..');
          decl.max = p.number();
          if (decl.min > decl.max) fail(at.col, `range ${decl.min}..${decl.max} is empty`);
          if (value < decl.min || value > decl.max)
            fail(at.col, `default ${value} is outside ${decl.min}..${decl.max}`);
          if (p.isWord('step')) {
            p.next();
            const st = p.peek();
            decl.step = p.number();
            if (!(decl.step > 0)) fail(st.col, 'step must be positive');
          }
        }
        p.end();
        names.add(n.text);
        params.push(decl);
        break;
      }
      case 'buy':
      case 'sell':
      case 'short':
      case 'cover': {
        if (signals[kw]) fail(head.col, `a second "${kw} when" rule: join the conditions with "or" on one line`);
        p.word('when');
        signals[kw] = p.expr();
        p.end();
        break;
      }
      case 'stop':
        p.word('loss');
        out.stopLoss = p.percent();
        if (out.stopLoss >= 1) fail(head.col, 'a stop loss must be below 100%');
        p.end();
        break;
      case 'take':
        p.word('profit');
        out.takeProfit = p.percent();
        p.end();
        break;
      case 'trailing': {
        p.word('stop');
        const distance = p.percent();
        let after: number | undefined;
        if (p.isWord('after')) {
          p.next();
          after = p.percent();
        }
        out.trailing = after === undefined ? { distance } : { distance, after };
        p.end();
        break;
      }
      case 'break':
        p.word('even');
        p.word('after');
        out.breakEven = p.percent();
        p.end();
        break;
      default:
        fail(
          head.col,
          `a line starts with one of ${STATEMENTS.map((s) => `"${s}"`).join(', ')}; found ${p.describe(head)}`,
          head.kind === 'word' ? nearestWord(head.text, STATEMENTS) : undefined,
        );
    }
  }
  if (!signals.buy && !signals.short) {
    throw new SourceError(file, text, 1, 1, 'no entry rule: add a "buy when ..." or "short when ..." line');
  }
  return out;
}
