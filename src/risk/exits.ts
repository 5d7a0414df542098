import { type ExitConfig, exitConfigSchema } from '../core/run-spec.js';

/** The exit settings' schema and type live with the run spec in core (one home); re-exported here. */
export { type ExitConfig, exitConfigSchema };

/** Exit reasons evaluateExits can produce. */
export type ExitReason = 'exit_signal' | 'stop_loss' | 'roi' | 'take_profit' | 'trailing_stop';

/** Exit rules compiled once per run into flat numbers (NaN = rule off), so evaluation allocates nothing. */
export interface ExitRules {
  readonly stopLoss: number;
  readonly takeProfit: number;
  /** ROI table sorted by minutes ascending. */
  readonly roiMinutes: Float64Array;
  readonly roiRatios: Float64Array;
  readonly trailing: boolean;
  readonly trailPositive: number;
  readonly trailOffset: number;
  readonly onlyOffsetReached: boolean;
  readonly breakevenTrigger: number;
  readonly breakevenOffset: number;
  /** Fee rate per side, used by the break-even lock (entry plus fees on both sides). */
  readonly feeRate: number;
  readonly useExitSignal: boolean;
  /** True when any price-based rule is on (the engine skips evaluation otherwise). */
  readonly active: boolean;
}

/** Compiles a (validated) exit config; `feeRate` is the taker fee used for the break-even level. */
export function compileExits(config: ExitConfig | undefined, feeRate = 0): ExitRules {
  const c = exitConfigSchema.parse(config ?? {});
  const roiEntries = Object.entries(c.roi ?? {})
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  const trailing = c.trailingStop?.enabled === true;
  const rules: ExitRules = {
    stopLoss: c.stopLoss ?? Number.NaN,
    takeProfit: c.takeProfit ?? Number.NaN,
    roiMinutes: Float64Array.from(roiEntries.map((e) => e[0])),
    roiRatios: Float64Array.from(roiEntries.map((e) => e[1])),
    trailing,
    trailPositive: c.trailingStop?.positive ?? Number.NaN,
    trailOffset: c.trailingStop?.offset ?? 0,
    onlyOffsetReached: c.trailingStop?.onlyOffsetReached ?? false,
    breakevenTrigger: c.breakeven?.trigger ?? Number.NaN,
    breakevenOffset: c.breakeven?.offset ?? 0,
    feeRate,
    useExitSignal: c.useExitSignal,
    active:
      c.stopLoss !== undefined ||
      c.takeProfit !== undefined ||
      roiEntries.length > 0 ||
      trailing ||
      c.breakeven !== undefined,
  };
  return rules;
}

/** Per-position exit state (one reused object per symbol): entry, favourable extreme, trailing level. */
export class ExitState {
  /** +1 long, -1 short, 0 flat. */
  dir = 0;
  entryPrice = Number.NaN;
  entryTime = Number.NaN;
  /** Bars with time below this are not evaluated (an intrabar entry starts on the next bar). */
  activeFrom = Number.NaN;
  /** Most favourable price seen since entry (high for a long, low for a short). */
  extreme = Number.NaN;
  /** Current trailing stop level (NaN until trailing starts). */
  trailLevel = Number.NaN;
  breakevenLocked = false;

  /** Starts tracking a new position. */
  open(dir: number, entryPrice: number, entryTime: number, activeFrom: number): void {
    this.dir = dir;
    this.entryPrice = entryPrice;
    this.entryTime = entryTime;
    this.activeFrom = activeFrom;
    this.extreme = entryPrice;
    this.trailLevel = Number.NaN;
    this.breakevenLocked = false;
  }

  /** The position grew: the stop and targets follow the new average entry. */
  reprice(entryPrice: number): void {
    this.entryPrice = entryPrice;
  }

  reset(): void {
    this.dir = 0;
    this.entryPrice = Number.NaN;
    this.trailLevel = Number.NaN;
    this.breakevenLocked = false;
  }
}

/** The outcome of evaluateExits, written into a reused object. */
export class ExitDecision {
  exit = false;
  reason: ExitReason = 'stop_loss';
  price = Number.NaN;
}

/** A bar as exits need it. */
export interface ExitBar {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

function exitAt(out: ExitDecision, reason: ExitReason, price: number): boolean {
  out.exit = true;
  out.reason = reason;
  out.price = price;
  return true;
}

// Stop level of the position now: the tightest of the fixed stop, the break-even lock and the trailing stop.
function stopLevel(r: ExitRules, st: ExitState): number {
  const dir = st.dir;
  let level = !Number.isNaN(r.stopLoss) ? st.entryPrice * (1 - dir * r.stopLoss) : Number.NaN;
  if (st.breakevenLocked) {
    const f = r.feeRate;
    const be =
      (dir > 0 ? (st.entryPrice * (1 + f)) / (1 - f) : (st.entryPrice * (1 - f)) / (1 + f)) *
      (1 + dir * r.breakevenOffset);
    if (Number.isNaN(level) || dir * (be - level) > 0) level = be;
  }
  const t = st.trailLevel;
  if (!Number.isNaN(t) && (Number.isNaN(level) || dir * (t - level) > 0)) level = t;
  return level;
}

function stopReason(r: ExitRules, st: ExitState, level: number): ExitReason {
  return st.trailLevel === level && r.trailing ? 'trailing_stop' : 'stop_loss';
}

/**
 * Evaluates the exit rules of one open position against one bar, in this fixed order:
 * 1. exit signal (at the open), 2. stop-loss (the tightest of fixed stop, break-even lock and the trailing
 * level carried from earlier bars; at the stop, or at the open when the bar gaps through it), 3. ROI table by
 * minutes held, then take-profit (at the target, or the open when it gaps beyond), 4. trailing stop: the
 * level ratchets from this bar's favourable extreme (high for a long), and exits at that level when the close
 * is back through it (the path after the extreme is extreme -> close).
 * Returns true and fills `out` when the position must close; mutates `state` (extreme, trailing, break-even).
 * Used by the simulated venue path of the engine and by live trading on closed bars. Allocation-free.
 */
export function evaluateExits(
  rules: ExitRules,
  state: ExitState,
  bar: ExitBar,
  exitSignal: boolean,
  out: ExitDecision,
): boolean {
  out.exit = false;
  const dir = state.dir;
  if (dir === 0) return false;
  if (exitSignal && rules.useExitSignal) return exitAt(out, 'exit_signal', bar.open);
  if (bar.time < state.activeFrom) return false;
  const entry = state.entryPrice;
  const adverse = dir > 0 ? bar.low : bar.high;
  const favourable = dir > 0 ? bar.high : bar.low;

  // 2. stop-loss (including break-even lock and the trailing level so far)
  let level = stopLevel(rules, state);
  if (!Number.isNaN(level)) {
    if (dir * (bar.open - level) <= 0) return exitAt(out, stopReason(rules, state, level), bar.open);
    if (dir * (adverse - level) <= 0) return exitAt(out, stopReason(rules, state, level), level);
  }

  // 3. ROI table (minutes held at this bar's open time), then take-profit
  const n = rules.roiMinutes.length;
  if (n > 0) {
    const minutes = (bar.time - state.entryTime) / 60_000;
    let k = -1;
    for (let j = 0; j < n && rules.roiMinutes[j] <= minutes; j++) k = j;
    if (k >= 0) {
      const target = entry * (1 + dir * rules.roiRatios[k]);
      if (dir * (bar.open - target) >= 0) return exitAt(out, 'roi', bar.open);
      if (dir * (favourable - target) >= 0) return exitAt(out, 'roi', target);
    }
  }
  const tp = rules.takeProfit;
  if (!Number.isNaN(tp)) {
    const target = entry * (1 + dir * tp);
    if (dir * (bar.open - target) >= 0) return exitAt(out, 'take_profit', bar.open);
    if (dir * (favourable - target) >= 0) return exitAt(out, 'take_profit', target);
  }

  // 4. ratchet from the favourable extreme, then the close decides
  if (dir * (favourable - state.extreme) > 0) state.extreme = favourable;
  const best = dir * (state.extreme / entry - 1);
  let moved = false;
  if (!state.breakevenLocked && !Number.isNaN(rules.breakevenTrigger) && best >= rules.breakevenTrigger) {
    state.breakevenLocked = true;
    moved = true;
  }
  if (rules.trailing) {
    let dist = Number.NaN;
    if (!Number.isNaN(rules.trailPositive) && best >= rules.trailOffset) dist = rules.trailPositive;
    else if (!rules.onlyOffsetReached) dist = rules.stopLoss;
    if (!Number.isNaN(dist)) {
      const cand = state.extreme * (1 - dir * dist);
      if (Number.isNaN(state.trailLevel) || dir * (cand - state.trailLevel) > 0) {
        state.trailLevel = cand;
        moved = true;
      }
    }
  }
  if (moved) {
    level = stopLevel(rules, state);
    // Only a level the bar actually traded through after its extreme can fill.
    if (!Number.isNaN(level) && dir * (favourable - level) >= 0 && dir * (bar.close - level) <= 0) {
      return exitAt(out, stopReason(rules, state, level), level);
    }
  }
  return false;
}
