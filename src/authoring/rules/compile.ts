import type { BacktestOptions } from '../../backtest/runner.js';
import type { Timeframe } from '../../core/timeframe.js';
import {
  Adx,
  Atr,
  BollingerBands,
  Cci,
  Donchian,
  Ema,
  Macd,
  Obv,
  Rma,
  Roc,
  Rsi,
  Sma,
  StdDev,
  Stochastic,
  Vwap,
  Wma,
} from '../../indicators/index.js';
import type {
  ParamSpec,
  ParamValues,
  SeriesField,
  Strategy,
  StrategyContext,
  StrategyDefinition,
} from '../../strategy/types.js';
import { SourceError } from './errors.js';
import { type Expr, parseRules, type RulesProgram } from './parse.js';

/** Where a rules text comes from and the name its strategy gets. */
export interface RulesSource {
  readonly file: string;
  readonly name: string;
}

/** A compiled rules strategy: a definition plus the exits its `stop loss` / `take profit` / ... lines set. */
export interface RulesDefinition extends StrategyDefinition {
  readonly exits?: NonNullable<BacktestOptions['exits']>;
}

type Num = () => number;

const truthy = (x: number) => x !== 0 && !Number.isNaN(x);

// One bar source: the base bar, or the last closed bar of a higher timeframe.
interface BarSource {
  /** True when a new bar arrived since the last call (always true for the base timeframe). */
  fresh(ctx: StrategyContext): boolean;
  get(ctx: StrategyContext, field: SeriesField, ago: number): number;
}

function baseSource(): BarSource {
  return {
    fresh: () => true,
    get: (ctx, field, ago) => (ago === 0 ? ctx.bar[field] : ctx.history().get(field, ago)),
  };
}

function higherSource(tf: Timeframe): BarSource {
  let lastTime = Number.NaN;
  return {
    fresh(ctx) {
      const t = ctx.history(undefined, tf).time(0);
      if (t === lastTime || Number.isNaN(t)) return false;
      lastTime = t;
      return true;
    },
    get: (ctx, field, ago) => ctx.history(undefined, tf).get(field, ago),
  };
}

/** A streaming indicator behind one uniform face: feed it a bar, read a named output (shared with Pine). */
export interface Feed {
  push(get: (f: SeriesField) => number): void;
  read(output: string | undefined): number;
}

/** The one name -> streaming indicator list of the authoring languages (rules and Pine). */
export function makeFeed(name: string, a: number[], source: SeriesField): Feed {
  const single = (ind: { update(x: number): number }): Feed => {
    let v = Number.NaN;
    return { push: (get) => void (v = ind.update(get(source))), read: () => v };
  };
  switch (name) {
    case 'sma':
      return single(new Sma(a[0]));
    case 'ema':
      return single(new Ema(a[0]));
    case 'wma':
      return single(new Wma(a[0]));
    case 'rma':
      return single(new Rma(a[0]));
    case 'rsi':
      return single(new Rsi(a[0] ?? 14));
    case 'roc':
      return single(new Roc(a[0]));
    case 'stddev':
      return single(new StdDev(a[0]));
    case 'macd': {
      const m = new Macd(a[0] ?? 12, a[1] ?? 26, a[2] ?? 9);
      return {
        push: (get) => void m.update(get(source)),
        read: (o) => (o === 'signal' ? m.signal : o === 'histogram' ? m.histogram : m.macd),
      };
    }
    case 'bbands': {
      const b = new BollingerBands(a[0] ?? 20, a[1] ?? 2);
      return {
        push: (get) => void b.update(get(source)),
        read: (o) => (o === 'upper' ? b.upper : o === 'lower' ? b.lower : b.middle),
      };
    }
    case 'atr': {
      const x = new Atr(a[0] ?? 14);
      let v = Number.NaN;
      return { push: (get) => void (v = x.update(get('high'), get('low'), get('close'))), read: () => v };
    }
    case 'cci': {
      const x = new Cci(a[0] ?? 20);
      let v = Number.NaN;
      return { push: (get) => void (v = x.update(get('high'), get('low'), get('close'))), read: () => v };
    }
    case 'adx': {
      const x = new Adx(a[0] ?? 14);
      return {
        push: (get) => void x.update(get('high'), get('low'), get('close')),
        read: (o) => (o === 'plusdi' ? x.plusDi : o === 'minusdi' ? x.minusDi : x.adx),
      };
    }
    case 'stoch': {
      const x = new Stochastic(a[0] ?? 14, a[1] ?? 3, a[2] ?? 3);
      return {
        push: (get) => void x.update(get('high'), get('low'), get('close')),
        read: (o) => (o === 'd' ? x.d : x.k),
      };
    }
    case 'donchian': {
      const x = new Donchian(a[0] ?? 20);
      return {
        push: (get) => void x.update(get('high'), get('low')),
        read: (o) => (o === 'upper' ? x.upper : o === 'lower' ? x.lower : x.middle),
      };
    }
    case 'obv': {
      const x = new Obv();
      let v = Number.NaN;
      return { push: (get) => void (v = x.update(get('close'), get('volume'))), read: () => v };
    }
    case 'vwap': {
      const x = new Vwap();
      let v = Number.NaN;
      return {
        push: (get) => void (v = x.update(get('time'), get('high'), get('low'), get('close'), get('volume'))),
        read: () => v,
      };
    }
    default:
      throw new Error(`no indicator ${name}`);
  }
}

/** The per-symbol program: updates every indicator and cross once per bar, then answers the four signals. */
interface SymbolProgram {
  step(ctx: StrategyContext): void;
  readonly buy?: Num;
  readonly sell?: Num;
  readonly short?: Num;
  readonly cover?: Num;
}

function instantiate(prog: RulesProgram, params: ParamValues, fail: (e: Expr, msg: string) => never): SymbolProgram {
  let ctx: StrategyContext;
  const steps: ((c: StrategyContext) => void)[] = [];
  const crosses: (() => void)[] = [];
  const sources = new Map<string, BarSource>();
  const sourceOf = (tf: string | undefined): BarSource => {
    const key = tf ?? '';
    let s = sources.get(key);
    if (!s) {
      s = tf === undefined ? baseSource() : higherSource(tf as Timeframe);
      sources.set(key, s);
    }
    return s;
  };
  const constant = (e: Expr): number => {
    switch (e.kind) {
      case 'num':
        return e.value;
      case 'param':
        return params[e.name] as number;
      case 'neg':
        return -constant(e.expr);
      case 'bin':
        if (['+', '-', '*', '/'].includes(e.op)) {
          const l = constant(e.left);
          const r = constant(e.right);
          return e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : l / r;
        }
        return fail(e, 'an indicator argument must be a number, a parameter or arithmetic of those');
      default:
        return fail(e, 'an indicator argument must be a number, a parameter or arithmetic of those');
    }
  };
  const build = (e: Expr): Num => {
    switch (e.kind) {
      case 'num': {
        const v = e.value;
        return () => v;
      }
      case 'param': {
        const v = params[e.name] as number;
        return () => v;
      }
      case 'price': {
        const src = sourceOf(e.tf);
        const f = e.field as SeriesField;
        const ago = e.ago;
        return () => src.get(ctx, f, ago);
      }
      case 'ind': {
        const args = e.args.map(constant);
        let feed: Feed;
        try {
          feed = makeFeed(e.name, args, (e.source ?? 'close') as SeriesField);
        } catch (err) {
          return fail(e, (err as Error).message);
        }
        const src = sourceOf(e.tf);
        const out = e.output;
        // Past values for `x[n]`: a ring of the last n+1 outputs, filled whenever the indicator takes a bar.
        const ring = new Float64Array(e.ago + 1).fill(Number.NaN);
        let k = 0;
        const getter = (f: SeriesField) => src.get(ctx, f, 0);
        steps.push((c) => {
          if (!src.fresh(c)) return;
          feed.push(getter);
          k = (k + 1) % ring.length;
          ring[k] = feed.read(out);
        });
        const ago = e.ago;
        return ago === 0 ? () => ring[k] : () => ring[(k - ago + ring.length * 2) % ring.length];
      }
      case 'neg': {
        const x = build(e.expr);
        return () => -x();
      }
      case 'not': {
        const x = build(e.expr);
        return () => (truthy(x()) ? 0 : 1);
      }
      case 'cross': {
        const l = build(e.left);
        const r = build(e.right);
        let pl = Number.NaN;
        let pr = Number.NaN;
        let hit = 0;
        const above = e.dir === 'above';
        crosses.push(() => {
          const a = l();
          const b = r();
          hit = (above ? a > b && pl <= pr : a < b && pl >= pr) ? 1 : 0;
          pl = a;
          pr = b;
        });
        return () => hit;
      }
      case 'bin': {
        const l = build(e.left);
        const r = build(e.right);
        switch (e.op) {
          case 'and':
            return () => (truthy(l()) && truthy(r()) ? 1 : 0);
          case 'or':
            return () => (truthy(l()) || truthy(r()) ? 1 : 0);
          case '<':
            return () => (l() < r() ? 1 : 0);
          case '<=':
            return () => (l() <= r() ? 1 : 0);
          case '>':
            return () => (l() > r() ? 1 : 0);
          case '>=':
            return () => (l() >= r() ? 1 : 0);
          case '==':
            return () => (l() === r() ? 1 : 0);
          case '!=':
            return () => (l() !== r() ? 1 : 0);
          case '+':
            return () => l() + r();
          case '-':
            return () => l() - r();
          case '*':
            return () => l() * r();
          default:
            return () => l() / r();
        }
      }
    }
  };
  const s = prog.signals;
  const out: { -readonly [K in keyof SymbolProgram]: SymbolProgram[K] } = {
    step(c) {
      ctx = c;
      for (const f of steps) f(c);
      for (const f of crosses) f();
    },
  };
  if (s.buy) out.buy = build(s.buy);
  if (s.sell) out.sell = build(s.sell);
  if (s.short) out.short = build(s.short);
  if (s.cover) out.cover = build(s.cover);
  return out;
}

/** Runs the four signals with the built-ins' conventions: exits first, one entry per bar, reversals close first. */
class RulesStrategy implements Strategy {
  private perSymbol: SymbolProgram[] = [];
  constructor(private readonly make: () => SymbolProgram) {}

  onStart(ctx: StrategyContext): void {
    this.perSymbol = ctx.symbols.map(() => this.make());
  }

  onBar(ctx: StrategyContext): void {
    const p = this.perSymbol[ctx.symbolIndex];
    p.step(ctx);
    const pos = ctx.position();
    let exited = false;
    if (pos > 0 && p.sell && truthy(p.sell())) {
      ctx.sell();
      exited = true;
    } else if (pos < 0 && p.cover && truthy(p.cover())) {
      ctx.cover();
      exited = true;
    }
    if (pos <= 0 && p.buy && truthy(p.buy())) {
      if (pos < 0 && !exited) ctx.cover();
      ctx.buy();
    } else if (pos >= 0 && p.short && truthy(p.short())) {
      if (pos > 0 && !exited) ctx.sell();
      ctx.short();
    }
  }
}

function paramSpec(d: RulesProgram['params'][number]): ParamSpec {
  const isInt = [d.value, d.min, d.max, d.step].every((v) => v === undefined || Number.isInteger(v));
  return {
    name: d.name,
    type: isInt ? 'int' : 'float',
    default: d.value,
    ...(d.min !== undefined ? { min: d.min } : {}),
    ...(d.max !== undefined ? { max: d.max } : {}),
    ...(d.step !== undefined ? { step: d.step } : isInt && d.min !== undefined ? { step: 1 } : {}),
    description: d.min !== undefined ? `declared in ${d.min}..${d.max}` : 'declared in the rules',
  };
}

function collectTimeframes(e: Expr | undefined, into: Set<string>): void {
  if (!e) return;
  if ((e.kind === 'price' || e.kind === 'ind') && e.tf) into.add(e.tf);
  if (e.kind === 'bin' || e.kind === 'cross') {
    collectTimeframes(e.left, into);
    collectTimeframes(e.right, into);
  }
  if (e.kind === 'neg' || e.kind === 'not') collectTimeframes(e.expr, into);
  if (e.kind === 'ind') for (const a of e.args) collectTimeframes(a, into);
}

/**
 * Compiles a rule-language text (docs/rules.md) into a strategy definition: its `param` lines become typed
 * parameters the optimiser searches, its exit lines the run's exits. Mistakes throw a SourceError with line,
 * column, a caret and the nearest valid word.
 */
export function compileRules(text: string, src: RulesSource): RulesDefinition {
  const prog = parseRules(text, src.file);
  const fail = (e: Expr, msg: string): never => {
    throw new SourceError(src.file, text, e.pos.line, e.pos.col, msg);
  };
  const tfs = new Set<string>();
  for (const e of Object.values(prog.signals)) collectTimeframes(e, tfs);
  // Build once with the defaults so a bad indicator argument is reported now, with its line.
  const defaults = Object.fromEntries(prog.params.map((p) => [p.name, p.value]));
  instantiate(prog, defaults, fail);
  const exits: {
    -readonly [K in keyof NonNullable<RulesDefinition['exits']>]: NonNullable<RulesDefinition['exits']>[K];
  } = {};
  if (prog.stopLoss !== undefined) exits.stopLoss = prog.stopLoss;
  if (prog.takeProfit !== undefined) exits.takeProfit = prog.takeProfit;
  if (prog.trailing) {
    exits.trailingStop = {
      enabled: true,
      positive: prog.trailing.distance,
      ...(prog.trailing.after !== undefined ? { offset: prog.trailing.after, onlyOffsetReached: true } : {}),
    };
  }
  if (prog.breakEven !== undefined) exits.breakeven = { trigger: prog.breakEven };
  return {
    name: src.name,
    description: `rules from ${src.file}`,
    params: prog.params.map(paramSpec),
    ...(tfs.size > 0 ? { requires: { timeframes: [...tfs] as Timeframe[] } } : {}),
    ...(Object.keys(exits).length > 0 ? { exits } : {}),
    create: (p) => new RulesStrategy(() => instantiate(prog, p, fail)),
  };
}
