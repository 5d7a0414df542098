import { trueRange } from '../../indicators/atr.js';
import type {
  ParamSpec,
  ParamValues,
  SeriesField,
  Strategy,
  StrategyContext,
  StrategyDefinition,
} from '../../strategy/types.js';
import { type Feed, makeFeed } from '../rules/compile.js';
import { nearestWord, SourceError } from '../rules/errors.js';
import type { ExitConfig } from '../../core/run-spec.js';
import { type ExitRequest, MINTICK, PineBroker, type QtyRule } from './broker.js';
import { scriptVersion } from './lexer.js';
import { lowerPercentExits } from './lower-exits.js';
import { type Expr, type PineScript, type Pos, parsePine, type Stmt } from './parse.js';

/** Where a Pine text comes from and the name its strategy gets. */
export interface PineSource {
  readonly file: string;
  readonly name: string;
}

/** Run settings a Pine script's `strategy(...)` declares; the CLI applies them unless a flag overrides. */
export interface PineRunSettings {
  /** `initial_capital`. */
  readonly cash?: number;
  /** `commission_value` / 100 with `commission_type=strategy.commission.percent`. */
  readonly fee?: number;
  /** `process_orders_on_close=true`: market orders fill at the signal bar's close. */
  readonly marketFill?: 'close';
}

/** A compiled Pine strategy: a definition plus the run settings of its `strategy(...)` call. */
export interface PineDefinition extends StrategyDefinition {
  /** Percent stop / target exits lowered to the run's exits (see lower-exits.ts). */
  readonly exits?: ExitConfig;
  readonly pine: { readonly title: string; readonly version: number; readonly settings: PineRunSettings };
}

/** A Pine value: numbers (na is NaN), booleans, strings, and tuples returned by ta.macd / ta.bb / functions. */
type V = number | boolean | string | V[];
type Fn = () => V;
/** A compiled statement: 0 carries on, 1 is `break`, 2 is `continue`. */
type Exec = () => number;

const truthy = (v: V): boolean => v === true || (typeof v === 'number' && v !== 0 && !Number.isNaN(v));
const num = (v: V): number => (typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : Number.NaN);
const isNa = (v: V): boolean => typeof v === 'number' && Number.isNaN(v);

/** Largest `x[n]` kept for a history reference whose offset is not a constant (TradingView's max_bars_back). */
const MAX_BARS_BACK = 5000;
/** Loop iterations one bar may run before the script is stopped (a runaway loop, not a hang). */
const MAX_ITERATIONS_PER_BAR = 100_000;
/** Compiled nodes one script may expand to (user functions are inlined per call site). */
const MAX_NODES = 200_000;

/** Past values of one series: `get(0)` is the current value, `get(n)` the value n bars ago. */
class History {
  private readonly buf: V[];
  private head = 0;
  private size = 0;
  constructor(readonly depth: number) {
    this.buf = new Array<V>(depth).fill(Number.NaN);
  }
  push(v: V): void {
    this.head = (this.head + 1) % this.buf.length;
    this.buf[this.head] = v;
    if (this.size < this.buf.length) this.size++;
  }
  /** The value committed `n` >= 1 bars ago (NaN beyond what is kept). */
  past(n: number): V {
    if (n > this.size) return Number.NaN;
    return this.buf[(this.head - (n - 1) + this.buf.length * 2) % this.buf.length];
  }
}

interface Slot {
  v: V;
  /** Deepest history reference seen (0: none), then the history kept. */
  need: number;
  hist: History | null;
  readonly builtin?: boolean;
}

class Scope {
  readonly vars = new Map<string, Slot>();
  constructor(readonly parent: Scope | null) {}
  find(name: string): Slot | undefined {
    return this.vars.get(name) ?? this.parent?.find(name);
  }
}

/** The per-run, per-symbol state compiled closures read. */
interface Runtime {
  ctx: StrategyContext;
  barIndex: number;
  iterations: number;
  broker: PineBroker;
}

interface Settings {
  title: string;
  run: PineRunSettings;
  pyramiding: number;
  qty: QtyRule;
}

interface InputDecl {
  spec: ParamSpec;
}

const BAR_FIELDS: Readonly<Record<string, SeriesField>> = {
  open: 'open',
  high: 'high',
  low: 'low',
  close: 'close',
  volume: 'volume',
  time: 'time',
};
const DERIVED = ['hl2', 'hlc3', 'ohlc4', 'hlcc4'] as const;
const SOURCES = ['open', 'high', 'low', 'close', 'volume', 'hl2', 'hlc3', 'ohlc4', 'hlcc4'];

/** Cosmetic namespaces: their names are accepted as opaque constants (arguments of plots and colors). */
const COSMETIC =
  /^(color|shape|location|size|display|plot|hline|format|position|xloc|yloc|text|font|extend|line|label)\./;
/** Calls that draw or alert: accepted and ignored (their arguments are still checked). */
const IGNORED_CALLS = new Set([
  'plot',
  'plotshape',
  'plotchar',
  'plotarrow',
  'plotcandle',
  'plotbar',
  'bgcolor',
  'barcolor',
  'hline',
  'fill',
  'alertcondition',
  'alert',
  'color.new',
  'color.rgb',
]);
/** Namespaces outside the subset, with the reason shown. */
const REFUSED_NS: readonly [RegExp, string][] = [
  [/^request\./, 'other symbols and timeframes (request.*) are not in the supported Pine subset'],
  [/^(array|matrix|map)\./, 'collections (array/matrix/map) are not in the supported Pine subset'],
  [
    /^(label|line|box|table|polyline|linefill)\./,
    'drawings (label/line/box/table) are not in the supported Pine subset',
  ],
  [/^str\./, 'string functions (str.*) are not in the supported Pine subset'],
  [
    /^(timeframe|syminfo|ticker|session|barstate|chart|dividends|earnings|splits)\./,
    'is not in the supported Pine subset',
  ],
  [/^strategy\.(risk|order|cancel|opentrades\.|closedtrades\.)/, 'is not in the supported Pine subset'],
];

/** Argument names of the built-in functions, in positional order. */
const SIGS: Readonly<Record<string, readonly string[]>> = {
  'ta.sma': ['source', 'length'],
  'ta.ema': ['source', 'length'],
  'ta.wma': ['source', 'length'],
  'ta.rma': ['source', 'length'],
  'ta.rsi': ['source', 'length'],
  'ta.roc': ['source', 'length'],
  'ta.stdev': ['source', 'length', 'biased'],
  'ta.macd': ['source', 'fastlen', 'slowlen', 'siglen'],
  'ta.bb': ['series', 'length', 'mult'],
  'ta.atr': ['length'],
  'ta.tr': ['handle_na'],
  'ta.stoch': ['source', 'high', 'low', 'length'],
  'ta.highest': ['source', 'length'],
  'ta.lowest': ['source', 'length'],
  'ta.crossover': ['source1', 'source2'],
  'ta.crossunder': ['source1', 'source2'],
  'ta.cross': ['source1', 'source2'],
  'ta.change': ['source', 'length'],
  nz: ['source', 'replacement'],
  na: ['x'],
  'math.abs': ['number'],
  'math.ceil': ['number'],
  'math.floor': ['number'],
  'math.round': ['number', 'precision'],
  'math.sqrt': ['number'],
  'math.exp': ['number'],
  'math.log': ['number'],
  'math.log10': ['number'],
  'math.sign': ['number'],
  'math.sin': ['angle'],
  'math.cos': ['angle'],
  'math.tan': ['angle'],
  'math.pow': ['base', 'exponent'],
  'math.sum': ['source', 'length'],
  'math.max': [],
  'math.min': [],
  'math.avg': [],
  'strategy.entry': [
    'id',
    'direction',
    'qty',
    'limit',
    'stop',
    'oca_name',
    'oca_type',
    'comment',
    'alert_message',
    'when',
    'disable_alert',
  ],
  'strategy.close': ['id', 'comment', 'qty', 'qty_percent', 'alert_message', 'immediately', 'when', 'disable_alert'],
  'strategy.close_all': ['comment', 'alert_message', 'immediately', 'when', 'disable_alert'],
  'strategy.exit': [
    'id',
    'from_entry',
    'qty',
    'qty_percent',
    'profit',
    'limit',
    'loss',
    'stop',
    'trail_price',
    'trail_points',
    'trail_offset',
    'oca_name',
    'comment',
    'comment_profit',
    'comment_loss',
    'comment_trailing',
    'alert_message',
    'alert_profit',
    'alert_loss',
    'alert_trailing',
    'when',
    'disable_alert',
  ],
  'input.int': ['defval', 'title', 'minval', 'maxval', 'step', 'tooltip', 'inline', 'group', 'confirm', 'display'],
  'input.float': ['defval', 'title', 'minval', 'maxval', 'step', 'tooltip', 'inline', 'group', 'confirm', 'display'],
  'input.bool': ['defval', 'title', 'tooltip', 'inline', 'group', 'confirm', 'display'],
  'input.string': ['defval', 'title', 'options', 'tooltip', 'inline', 'group', 'confirm', 'display'],
  'input.source': ['defval', 'title', 'tooltip', 'inline', 'group', 'display', 'confirm'],
  input: ['defval', 'title', 'tooltip', 'inline', 'group', 'confirm', 'display'],
  strategy: [
    'title',
    'shorttitle',
    'overlay',
    'format',
    'precision',
    'scale',
    'pyramiding',
    'calc_on_order_fills',
    'calc_on_every_tick',
    'max_bars_back',
    'backtest_fill_limits_assumption',
    'default_qty_type',
    'default_qty_value',
    'initial_capital',
    'currency',
    'slippage',
    'commission_type',
    'commission_value',
    'process_orders_on_close',
    'close_entries_rule',
    'margin_long',
    'margin_short',
    'explicit_plot_zorder',
    'max_lines_count',
    'max_labels_count',
    'max_boxes_count',
    'calc_bars_count',
    'risk_free_rate',
    'use_bar_magnifier',
    'fill_orders_on_standard_ohlc',
    'max_polylines_count',
    'dynamic_requests',
    'behind_chart',
  ],
};
const BUILTIN_VARS = [
  ...Object.keys(BAR_FIELDS),
  ...DERIVED,
  'bar_index',
  'na',
  'strategy.long',
  'strategy.short',
  'strategy.position_size',
  'strategy.position_avg_price',
  'strategy.equity',
  'strategy.netprofit',
  'strategy.opentrades',
  'strategy.fixed',
  'strategy.cash',
  'strategy.percent_of_equity',
  'strategy.commission.percent',
  'syminfo.mintick',
  'math.pi',
  'math.e',
  'barstate.isfirst',
  'barstate.isconfirmed',
];

/** Everything a compile pass collects besides closures. */
interface Unit {
  text: string;
  file: string;
  script: PineScript;
  params: ParamValues;
  inputs: Map<string, InputDecl>;
  settings: Settings | null;
  /** Top-level statements lowered to the run's exits (compiled for their errors, not run). */
  lowered: ReadonlySet<Stmt>;
}

/** Compiles a script into a runnable per-symbol program; every construct outside the subset throws here. */
function instantiate(unit: Unit, rt: Runtime): { run: () => void } {
  const { text, file } = unit;
  const fail = (p: Pos, msg: string, suggestion?: string): never => {
    throw new SourceError(file, text, p.line, Math.max(1, p.col), msg, suggestion);
  };
  const runtimeFail = fail;
  let nodes = 0;
  const slots: Slot[] = [];
  const commits: (() => void)[] = [];
  const global = new Scope(null);
  const fns = new Map<string, Extract<Stmt, { kind: 'fn' }>>();
  const inlining: string[] = [];
  let inputCount = 0;
  const eager = unit.script.version < 6;

  const newSlot = (scope: Scope, name: string, at: Pos): Slot => {
    if (scope.vars.has(name)) fail(at, `"${name}" is already declared in this scope (use := to assign)`);
    if (BUILTIN_VARS.includes(name) || name.includes('.'))
      fail(at, `"${name}" is a built-in name and cannot be declared`);
    const s: Slot = { v: Number.NaN, need: 0, hist: null };
    scope.vars.set(name, s);
    slots.push(s);
    return s;
  };

  const barValue = (field: string, ago: number): number => {
    const ctx = rt.ctx;
    const f = BAR_FIELDS[field];
    if (f !== undefined) return ago === 0 ? ctx.bar[f] : ctx.history().get(f, ago);
    const g = (x: SeriesField) => (ago === 0 ? ctx.bar[x] : ctx.history().get(x, ago));
    switch (field) {
      case 'hl2':
        return (g('high') + g('low')) / 2;
      case 'hlc3':
        return (g('high') + g('low') + g('close')) / 3;
      case 'ohlc4':
        return (g('open') + g('high') + g('low') + g('close')) / 4;
      default:
        return (g('high') + g('low') + 2 * g('close')) / 4;
    }
  };

  // ---- constants (inputs and strategy() settings) ----
  const literal = (e: Expr, what: string): V => {
    switch (e.kind) {
      case 'num':
        return e.value;
      case 'str':
        return e.value;
      case 'bool':
        return e.value;
      case 'na':
        return Number.NaN;
      case 'unary':
        if (e.op === '-' || e.op === '+') {
          const v = literal(e.expr, what);
          if (typeof v === 'number') return e.op === '-' ? -v : v;
        }
        return fail(e.pos, `${what} must be a constant`);
      case 'id':
        if (SOURCES.includes(e.name)) return e.name;
        if (e.name.startsWith('strategy.') || COSMETIC.test(e.name)) return e.name;
        return fail(e.pos, `${what} must be a constant (a number, string or true/false), not "${e.name}"`);
      case 'tuple':
        return e.items.map((x) => literal(x, what));
      default:
        return fail(e.pos, `${what} must be a constant`);
    }
  };

  type Call = Extract<Expr, { kind: 'call' }>;
  const argsOf = (c: Call): Map<string, Expr> => {
    const sig = SIGS[c.name];
    const m = new Map<string, Expr>();
    if (sig === undefined) return m;
    if (sig.length === 0) return m;
    if (c.args.length > sig.length) fail(c.args[sig.length].pos, `${c.name} takes at most ${sig.length} arguments`);
    for (let i = 0; i < c.args.length; i++) m.set(sig[i], c.args[i]);
    for (const [k, v] of c.named) {
      if (!sig.includes(k)) fail(c.namedPos.get(k) ?? c.pos, `${c.name} has no argument "${k}"`, nearestWord(k, sig));
      if (m.has(k)) fail(c.namedPos.get(k) ?? c.pos, `argument "${k}" of ${c.name} given twice`);
      m.set(k, v);
    }
    return m;
  };

  const settingsOf = (c: Call): Settings => {
    const a = argsOf(c);
    const lit = (k: string): V | undefined => {
      const e = a.get(k);
      return e === undefined ? undefined : literal(e, `strategy(${k}=)`);
    };
    const at = (k: string) => c.namedPos.get(k) ?? a.get(k)?.pos ?? c.pos;
    const title = lit('title');
    if (typeof title !== 'string') fail(c.pos, 'strategy() needs a title string as its first argument');
    if (lit('calc_on_every_tick') === true)
      fail(
        at('calc_on_every_tick'),
        'calc_on_every_tick=true is refused: tradeforge runs a script once per closed bar',
      );
    if (lit('calc_on_order_fills') === true)
      fail(at('calc_on_order_fills'), 'calc_on_order_fills=true is not in the supported Pine subset');
    if (lit('use_bar_magnifier') === true)
      fail(at('use_bar_magnifier'), 'use_bar_magnifier=true is not in the supported Pine subset');
    const slip = lit('slippage');
    if (slip !== undefined && slip !== 0)
      fail(at('slippage'), "slippage= is not in the supported Pine subset (use the run's slippage settings)");
    const rule = lit('close_entries_rule');
    if (rule !== undefined && rule !== 'FIFO')
      fail(at('close_entries_rule'), 'only close_entries_rule="FIFO" is supported');
    const run: { -readonly [K in keyof PineRunSettings]: PineRunSettings[K] } = {};
    const cap = lit('initial_capital');
    if (cap !== undefined) {
      if (typeof cap !== 'number' || !(cap > 0))
        fail(at('initial_capital'), 'initial_capital must be a positive number');
      run.cash = cap as number;
    }
    const ctype = lit('commission_type');
    const cval = lit('commission_value');
    if (ctype !== undefined && ctype !== 'strategy.commission.percent') {
      fail(
        at('commission_type'),
        `commission_type=${String(ctype)} is not supported (tradeforge fees are a percentage: use strategy.commission.percent)`,
      );
    }
    if (cval !== undefined) {
      if (typeof cval !== 'number' || !(cval >= 0 && cval < 50))
        fail(at('commission_value'), 'commission_value must be a percentage in [0, 50)');
      run.fee = (cval as number) / 100;
    }
    if (lit('process_orders_on_close') === true) run.marketFill = 'close';
    const pyr = lit('pyramiding');
    if (pyr !== undefined && (typeof pyr !== 'number' || !Number.isInteger(pyr) || pyr < 0))
      fail(at('pyramiding'), 'pyramiding must be a whole number >= 0');
    if (typeof pyr === 'number' && pyr > 1)
      fail(
        at('pyramiding'),
        'pyramiding above 1 is not supported: tradeforge holds one entry per symbol and direction',
      );
    const qtype = lit('default_qty_type');
    const qval = lit('default_qty_value');
    let qty: QtyRule = { type: 'stake' };
    if (qtype !== undefined || qval !== undefined) {
      const t = qtype ?? 'strategy.fixed';
      if (t !== 'strategy.fixed' && t !== 'strategy.cash' && t !== 'strategy.percent_of_equity') {
        fail(
          at('default_qty_type'),
          `default_qty_type must be strategy.fixed, strategy.cash or strategy.percent_of_equity`,
        );
      }
      const v = qval ?? 1;
      if (typeof v !== 'number' || !(v > 0))
        fail(at('default_qty_value'), 'default_qty_value must be a positive number');
      qty = { type: (t as string).slice('strategy.'.length) as 'fixed', value: v as number };
    }
    return { title: title as string, run, pyramiding: Math.max(1, (pyr as number | undefined) ?? 0), qty };
  };

  const inputOf = (c: Call, declared: string | undefined): Fn => {
    const a = argsOf(c);
    const def = a.get('defval');
    if (def === undefined) fail(c.pos, `${c.name} needs a default value`);
    const dv = literal(def as Expr, `the default of ${c.name}`);
    const titleE = a.get('title');
    const title = titleE ? literal(titleE, `the title of ${c.name}`) : undefined;
    const slug =
      typeof title === 'string'
        ? title
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '_')
            .replace(/^_|_$/g, '')
        : '';
    const name = declared ?? (slug !== '' ? slug : `input${++inputCount}`);
    const n = (k: string): number | undefined => {
      const e = a.get(k);
      if (e === undefined) return undefined;
      const v = literal(e, `${k} of ${c.name}`);
      if (typeof v !== 'number' || !Number.isFinite(v)) return fail(e.pos, `${k} must be a number`);
      return v;
    };
    let kind = c.name;
    if (kind === 'input') {
      kind =
        typeof dv === 'boolean'
          ? 'input.bool'
          : typeof dv === 'string'
            ? SOURCES.includes(dv)
              ? 'input.source'
              : 'input.string'
            : Number.isInteger(dv)
              ? 'input.int'
              : 'input.float';
    }
    let spec: ParamSpec;
    const description = typeof title === 'string' ? title : `input of ${file}`;
    switch (kind) {
      case 'input.int':
      case 'input.float': {
        if (typeof dv !== 'number' || !Number.isFinite(dv))
          return fail((def as Expr).pos, `the default of ${c.name} must be a number`);
        const isInt = kind === 'input.int';
        if (isInt && !Number.isInteger(dv)) fail((def as Expr).pos, 'the default of input.int must be a whole number');
        const min = n('minval');
        const max = n('maxval');
        const step = n('step');
        if (min !== undefined && max !== undefined && min > max)
          fail(c.pos, `minval (${min}) is above maxval (${max})`);
        if ((min !== undefined && dv < min) || (max !== undefined && dv > max))
          fail((def as Expr).pos, `the default ${dv} is outside minval..maxval`);
        if (step !== undefined && !(step > 0)) fail(c.pos, 'step must be positive');
        spec = {
          name,
          type: isInt ? 'int' : 'float',
          default: dv,
          ...(min !== undefined ? { min } : {}),
          ...(max !== undefined ? { max } : {}),
          ...(step !== undefined ? { step } : isInt && min !== undefined && max !== undefined ? { step: 1 } : {}),
          description,
        };
        break;
      }
      case 'input.bool':
        if (typeof dv !== 'boolean') return fail((def as Expr).pos, 'the default of input.bool must be true or false');
        spec = { name, type: 'bool', default: dv, description };
        break;
      case 'input.string': {
        if (typeof dv !== 'string') return fail((def as Expr).pos, 'the default of input.string must be a string');
        const opts = a.get('options');
        const values = opts ? literal(opts, 'options') : undefined;
        if (values !== undefined && (!Array.isArray(values) || values.some((x) => typeof x !== 'string'))) {
          fail((opts as Expr).pos, 'options must be a list of strings');
        }
        if (Array.isArray(values) && !values.includes(dv))
          fail((def as Expr).pos, `the default "${dv}" is not one of the options`);
        spec = Array.isArray(values)
          ? { name, type: 'enum', default: dv, values: values as string[], description }
          : { name, type: 'enum', default: dv, values: [dv], description };
        break;
      }
      default: {
        if (typeof dv !== 'string' || !SOURCES.includes(dv))
          return fail((def as Expr).pos, `the default of input.source must be one of ${SOURCES.join(', ')}`);
        spec = { name, type: 'enum', default: dv, values: SOURCES, description };
      }
    }
    const prev = unit.inputs.get(name);
    if (prev && prev.spec.type !== spec.type) fail(c.pos, `two inputs are named "${name}"`);
    unit.inputs.set(name, { spec });
    const value = unit.params[name] ?? spec.default;
    if (kind === 'input.source') {
      const field = String(value);
      return () => barValue(field, 0);
    }
    return () => value;
  };

  // ---- expressions ----
  const compileExpr = (e: Expr, scope: Scope, inLoop: boolean, declared?: string): Fn => {
    if (++nodes > MAX_NODES)
      fail(e.pos, 'the script expands to too much code (user functions are inlined at each call)');
    switch (e.kind) {
      case 'num': {
        const v = e.value;
        return () => v;
      }
      case 'str': {
        const v = e.value;
        return () => v;
      }
      case 'bool': {
        const v = e.value;
        return () => v;
      }
      case 'na':
        return () => Number.NaN;
      case 'id':
        return identifier(e.name, e.pos, scope);
      case 'tuple':
        return fail(e.pos, 'a tuple [a, b] is only allowed as the last line of a function or on the left of =');
      case 'index':
        return history(e, scope, inLoop);
      case 'unary': {
        const x = compileExpr(e.expr, scope, inLoop);
        if (e.op === 'not') return () => !truthy(x());
        if (e.op === '+') return () => num(x());
        return () => -num(x());
      }
      case 'tern': {
        const c = compileExpr(e.cond, scope, inLoop);
        const a = compileExpr(e.whenTrue, scope, inLoop);
        const b = compileExpr(e.whenFalse, scope, inLoop);
        return () => (truthy(c()) ? a() : b());
      }
      case 'bin':
        return binary(e, scope, inLoop);
      case 'call':
        return call(e, scope, inLoop, declared);
    }
  };

  const binary = (e: Extract<Expr, { kind: 'bin' }>, scope: Scope, inLoop: boolean): Fn => {
    const l = compileExpr(e.left, scope, inLoop);
    const r = compileExpr(e.right, scope, inLoop);
    switch (e.op) {
      // Pine v5 evaluates both operands (so series and ta.* state on the right advance every bar); v6 is lazy.
      case 'and':
        if (eager)
          return () => {
            const a = truthy(l());
            return truthy(r()) && a;
          };
        return () => truthy(l()) && truthy(r());
      case 'or':
        if (eager)
          return () => {
            const a = truthy(l());
            return truthy(r()) || a;
          };
        return () => truthy(l()) || truthy(r());
      case '+':
        return () => {
          const a = l();
          const b = r();
          if (typeof a === 'string' || typeof b === 'string') {
            if (typeof a === 'string' && typeof b === 'string') return a + b;
            return Number.NaN;
          }
          return num(a) + num(b);
        };
      case '-':
        return () => num(l()) - num(r());
      case '*':
        return () => num(l()) * num(r());
      case '/':
        return () => {
          const d = num(r());
          return d === 0 ? Number.NaN : num(l()) / d;
        };
      case '%':
        return () => {
          const d = num(r());
          return d === 0 ? Number.NaN : num(l()) % d;
        };
      case '==':
      case '!=': {
        const neq = e.op === '!=';
        return () => {
          const a = l();
          const b = r();
          if (isNa(a) || isNa(b)) return false;
          const same = typeof a === typeof b ? a === b : num(a) === num(b);
          return neq ? !same : same;
        };
      }
      case '<':
        return () => num(l()) < num(r());
      case '<=':
        return () => num(l()) <= num(r());
      case '>':
        return () => num(l()) > num(r());
      default:
        return () => num(l()) >= num(r());
    }
  };

  const identifier = (name: string, at: Pos, scope: Scope): Fn => {
    const s = scope.find(name);
    if (s) return () => s.v;
    switch (name) {
      // The hot path of most scripts: one property read, no lookup.
      case 'close':
        return () => rt.ctx.bar.close;
      case 'open':
        return () => rt.ctx.bar.open;
      case 'high':
        return () => rt.ctx.bar.high;
      case 'low':
        return () => rt.ctx.bar.low;
    }
    if (BAR_FIELDS[name] !== undefined || (DERIVED as readonly string[]).includes(name)) return () => barValue(name, 0);
    switch (name) {
      case 'bar_index':
        return () => rt.barIndex;
      case 'strategy.long':
        return () => 'long';
      case 'strategy.short':
        return () => 'short';
      case 'strategy.position_size':
        return () => rt.ctx.position();
      case 'strategy.position_avg_price':
        return () => (rt.ctx.position() === 0 ? Number.NaN : rt.ctx.portfolio.averagePrice(rt.ctx.symbol));
      case 'strategy.equity':
        return () => rt.ctx.portfolio.equity();
      case 'strategy.netprofit':
        return () => rt.ctx.portfolio.realizedPnl;
      case 'strategy.opentrades':
        return () => rt.broker.openTrades;
      case 'syminfo.mintick':
        return () => MINTICK;
      case 'math.pi':
        return () => Math.PI;
      case 'math.e':
        return () => Math.E;
      case 'barstate.isfirst':
        return () => rt.barIndex === 0;
      case 'barstate.isconfirmed':
        return () => true;
    }
    if (name.startsWith('strategy.') && BUILTIN_VARS.includes(name)) return () => name;
    if (COSMETIC.test(name)) return () => name;
    for (const [re, why] of REFUSED_NS) if (re.test(name)) fail(at, why.startsWith('is ') ? `"${name}" ${why}` : why);
    if (fns.has(name) || SIGS[name] !== undefined) fail(at, `"${name}" is a function: call it with (...)`);
    const known = [...BUILTIN_VARS, ...allNames(scope)];
    return fail(at, `unknown name "${name}"`, nearestWord(name, known));
  };

  const allNames = (scope: Scope | null): string[] => (scope ? [...scope.vars.keys(), ...allNames(scope.parent)] : []);

  // `x[n]`: a variable's or a bar field's past, or a per-site history of any expression.
  const history = (e: Extract<Expr, { kind: 'index' }>, scope: Scope, inLoop: boolean): Fn => {
    const idx = compileExpr(e.index, scope, inLoop);
    const constant = e.index.kind === 'num' ? e.index.value : undefined;
    if (constant !== undefined && (!Number.isInteger(constant) || constant < 0))
      fail(e.index.pos, 'a history offset must be a whole number >= 0');
    const depth = constant !== undefined ? constant : MAX_BARS_BACK;
    if (depth > MAX_BARS_BACK)
      fail(e.index.pos, `a history offset above ${MAX_BARS_BACK} (max_bars_back) is not supported`);
    const offset = (): number => {
      const n = num(idx());
      if (Number.isNaN(n)) return Number.NaN;
      if (!Number.isInteger(n) || n < 0)
        return runtimeFail(e.index.pos, `history offset ${n} is not a whole number >= 0`);
      return n > depth ? Number.NaN : n;
    };
    const t = e.target;
    if (t.kind === 'id') {
      const s = scope.find(t.name);
      if (s) {
        s.need = Math.max(s.need, depth);
        return () => {
          const n = offset();
          if (Number.isNaN(n)) return Number.NaN;
          return n === 0 ? s.v : (s.hist as History).past(n);
        };
      }
      if (BAR_FIELDS[t.name] !== undefined || (DERIVED as readonly string[]).includes(t.name)) {
        const f = t.name;
        return () => {
          const n = offset();
          return Number.isNaN(n) ? Number.NaN : barValue(f, n);
        };
      }
      if (t.name === 'bar_index') {
        return () => {
          const n = offset();
          return Number.isNaN(n) || n > rt.barIndex ? Number.NaN : rt.barIndex - n;
        };
      }
    }
    const inner = compileExpr(t, scope, inLoop);
    const h = new History(Math.max(1, depth));
    let cur: V = Number.NaN;
    let seen = false;
    commits.push(() => {
      if (seen) h.push(cur);
      seen = false;
    });
    return () => {
      cur = inner();
      seen = true;
      const n = offset();
      if (Number.isNaN(n)) return Number.NaN;
      return n === 0 ? cur : h.past(n);
    };
  };

  const call = (c: Call, scope: Scope, inLoop: boolean, declared?: string): Fn => {
    const name = c.name;
    const user = fns.get(name);
    if (user) return userCall(user, c, scope, inLoop);
    if (IGNORED_CALLS.has(name)) {
      for (const a of c.args) compileExpr(a, scope, inLoop);
      for (const a of c.named.values()) if (a.kind !== 'tuple') compileExpr(a, scope, inLoop);
      return () => Number.NaN;
    }
    if (name === 'strategy') return fail(c.pos, 'strategy(...) must be a top-level statement, called once');
    if (name === 'indicator' || name === 'library')
      fail(c.pos, `${name}() scripts are not strategies: declare strategy("title", ...)`);
    if (name.startsWith('input')) {
      if (SIGS[name] === undefined)
        fail(c.pos, `"${name}" is not in the supported Pine subset (inputs: input.int/float/bool/string/source)`);
      return inputOf(c, declared);
    }
    if (name.startsWith('ta.') && SIGS[name] !== undefined) {
      if (inLoop)
        fail(
          c.pos,
          `${name} inside a for loop is not in the supported Pine subset (call it once per bar, outside the loop)`,
        );
      return ta(c, scope, inLoop);
    }
    if (name.startsWith('strategy.') && SIGS[name] !== undefined) return strategyCall(c, scope, inLoop);
    if (SIGS[name] !== undefined) return mathCall(c, scope, inLoop);
    for (const [re, why] of REFUSED_NS)
      if (re.test(name)) fail(c.pos, why.startsWith('is ') ? `"${name}" ${why}` : why);
    const known = [...Object.keys(SIGS), ...fns.keys()];
    return fail(c.pos, `unknown function "${name}"`, nearestWord(name, known));
  };

  const need = (a: Map<string, Expr>, k: string, c: Call): Expr => {
    const e = a.get(k);
    if (e === undefined) return fail(c.pos, `${c.name} needs the argument "${k}"`);
    return e;
  };

  // A length argument: evaluated on the first call (Pine's "simple int"), then fixed.
  const lengthOf = (e: Expr, scope: Scope, inLoop: boolean) => {
    const f = compileExpr(e, scope, inLoop);
    return (): number => num(f());
  };

  const feedCall = (c: Call, ind: string, lengths: (() => number)[], get: (f: SeriesField) => number): (() => Feed) => {
    let feed: Feed | null = null;
    return () => {
      if (feed === null) {
        const args = lengths.map((l) => l());
        try {
          feed = makeFeed(ind, args, 'close');
        } catch (err) {
          return runtimeFail(c.pos, `${c.name}: ${(err as Error).message}`);
        }
      }
      feed.push(get);
      return feed;
    };
  };

  const ta = (c: Call, scope: Scope, inLoop: boolean): Fn => {
    const a = argsOf(c);
    const src = (k = 'source'): Fn => compileExpr(need(a, k, c), scope, inLoop);
    const len = (k = 'length'): (() => number) => lengthOf(need(a, k, c), scope, inLoop);
    const barGet = (f: SeriesField) => rt.ctx.bar[f];
    // A one-input smoother: na inputs are skipped (the output holds), as the indicators cannot take NaN.
    const smooth = (ind: string, extra: (() => number)[] = []): Fn => {
      const s = src(c.name === 'ta.bb' ? 'series' : 'source');
      let cur = 0;
      const step = feedCall(c, ind, [len(), ...extra], () => cur);
      let feed: Feed | null = null;
      return () => {
        const v = num(s());
        if (Number.isNaN(v)) return feed ? feed.read(undefined) : Number.NaN;
        cur = v;
        feed = step();
        return feed.read(undefined);
      };
    };
    switch (c.name) {
      case 'ta.sma':
        return smooth('sma');
      case 'ta.ema':
        return smooth('ema');
      case 'ta.wma':
        return smooth('wma');
      case 'ta.rma':
        return smooth('rma');
      case 'ta.rsi':
        return smooth('rsi');
      case 'ta.roc':
        return smooth('roc');
      case 'ta.stdev': {
        const b = a.get('biased');
        if (b !== undefined && literal(b, 'biased') !== true)
          fail(b.pos, 'only biased=true (population) ta.stdev is supported');
        return smooth('stddev');
      }
      case 'ta.macd':
      case 'ta.bb': {
        const isMacd = c.name === 'ta.macd';
        const s = src(isMacd ? 'source' : 'series');
        const lens = isMacd
          ? [len('fastlen'), len('slowlen'), len('siglen')]
          : [len('length'), lengthOf(need(a, 'mult', c), scope, inLoop)];
        let cur = 0;
        const step = feedCall(c, isMacd ? 'macd' : 'bbands', lens, () => cur);
        let feed: Feed | null = null;
        const out = (): V =>
          feed === null
            ? [Number.NaN, Number.NaN, Number.NaN]
            : isMacd
              ? [feed.read(undefined), feed.read('signal'), feed.read('histogram')]
              : [feed.read('middle'), feed.read('upper'), feed.read('lower')];
        return () => {
          const v = num(s());
          if (!Number.isNaN(v)) {
            cur = v;
            feed = step();
          }
          return out();
        };
      }
      case 'ta.atr': {
        const step = feedCall(c, 'atr', [len()], barGet);
        return () => step().read(undefined);
      }
      case 'ta.tr':
        return () =>
          rt.barIndex === 0 ? Number.NaN : trueRange(rt.ctx.bar.high, rt.ctx.bar.low, barValue('close', 1));
      case 'ta.stoch': {
        const s = src();
        const hi = compileExpr(need(a, 'high', c), scope, inLoop);
        const lo = compileExpr(need(a, 'low', c), scope, inLoop);
        const vals = { close: 0, high: 0, low: 0 };
        const step = feedCall(c, 'stoch', [len(), () => 1, () => 1], (f) => vals[f as 'close']);
        return () => {
          vals.close = num(s());
          vals.high = num(hi());
          vals.low = num(lo());
          if (Number.isNaN(vals.close + vals.high + vals.low)) return Number.NaN;
          return step().read('k');
        };
      }
      case 'ta.highest':
      case 'ta.lowest': {
        const upper = c.name === 'ta.highest';
        // ta.highest(length) reads high; ta.highest(source, length) the source.
        const oneArg = c.args.length === 1 && !c.named.has('length');
        const s = oneArg ? () => barValue(upper ? 'high' : 'low', 0) : src();
        const l = oneArg ? lengthOf(c.args[0], scope, inLoop) : len();
        let cur = 0;
        const step = feedCall(c, 'donchian', [l], () => cur);
        let feed: Feed | null = null;
        return () => {
          const v = num(s());
          if (Number.isNaN(v)) return feed ? feed.read(upper ? 'upper' : 'lower') : Number.NaN;
          cur = v;
          feed = step();
          return feed.read(upper ? 'upper' : 'lower');
        };
      }
      case 'ta.crossover':
      case 'ta.crossunder':
      case 'ta.cross': {
        const x = compileExpr(need(a, 'source1', c), scope, inLoop);
        const y = compileExpr(need(a, 'source2', c), scope, inLoop);
        const mode = c.name;
        let px = Number.NaN;
        let py = Number.NaN;
        return () => {
          const u = num(x());
          const w = num(y());
          const over = u > w && px <= py;
          const under = u < w && px >= py;
          px = u;
          py = w;
          return mode === 'ta.crossover' ? over : mode === 'ta.crossunder' ? under : over || under;
        };
      }
      default: {
        // ta.change(source, length = 1)
        const s = src();
        const le = a.get('length');
        const l = le ? lengthOf(le, scope, inLoop) : () => 1;
        let h: History | null = null;
        let n = 1;
        return () => {
          const v = num(s());
          if (h === null) {
            n = l();
            if (!Number.isInteger(n) || n < 1 || n > MAX_BARS_BACK)
              return runtimeFail(c.pos, `ta.change length must be a whole number in 1..${MAX_BARS_BACK}, got ${n}`);
            h = new History(n);
          }
          const old = num(h.past(n));
          h.push(v);
          return v - old;
        };
      }
    }
  };

  const mathCall = (c: Call, scope: Scope, inLoop: boolean): Fn => {
    const name = c.name;
    if (name === 'math.max' || name === 'math.min' || name === 'math.avg') {
      if (c.named.size > 0) fail(c.pos, `${name} takes positional arguments only`);
      if (c.args.length === 0) fail(c.pos, `${name} needs at least one argument`);
      const xs = c.args.map((x) => compileExpr(x, scope, inLoop));
      if (name === 'math.avg') return () => xs.reduce((s, f) => s + num(f()), 0) / xs.length;
      const pick = name === 'math.max' ? Math.max : Math.min;
      return () => pick(...xs.map((f) => num(f())));
    }
    const a = argsOf(c);
    if (name === 'na') {
      const x = compileExpr(need(a, 'x', c), scope, inLoop);
      return () => isNa(x());
    }
    if (name === 'nz') {
      const x = compileExpr(need(a, 'source', c), scope, inLoop);
      const rep = a.get('replacement');
      const y = rep ? compileExpr(rep, scope, inLoop) : () => 0;
      return () => {
        const v = x();
        return isNa(v) ? y() : v;
      };
    }
    if (name === 'math.sum') {
      const s = compileExpr(need(a, 'source', c), scope, inLoop);
      const l = lengthOf(need(a, 'length', c), scope, inLoop);
      let h: History | null = null;
      let n = 0;
      let sum = 0;
      let count = 0;
      return () => {
        const v = num(s());
        if (h === null) {
          n = l();
          if (!Number.isInteger(n) || n < 1 || n > MAX_BARS_BACK)
            return runtimeFail(c.pos, `math.sum length must be a whole number in 1..${MAX_BARS_BACK}, got ${n}`);
          h = new History(n);
        }
        sum += v;
        if (count >= n) sum -= num(h.past(n));
        else count++;
        h.push(v);
        return count >= n ? sum : Number.NaN;
      };
    }
    if (name === 'math.pow') {
      const b = compileExpr(need(a, 'base', c), scope, inLoop);
      const x = compileExpr(need(a, 'exponent', c), scope, inLoop);
      return () => num(b()) ** num(x());
    }
    if (name === 'math.round') {
      const x = compileExpr(need(a, 'number', c), scope, inLoop);
      const pe = a.get('precision');
      const p = pe ? compileExpr(pe, scope, inLoop) : () => 0;
      return () => {
        const f = 10 ** num(p());
        return Math.round(num(x()) * f) / f;
      };
    }
    const x = compileExpr(
      need(a, name === 'math.sin' || name === 'math.cos' || name === 'math.tan' ? 'angle' : 'number', c),
      scope,
      inLoop,
    );
    const f: (v: number) => number = {
      'math.abs': Math.abs,
      'math.ceil': Math.ceil,
      'math.floor': Math.floor,
      'math.sqrt': Math.sqrt,
      'math.exp': Math.exp,
      'math.log': Math.log,
      'math.log10': Math.log10,
      'math.sign': Math.sign,
      'math.sin': Math.sin,
      'math.cos': Math.cos,
      'math.tan': Math.tan,
    }[name] as (v: number) => number;
    return () => f(num(x()));
  };

  const strategyCall = (c: Call, scope: Scope, inLoop: boolean): Fn => {
    const a = argsOf(c);
    const opt = (k: string): Fn | undefined => {
      const e = a.get(k);
      return e ? compileExpr(e, scope, inLoop) : undefined;
    };
    const refuse = (...ks: string[]) => {
      for (const k of ks) {
        const e = a.get(k);
        if (e) fail(c.namedPos.get(k) ?? e.pos, `${c.name}(${k}=) is not in the supported Pine subset`);
      }
    };
    if (!eager && a.has('when'))
      fail(c.namedPos.get('when') ?? c.pos, `${c.name}(when=) was removed in Pine v6: use an if block`);
    const when = opt('when') ?? (() => true);
    const idOf =
      (f: Fn, at: Pos): (() => string) =>
      () => {
        const v = f();
        if (typeof v !== 'string') return runtimeFail(at, `${c.name}: the id must be a string`);
        return v;
      };
    switch (c.name) {
      case 'strategy.entry': {
        refuse('limit', 'stop', 'oca_name', 'oca_type');
        const id = idOf(compileExpr(need(a, 'id', c), scope, inLoop), c.pos);
        const dir = compileExpr(need(a, 'direction', c), scope, inLoop);
        const qty = opt('qty') ?? (() => Number.NaN);
        return () => {
          if (!truthy(when())) return Number.NaN;
          const d = dir();
          if (d !== 'long' && d !== 'short')
            return runtimeFail(c.pos, 'strategy.entry direction must be strategy.long or strategy.short');
          rt.broker.entry(rt.ctx, id(), d === 'long' ? 1 : -1, num(qty()));
          return Number.NaN;
        };
      }
      case 'strategy.close': {
        refuse('qty', 'qty_percent', 'immediately');
        const id = idOf(compileExpr(need(a, 'id', c), scope, inLoop), c.pos);
        return () => {
          if (truthy(when())) rt.broker.close(rt.ctx, id());
          return Number.NaN;
        };
      }
      case 'strategy.close_all':
        refuse('immediately');
        return () => {
          if (truthy(when())) rt.broker.closeAll(rt.ctx);
          return Number.NaN;
        };
      default: {
        refuse('qty', 'qty_percent', 'trail_price', 'oca_name');
        const id = idOf(compileExpr(need(a, 'id', c), scope, inLoop), c.pos);
        const from = opt('from_entry');
        const n = (k: string): Fn => opt(k) ?? (() => Number.NaN);
        const [stop, limit, profit, loss, tp, to] = [
          'stop',
          'limit',
          'profit',
          'loss',
          'trail_points',
          'trail_offset',
        ].map(n);
        if (!['stop', 'limit', 'profit', 'loss', 'trail_points'].some((k) => a.has(k))) {
          fail(c.pos, 'strategy.exit needs at least one of stop=, limit=, profit=, loss=, trail_points=');
        }
        if (a.has('trail_points') !== a.has('trail_offset'))
          fail(c.pos, 'strategy.exit needs trail_points= and trail_offset= together');
        return () => {
          if (!truthy(when())) return Number.NaN;
          const f = from ? from() : '';
          const req: ExitRequest = {
            fromEntry: typeof f === 'string' ? f : '',
            stop: num(stop()),
            limit: num(limit()),
            profit: num(profit()),
            loss: num(loss()),
            trailPoints: num(tp()),
            trailOffset: num(to()),
          };
          rt.broker.exit(id(), req);
          return Number.NaN;
        };
      }
    }
  };

  // User functions are compiled again at each call site: each site keeps its own series and indicator state.
  const userCall = (fn: Extract<Stmt, { kind: 'fn' }>, c: Call, scope: Scope, inLoop: boolean): Fn => {
    if (inlining.includes(fn.name)) fail(c.pos, `recursive call to ${fn.name}: Pine functions cannot call themselves`);
    if (c.named.size > 0) fail(c.pos, `call ${fn.name} with positional arguments`);
    if (c.args.length !== fn.params.length)
      fail(c.pos, `${fn.name} takes ${fn.params.length} argument(s), got ${c.args.length}`);
    const args = c.args.map((x) => compileExpr(x, scope, inLoop));
    inlining.push(fn.name);
    try {
      const local = new Scope(global);
      const params = fn.params.map((p) => newSlot(local, p, fn.pos));
      const body = fn.body;
      const stmts = body.slice(0, -1).map((s) => statement(s, local, inLoop, true));
      const last = body[body.length - 1];
      let result: Fn;
      if (last.kind === 'expr' && last.expr.kind === 'tuple') {
        const items = last.expr.items.map((x) => compileExpr(x, local, inLoop));
        result = () => items.map((f) => f());
      } else if (last.kind === 'expr') result = compileExpr(last.expr, local, inLoop);
      else if (last.kind === 'decl' || last.kind === 'assign') {
        const run = statement(last, local, inLoop, true);
        const s = local.find(last.name) as Slot;
        result = () => {
          run();
          return s.v;
        };
      } else return fail(last.pos, 'a function must end with an expression (its return value)');
      return () => {
        for (let i = 0; i < params.length; i++) params[i].v = args[i]();
        for (const s of stmts) s();
        return result();
      };
    } finally {
      inlining.pop();
    }
  };

  // ---- statements ----
  const block = (body: Stmt[], scope: Scope, inLoop: boolean, inFn: boolean): Exec => {
    const local = new Scope(scope);
    const xs = body.map((s) => statement(s, local, inLoop, inFn));
    return () => {
      for (const x of xs) {
        const r = x();
        if (r !== 0) return r;
      }
      return 0;
    };
  };

  const statement = (s: Stmt, scope: Scope, inLoop: boolean, inFn: boolean): Exec => {
    switch (s.kind) {
      case 'decl': {
        const e = compileExpr(s.expr, scope, inLoop, scope === global ? s.name : undefined);
        const slot = newSlot(scope, s.name, s.pos);
        if (s.isVar) {
          let done = false;
          return () => {
            if (!done) {
              slot.v = e();
              done = true;
            }
            return 0;
          };
        }
        return () => {
          slot.v = e();
          return 0;
        };
      }
      case 'tupleDecl': {
        const e = compileExpr(
          s.expr.kind === 'tuple' ? fail(s.expr.pos, 'the right side must be a call returning a tuple') : s.expr,
          scope,
          inLoop,
        );
        const targets = s.names.map((n) => (n === '_' ? null : newSlot(scope, n, s.pos)));
        return () => {
          const v = e();
          if (!Array.isArray(v)) return runtimeFail(s.pos, `the right side gives one value, not ${targets.length}`);
          if (v.length !== targets.length)
            return runtimeFail(s.pos, `the right side gives ${v.length} values, not ${targets.length}`);
          for (let i = 0; i < targets.length; i++) {
            const t = targets[i];
            if (t) t.v = v[i];
          }
          return 0;
        };
      }
      case 'assign': {
        const slot = scope.find(s.name);
        if (!slot) {
          const builtin = BUILTIN_VARS.includes(s.name) || BAR_FIELDS[s.name] !== undefined;
          return fail(
            s.pos,
            builtin
              ? `"${s.name}" is built in and cannot be assigned`
              : `"${s.name}" is not declared (declare it with = first)`,
            builtin ? undefined : nearestWord(s.name, allNames(scope)),
          );
        }
        const e = compileExpr(s.expr, scope, inLoop);
        const op = s.op;
        if (op === ':=')
          return () => {
            slot.v = e();
            return 0;
          };
        return () => {
          const a = num(slot.v);
          const b = num(e());
          slot.v =
            op === '+='
              ? a + b
              : op === '-='
                ? a - b
                : op === '*='
                  ? a * b
                  : op === '/='
                    ? b === 0
                      ? Number.NaN
                      : a / b
                    : b === 0
                      ? Number.NaN
                      : a % b;
          return 0;
        };
      }
      case 'if': {
        const c = compileExpr(s.cond, scope, inLoop);
        const a = block(s.body, scope, inLoop, inFn);
        const b = s.orElse ? block(s.orElse, scope, inLoop, inFn) : null;
        return () => (truthy(c()) ? a() : b ? b() : 0);
      }
      case 'for': {
        const from = compileExpr(s.from, scope, inLoop);
        const to = compileExpr(s.to, scope, inLoop);
        const by = s.by ? compileExpr(s.by, scope, inLoop) : null;
        const local = new Scope(scope);
        const iv = newSlot(local, s.name, s.pos);
        const body = block(s.body, local, true, inFn);
        return () => {
          const a = num(from());
          const b = num(to());
          if (Number.isNaN(a) || Number.isNaN(b)) return 0;
          let step = by ? Math.abs(num(by())) : 1;
          if (!(step > 0) || !Number.isFinite(step))
            return runtimeFail(s.pos, 'the for loop step must be a positive number');
          if (b < a) step = -step;
          for (let i = a; step > 0 ? i <= b : i >= b; i += step) {
            if (++rt.iterations > MAX_ITERATIONS_PER_BAR) {
              return runtimeFail(
                s.pos,
                `loops ran more than ${MAX_ITERATIONS_PER_BAR} iterations on one bar; the script is stopped`,
              );
            }
            iv.v = i;
            const r = body();
            if (r === 1) break;
          }
          return 0;
        };
      }
      case 'fn':
        if (scope !== global) fail(s.pos, 'functions must be declared at the top level of the script');
        if (fns.has(s.name)) fail(s.pos, `function "${s.name}" is declared twice`);
        if (SIGS[s.name] !== undefined || s.name.includes('.')) fail(s.pos, `"${s.name}" is a built-in function`);
        fns.set(s.name, s);
        return () => 0;
      case 'break':
      case 'continue':
        if (!inLoop) fail(s.pos, `"${s.kind}" outside a for loop`);
        return s.kind === 'break' ? () => 1 : () => 2;
      case 'expr': {
        const e = s.expr;
        if (e.kind === 'call' && e.name === 'strategy') {
          if (scope !== global) fail(e.pos, 'strategy(...) must be a top-level statement');
          if (unit.settings) fail(e.pos, 'strategy(...) is declared twice');
          unit.settings = settingsOf(e);
          return () => 0;
        }
        if (e.kind === 'tuple')
          fail(e.pos, 'a tuple [a, b] is only allowed as the last line of a function or on the left of =');
        const f = compileExpr(e, scope, inLoop);
        return () => {
          f();
          return 0;
        };
      }
    }
  };

  const top = unit.script.body.map((s) => {
    const x = statement(s, global, false, false);
    return unit.lowered.has(s) ? () => 0 : x;
  });
  if (!unit.settings) {
    const first = unit.script.body[0];
    fail(first ? first.pos : { line: 1, col: 1 }, 'a strategy script must call strategy("title", ...)');
  }
  for (const s of slots) {
    if (s.need > 0) {
      const h = new History(s.need);
      s.hist = h;
      commits.push(() => h.push(s.v));
    }
  }
  return {
    run() {
      rt.iterations = 0;
      for (const x of top) x();
      for (const c of commits) c();
      rt.barIndex++;
    },
  };
}

class PineStrategy implements Strategy {
  private per: { rt: Runtime; program: { run: () => void } }[] = [];
  constructor(private readonly make: () => { rt: Runtime; program: { run: () => void } }) {}

  onStart(ctx: StrategyContext): void {
    this.per = ctx.symbols.map(() => this.make());
  }

  onBar(ctx: StrategyContext): void {
    const p = this.per[ctx.symbolIndex];
    p.rt.ctx = ctx;
    p.rt.broker.startBar(ctx);
    p.program.run();
    p.rt.broker.endBar(ctx);
  }

  onFill(ctx: StrategyContext, fill: Parameters<NonNullable<Strategy['onFill']>>[1]): void {
    const i = ctx.symbols.indexOf(fill.symbol);
    const p = this.per[i];
    if (p) p.rt.broker.onFill(ctx, fill);
  }
}

/**
 * Compiles a Pine Script strategy (the subset in docs/pine.md) into a strategy definition. Its inputs become
 * typed parameters (with the optimiser ranges minval/maxval/step give); its `strategy(...)` run settings are
 * on `pine.settings`. Anything outside the subset throws a SourceError naming line and column with a caret.
 */
export function compilePine(text: string, src: PineSource): PineDefinition {
  const version = scriptVersion(text, src.file);
  const script = parsePine(text, src.file, version);
  const { exits, replaced: lowered } = lowerPercentExits(script);
  const probe: Unit = { text, file: src.file, script, params: {}, inputs: new Map(), settings: null, lowered };
  const dummy = {
    ctx: undefined as unknown as StrategyContext,
    barIndex: 0,
    iterations: 0,
    broker: new PineBroker(1, { type: 'stake' }),
  };
  instantiate(probe, dummy);
  const settings = probe.settings as unknown as Settings;
  const params = [...probe.inputs.values()].map((i) => i.spec);
  const make = (p: ParamValues) => () => {
    const unit: Unit = { text, file: src.file, script, params: p, inputs: new Map(), settings: null, lowered };
    const rt: Runtime = {
      ctx: undefined as unknown as StrategyContext,
      barIndex: 0,
      iterations: 0,
      broker: new PineBroker(settings.pyramiding, settings.qty),
    };
    return { rt, program: instantiate(unit, rt) };
  };
  return {
    name: src.name,
    description: `Pine Script "${settings.title}" from ${src.file}`,
    params,
    pine: { title: settings.title, version, settings: settings.run },
    ...(exits ? { exits } : {}),
    create: (p) => new PineStrategy(make(p)),
  };
}
