import { ValidationError } from '../../core/errors.js';
import type { Metrics } from '../metrics.js';

/** A compiled objective expression: the score of a run's metrics, or null when a term is undefined. */
export type MetricExpression = (m: Metrics) => number | null;

type Node =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'var'; readonly metric: keyof Metrics }
  | { readonly k: 'neg'; readonly a: Node }
  | { readonly k: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly a: Node; readonly b: Node }
  | { readonly k: 'call'; readonly fn: 'min' | 'max' | 'abs'; readonly args: readonly Node[] };

const FUNCTIONS = { min: 2, max: 2, abs: 1 } as const;

/**
 * Compiles `--objective` arithmetic over metrics: numbers, metric names (an objective name such as `sharpe`,
 * `max_drawdown`, or a metrics field such as `totalReturnPct`), `+ - * /`, parentheses, `min(a, b)`, `max(a, b)`
 * and `abs(x)`. `resolve` maps a name to its metrics field (undefined: unknown). Nothing is evaluated as code.
 */
export function compileMetricExpression(
  text: string,
  resolve: (name: string) => keyof Metrics | undefined,
): MetricExpression {
  const where = `--objective "${text}"`;
  const tokens = text.match(/\s*(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|[A-Za-z_][\w]*|[-+*/(),]|\S)/g) ?? [];
  const toks = tokens.map((t) => t.trim());
  let i = 0;
  const peek = () => toks[i];
  const fail = (msg: string): never => {
    throw new ValidationError(`${where}: ${msg}`, 'objective');
  };
  const expect = (t: string) => {
    if (toks[i] !== t) fail(`expected "${t}" ${toks[i] === undefined ? 'at the end' : `before "${toks[i]}"`}`);
    i++;
  };
  const primary = (): Node => {
    const t = toks[i++];
    if (t === undefined) return fail('the expression ends too early');
    if (t === '(') {
      const n = sum();
      expect(')');
      return n;
    }
    if (t === '-') return { k: 'neg', a: primary() };
    if (t === '+') return primary();
    if (/^(\d|\.\d)/.test(t)) return { k: 'num', v: Number(t) };
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === '(') {
        if (!(t in FUNCTIONS)) fail(`unknown function "${t}" (known: min, max, abs)`);
        const fn = t as keyof typeof FUNCTIONS;
        i++;
        const args = [sum()];
        while (peek() === ',') {
          i++;
          args.push(sum());
        }
        expect(')');
        if (args.length !== FUNCTIONS[fn]) fail(`${fn}() takes ${FUNCTIONS[fn]} argument(s), got ${args.length}`);
        return { k: 'call', fn, args };
      }
      const metric = resolve(t);
      if (metric === undefined) fail(`unknown metric "${t}"`);
      return { k: 'var', metric: metric as keyof Metrics };
    }
    return fail(`unexpected "${t}"`);
  };
  const product = (): Node => {
    let n = primary();
    while (peek() === '*' || peek() === '/') {
      const op = toks[i++] as '*' | '/';
      n = { k: 'bin', op, a: n, b: primary() };
    }
    return n;
  };
  const sum = (): Node => {
    let n = product();
    while (peek() === '+' || peek() === '-') {
      const op = toks[i++] as '+' | '-';
      n = { k: 'bin', op, a: n, b: product() };
    }
    return n;
  };
  if (toks.length === 0) fail('empty expression');
  const root = sum();
  if (i < toks.length) fail(`unexpected "${toks[i]}"`);
  return (m) => {
    const v = evaluate(root, m);
    return Number.isFinite(v) ? v : null;
  };
}

// NaN propagates a missing metric (or 0/0) to the top, where it becomes a null score.
function evaluate(n: Node, m: Metrics): number {
  switch (n.k) {
    case 'num':
      return n.v;
    case 'var': {
      const v = m[n.metric];
      return typeof v === 'number' ? v : Number.NaN;
    }
    case 'neg':
      return -evaluate(n.a, m);
    case 'bin': {
      const a = evaluate(n.a, m);
      const b = evaluate(n.b, m);
      if (n.op === '+') return a + b;
      if (n.op === '-') return a - b;
      if (n.op === '*') return a * b;
      return a / b;
    }
    case 'call': {
      const xs = n.args.map((a) => evaluate(a, m));
      if (n.fn === 'abs') return Math.abs(xs[0]);
      if (xs.some(Number.isNaN)) return Number.NaN;
      return n.fn === 'min' ? Math.min(xs[0], xs[1]) : Math.max(xs[0], xs[1]);
    }
  }
}
