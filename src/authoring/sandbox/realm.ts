import vm from 'node:vm';
import type { Tick } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import type { Fill } from '../../core/fill.js';
import type { Order, OrderSide } from '../../core/order.js';
import type { Timeframe } from '../../core/timeframe.js';
import type {
  LogLevel,
  OrderOptions,
  ParamValues,
  SeriesField,
  Strategy,
  StrategyContext,
  StrategyDefinition,
} from '../../strategy/types.js';
import { SDK_MODULE } from '../sdk.js';
import { ALLOCATION_BOUNDS_SOURCE } from './allocation-bounds.js';
import { MEMBRANE_SOURCE } from './membrane.js';
import { sdkBundleSource } from './sdk-bundle.js';

/** CPU budget of evaluating a strategy file's top level (defining its classes and its definition). */
const LOAD_TIMEOUT_MS = 2000;

const FIELDS: readonly SeriesField[] = ['time', 'open', 'high', 'low', 'close', 'volume'];

// Values that live in the sandbox realm; the host only calls them and reads primitives from them.
type Foreign = Record<string, unknown>;
type ForeignFn = (...args: unknown[]) => unknown;

/** A sandbox: a V8 context with code generation from strings off, the SDK evaluated inside it, and the membrane. */
interface Realm {
  readonly context: vm.Context;
  readonly makeContext: (bridge: object) => Foreign;
  readonly parse: (json: string) => unknown;
  readonly stringify: (value: unknown) => string | undefined;
  readonly require: ForeignFn;
}

function createRealm(): Realm {
  const context = vm.createContext(Object.create(null), {
    name: 'tradeforge strategy sandbox',
    codeGeneration: { strings: false, wasm: false },
  });
  const run = (code: string, filename: string) => new vm.Script(code, { filename }).runInContext(context);
  // Bounds on single allocations first, so the SDK and the strategy see only the bounded constructors.
  (run(ALLOCATION_BOUNDS_SOURCE, 'allocation-bounds') as { call: (self: unknown) => void }).call(
    run('globalThis', 'global'),
  );
  const sdk = run(sdkBundleSource(), 'tradeforge/sdk') as { sdkValues: () => unknown };
  const values = sdk.sdkValues();
  const makeRequire = run(
    `(function (sdk) { return function require(id) { if (id === ${JSON.stringify(SDK_MODULE)}) return sdk; throw new Error('a strategy may import only ${SDK_MODULE}, not ' + id); }; })`,
    'require',
  ) as (sdk: unknown) => ForeignFn;
  return {
    context,
    makeContext: run(MEMBRANE_SOURCE, 'membrane') as Realm['makeContext'],
    parse: run('JSON.parse', 'json') as Realm['parse'],
    stringify: run('JSON.stringify', 'json') as Realm['stringify'],
    require: makeRequire(values),
  };
}

// A host error crosses into the sandbox as a string, never as a host object.
function guarded<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R {
  return (...args: A) => {
    try {
      return f(...args);
    } catch (err) {
      throw err instanceof Error ? err.message : String(err);
    }
  };
}

function field(name: string): SeriesField {
  if (!(FIELDS as readonly string[]).includes(name)) throw new Error(`unknown bar field "${name}"`);
  return name as SeriesField;
}

function orderOptions(json: string | null): OrderOptions | undefined {
  if (json === null) return undefined;
  const o = JSON.parse(json) as OrderOptions;
  return o;
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Builds the bridge object a membrane view is made from (in-thread: `bridge`; in a worker: calls to the host). */
export type BridgeFactory = (ctx: StrategyContext) => object;

/** The names of the bridge's functions (every one takes and returns primitives or JSON text). */
export const BRIDGE_FUNCTIONS = [
  'fixed',
  'info',
  'bar',
  'hist',
  'histLen',
  'histArray',
  'portfolio',
  'value',
  'text',
  'position',
  'openOrders',
  'order',
  'cancel',
  'stakeQuantity',
  'log',
] as const;

/** The host side of the membrane for one StrategyContext: functions of primitives only. */
export function bridge(ctx: StrategyContext): object {
  const orderOf = (kind: string, side: string, price: number, stopPrice: number, opts: string | null) => {
    const o = orderOptions(opts);
    const s = side as OrderSide;
    switch (kind) {
      case 'buy':
        return json(ctx.buy(o));
      case 'sell':
        return json(ctx.sell(o));
      case 'short':
        return json(ctx.short(o));
      case 'cover':
        return json(ctx.cover(o));
      case 'close':
        return json(ctx.close(o?.symbol, o?.tag));
      case 'limit':
        return json(ctx.limit(s, price, o));
      case 'stop':
        return json(ctx.stop(s, stopPrice, o));
      case 'stopLimit':
        return json(ctx.stopLimit(s, stopPrice, price, o));
      default:
        throw new Error(`unknown order kind ${kind}`);
    }
  };
  const tf = (t: string | undefined) => t as Timeframe | undefined;
  return {
    fixed: () =>
      JSON.stringify({
        strategyId: ctx.strategyId,
        symbols: ctx.symbols,
        timeframe: ctx.timeframe,
        params: ctx.params,
      }),
    info: guarded((i: number) => (i === 0 ? ctx.time : i === 1 ? ctx.symbol : ctx.symbolIndex)),
    bar: guarded((i: number) => {
      const b = ctx.bar;
      return i === 0
        ? b.time
        : i === 1
          ? b.open
          : i === 2
            ? b.high
            : i === 3
              ? b.low
              : i === 4
                ? b.close
                : i === 5
                  ? b.volume
                  : b.index;
    }),
    hist: guarded((s: string | undefined, t: string | undefined, f: string, ago: number) =>
      ctx.history(s, tf(t)).get(field(f), ago),
    ),
    histLen: guarded((s: string | undefined, t: string | undefined) => ctx.history(s, tf(t)).length),
    histArray: guarded((s: string | undefined, t: string | undefined, f: string) =>
      JSON.stringify(Array.from(ctx.history(s, tf(t)).toArray(field(f)))),
    ),
    portfolio: guarded((i: number, s: string | undefined) => {
      const p = ctx.portfolio;
      const sym = s ?? ctx.symbol;
      return i === 0
        ? p.cash
        : i === 1
          ? p.equity()
          : i === 2
            ? p.position(sym)
            : i === 3
              ? p.averagePrice(sym)
              : i === 4
                ? p.unrealizedPnl(sym)
                : i === 5
                  ? p.realizedPnl
                  : p.feesPaid;
    }),
    value: guarded((c: string, ago: number, s: string | undefined) => ctx.value(c, ago, s)),
    text: guarded((c: string, ago: number, s: string | undefined) => ctx.text(c, ago, s)),
    position: guarded((s: string | undefined) => ctx.position(s)),
    openOrders: guarded((s: string | undefined) => JSON.stringify(ctx.openOrders(s))),
    order: guarded(orderOf),
    cancel: guarded((id: string) => ctx.cancel(id)),
    stakeQuantity: guarded((price: number, s: string | undefined) => ctx.stakeQuantity(price, s)),
    log: guarded((m: string, level: string) => ctx.log(m, level as LogLevel)),
  };
}

/** Calls into the sandbox; an error thrown there becomes a host error naming the file (a ValidationError stays one). */
function fromSandbox<R>(file: string, f: () => R): R {
  try {
    return f();
  } catch (err) {
    const e = err as { name?: unknown; message?: unknown; field?: unknown } | null;
    const message = `${file}: ${typeof e?.message === 'string' ? e.message : String(err)}`;
    if (e?.name === 'ValidationError') {
      throw new ValidationError(message, typeof e.field === 'string' ? e.field : undefined);
    }
    throw new Error(message);
  }
}

/** A strategy object living in the sandbox, driven by the engine through the membrane. */
class SandboxedStrategy implements Strategy {
  private host: StrategyContext | undefined;
  private view: Foreign | undefined;

  constructor(
    private readonly realm: Realm,
    private readonly inner: Foreign,
    private readonly file: string,
    private readonly bridgeOf: BridgeFactory,
  ) {}

  private see(ctx: StrategyContext): Foreign {
    if (this.host !== ctx || this.view === undefined) {
      this.host = ctx;
      this.view = this.realm.makeContext(this.bridgeOf(ctx));
    }
    return this.view;
  }

  private hook(name: string, ctx: StrategyContext, arg?: unknown): void {
    const f = this.inner[name];
    if (typeof f !== 'function') return;
    const view = this.see(ctx);
    const copy = arg === undefined ? undefined : this.realm.parse(JSON.stringify(arg));
    fromSandbox(this.file, () => (f as ForeignFn).call(this.inner, view, copy));
  }

  onStart(ctx: StrategyContext): void {
    this.hook('onStart', ctx);
  }
  onBar(ctx: StrategyContext): void {
    const f = this.inner.onBar;
    if (typeof f !== 'function') return;
    const view = this.host === ctx && this.view !== undefined ? this.view : this.see(ctx);
    try {
      (f as ForeignFn).call(this.inner, view);
    } catch (err) {
      fromSandbox(this.file, () => {
        throw err;
      });
    }
  }
  onTick(ctx: StrategyContext, tick: Tick): void {
    this.hook('onTick', ctx, tick);
  }
  onOrderUpdate(ctx: StrategyContext, order: Readonly<Order>): void {
    this.hook('onOrderUpdate', ctx, order);
  }
  onFill(ctx: StrategyContext, fill: Readonly<Fill>): void {
    this.hook('onFill', ctx, fill);
  }
  onStop(ctx: StrategyContext): void {
    this.hook('onStop', ctx);
  }
  getState(): unknown {
    const f = this.inner.getState;
    if (typeof f !== 'function') return undefined;
    const text = fromSandbox(this.file, () => this.realm.stringify((f as ForeignFn).call(this.inner)));
    return text === undefined ? undefined : JSON.parse(text);
  }
  restore(state: unknown): void {
    const f = this.inner.restore;
    if (typeof f !== 'function') return;
    const copy = state === undefined ? undefined : this.realm.parse(JSON.stringify(state));
    fromSandbox(this.file, () => (f as ForeignFn).call(this.inner, copy));
  }
}

/**
 * Evaluates transpiled (CommonJS) strategy code in a fresh sandbox and returns its default-exported definition,
 * wrapped so the host never hands the sandbox a host object: parameters, orders, fills and ticks cross as copies,
 * the context as the membrane. The top level runs under a CPU budget. `bridgeOf` builds the host side of the
 * membrane for a context (in a sandbox worker, one that forwards every call to the host thread).
 */
export function loadSandboxedStrategy(js: string, file: string, bridgeOf: BridgeFactory = bridge): StrategyDefinition {
  const realm = createRealm();
  const mod = realm.parse('{"exports":{}}') as { exports: Foreign };
  let fn: ForeignFn;
  try {
    fn = new vm.Script(`(function (exports, require, module) {'use strict';\n${js}\n})`, {
      filename: file,
      lineOffset: -1,
    }).runInContext(realm.context, { timeout: LOAD_TIMEOUT_MS }) as ForeignFn;
    // Everything the loading script touches is a sandbox value: the host puts nothing of its own in reach.
    const g = realm.context as Foreign;
    g.__load = [fn, mod.exports, realm.require, mod];
    new vm.Script('(function (a) { delete globalThis.__load; a[0](a[1], a[2], a[3]); })(__load)', {
      filename: `${file} (load)`,
    }).runInContext(realm.context, { timeout: LOAD_TIMEOUT_MS });
  } catch (err) {
    const e = err as { message?: unknown } | null;
    throw new ValidationError(
      `${file}: failed while loading: ${typeof e?.message === 'string' ? e.message : String(err)}`,
      'strategy',
    );
  }
  const d = mod.exports.default as Foreign | undefined;
  if (d === null || typeof d !== 'object') {
    throw new ValidationError(
      `${file}: the default export must be a strategy definition: export default defineStrategy({ ... })`,
      'strategy',
    );
  }
  const plain = JSON.parse(
    realm.stringify({ name: d.name, description: d.description, params: d.params, requires: d.requires }) ?? '{}',
  ) as Partial<StrategyDefinition>;
  const validate = d.validate;
  const create = d.create;
  if (typeof create !== 'function')
    throw new ValidationError(`${file}: strategy ${String(plain.name)}: create(params) must be a function`, 'strategy');
  const toSandbox = (p: ParamValues) => realm.parse(JSON.stringify(p));
  return {
    name: plain.name as string,
    description: typeof plain.description === 'string' ? plain.description : '',
    params: (plain.params ?? []) as StrategyDefinition['params'],
    ...(plain.requires ? { requires: plain.requires } : {}),
    ...(typeof validate === 'function'
      ? { validate: (p: ParamValues) => void fromSandbox(file, () => (validate as ForeignFn).call(d, toSandbox(p))) }
      : {}),
    create: (p: ParamValues) => {
      const inner = fromSandbox(file, () => (create as ForeignFn).call(d, toSandbox(p)));
      if (inner === null || typeof inner !== 'object') {
        throw new ValidationError(`${file}: create(params) must return a strategy object`, 'strategy');
      }
      return new SandboxedStrategy(realm, inner as Foreign, file, bridgeOf);
    },
  };
}
