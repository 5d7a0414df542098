import type { Tick } from '../../core/bar.js';
import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { ParamValues, Strategy, StrategyContext, StrategyDefinition } from '../../strategy/types.js';
import { currentThreadId } from './thread-cpu.js';

/**
 * The marks a sandboxed backtest's worker leaves for the watchdog on the host thread: which strategy callback
 * runs now, on which bar, and a sequence number that changes at every entry (so the watchdog tells "still the same
 * call" from "a new call"), and the marking thread's kernel id (for its CPU time). A few `Atomics.store`s per callback, no round trip: the per-bar cost stays that of
 * the in-thread realm.
 */

/** The callbacks a mark can name, by code (0 = none running). */
export const CALLBACKS = [
  '',
  'load',
  'validate',
  'create',
  'onStart',
  'onBar',
  'onTick',
  'onOrderUpdate',
  'onFill',
  'onStop',
  'getState',
  'restore',
  'statistics',
] as const;

/** A callback name a mark can hold. */
export type MarkedCallback = Exclude<(typeof CALLBACKS)[number], ''>;

const CODE: Readonly<Record<string, number>> = Object.fromEntries(CALLBACKS.map((c, i) => [c, i]));

// Int32 slots, then one Float64 for the bar time.
const CALLBACK = 0;
const SEQ = 1;
const BAR = 2;
const TID = 3;
const NO_BAR = -1;
const INTS = 4;

/** Bytes of the shared buffer the marks live in. */
export const MARK_BYTES = INTS * 4 + 8;

/** What the watchdog reads: the running callback (undefined when none), its bar, and the entry's sequence number. */
export interface MarkSnapshot {
  readonly callback: MarkedCallback | undefined;
  readonly seq: number;
  readonly barIndex: number | undefined;
  readonly barTime: number | undefined;
}

/** Reads the marks (host side). */
export function readMarks(buffer: SharedArrayBuffer): MarkSnapshot {
  const ints = new Int32Array(buffer, 0, INTS);
  const time = new Float64Array(buffer, INTS * 4, 1);
  const code = Atomics.load(ints, CALLBACK);
  const bar = Atomics.load(ints, BAR);
  return {
    callback: code === 0 ? undefined : (CALLBACKS[code] as MarkedCallback),
    seq: Atomics.load(ints, SEQ),
    barIndex: bar === NO_BAR ? undefined : bar,
    barTime: bar === NO_BAR ? undefined : time[0],
  };
}

/** The kernel id of the thread writing the marks (undefined until it started, or where it cannot be known). */
export function markedThreadId(buffer: SharedArrayBuffer): number | undefined {
  const tid = Atomics.load(new Int32Array(buffer, 0, INTS), TID);
  return tid > 0 ? tid : undefined;
}

/** Writes the marks (worker side): `enter` before a callback, `leave` after it (restoring an outer call's mark). */
export class CallbackMarks {
  private readonly ints: Int32Array;
  private readonly time: Float64Array;
  private seq = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer, 0, INTS);
    this.time = new Float64Array(buffer, INTS * 4, 1);
    Atomics.store(this.ints, BAR, NO_BAR);
    Atomics.store(this.ints, TID, currentThreadId() ?? 0);
  }

  /** Marks `callback` as running on bar `index` at `time` (index -1: outside a bar); returns the outer mark. */
  enter(callback: MarkedCallback, index: number, time: number): number {
    const outer = Atomics.load(this.ints, CALLBACK);
    this.time[0] = time;
    Atomics.store(this.ints, BAR, index);
    Atomics.store(this.ints, SEQ, ++this.seq);
    Atomics.store(this.ints, CALLBACK, CODE[callback]);
    return outer;
  }

  /** Marks the callback as left; `outer` (from `enter`) is the call still running around it, if any. */
  leave(outer: number): void {
    Atomics.store(this.ints, CALLBACK, outer);
  }

  /** Runs `f` marked as `callback` outside any bar. */
  around<R>(callback: MarkedCallback, f: () => R): R {
    const outer = this.enter(callback, NO_BAR, Number.NaN);
    try {
      return f();
    } finally {
      this.leave(outer);
    }
  }
}

/**
 * The strategy with every callback it has marked for the watchdog; callbacks it lacks stay absent (the engine
 * checks for them).
 */
function markedStrategy(inner: Strategy, marks: CallbackMarks): Strategy {
  const hook =
    <A extends unknown[]>(name: MarkedCallback, f: ((ctx: StrategyContext, ...a: A) => void) | undefined) =>
    (ctx: StrategyContext, ...a: A): void => {
      const outer = marks.enter(name, ctx.bar?.index ?? NO_BAR, ctx.time);
      try {
        f?.call(inner, ctx, ...a);
      } finally {
        marks.leave(outer);
      }
    };
  const onBar = inner.onBar;
  const getState = inner.getState;
  const restore = inner.restore;
  const statistics = inner.statistics;
  return {
    ...(inner.onStart ? { onStart: hook('onStart', inner.onStart) } : {}),
    ...(onBar
      ? {
          // The hot path: no rest arguments, one enter and one leave.
          onBar(ctx: StrategyContext): void {
            const outer = marks.enter('onBar', ctx.bar.index, ctx.time);
            try {
              onBar.call(inner, ctx);
            } finally {
              marks.leave(outer);
            }
          },
        }
      : {}),
    ...(inner.onTick ? { onTick: hook<[Tick]>('onTick', inner.onTick) } : {}),
    ...(inner.onOrderUpdate ? { onOrderUpdate: hook<[Readonly<Order>]>('onOrderUpdate', inner.onOrderUpdate) } : {}),
    ...(inner.onFill ? { onFill: hook<[Readonly<Fill>]>('onFill', inner.onFill) } : {}),
    ...(inner.onStop ? { onStop: hook('onStop', inner.onStop) } : {}),
    ...(getState ? { getState: () => marks.around('getState', () => getState.call(inner)) } : {}),
    ...(restore ? { restore: (s: unknown) => marks.around('restore', () => restore.call(inner, s)) } : {}),
    ...(statistics ? { statistics: () => marks.around('statistics', () => statistics.call(inner)) } : {}),
  };
}

/** The definition with `validate`, `create` and every callback of the strategies it creates marked. */
export function markedDefinition(def: StrategyDefinition, marks: CallbackMarks): StrategyDefinition {
  const validate = def.validate;
  return {
    ...def,
    ...(validate ? { validate: (p: ParamValues) => marks.around('validate', () => validate.call(def, p)) } : {}),
    create: (p: ParamValues) =>
      markedStrategy(
        marks.around('create', () => def.create(p)),
        marks,
      ),
  };
}
