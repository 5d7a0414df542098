import { type ExitConfig, exitConfigSchema } from '../core/run-spec.js';

/** The exit settings' schema and type live with the run spec in core (one home); re-exported here. */
export { type ExitConfig, exitConfigSchema };

/** Exit reasons evaluateExits can produce. */
export type ExitReason = 'exit_signal' | 'stop_loss' | 'roi' | 'take_profit' | 'trailing_stop';

/** Signal bits for evaluateExits: the strategy's exit signal for the position's side is set on this bar. */
export const EXIT_SIGNAL = 1;
/** Signal bit: the strategy's entry signal for the position's side is set on this bar. */
export const ENTER_SIGNAL = 2;

/** What exits need to know about the market and account a run trades. */
export interface ExitMarket {
  /** Leverage of the positions (stop and ROI distances are divided by it, profit ratios multiplied). Default 1. */
  leverage?: number;
  /** The bar length in ms (an ROI key on a bar boundary exits at the open). Default one minute. */
  timeframeMs?: number;
}

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
  /** Fee rate per side (Freqtrade's fee_open = fee_close): profit ratios, the ROI exit price, break-even. */
  readonly feeRate: number;
  readonly leverage: number;
  /** Bar length in whole minutes (at least 1). */
  readonly timeframeMinutes: number;
  readonly useExitSignal: boolean;
  readonly exitProfitOnly: boolean;
  readonly exitProfitOffset: number;
  readonly ignoreRoiIfEntrySignal: boolean;
  /** True when any price-based rule is on (the engine skips evaluation otherwise). */
  readonly active: boolean;
}

/** Compiles a (validated) exit config; `feeRate` is the taker fee of the run. */
export function compileExits(config: ExitConfig | undefined, feeRate = 0, market: ExitMarket = {}): ExitRules {
  const c = exitConfigSchema.parse(config ?? {});
  const roiEntries = Object.entries(c.roi ?? {})
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  const trailing = c.trailingStop?.enabled === true;
  return {
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
    leverage: Math.max(1, market.leverage ?? 1),
    timeframeMinutes: Math.max(1, Math.floor((market.timeframeMs ?? 60_000) / 60_000)),
    useExitSignal: c.useExitSignal,
    exitProfitOnly: c.exitProfitOnly,
    exitProfitOffset: c.exitProfitOffset,
    ignoreRoiIfEntrySignal: c.ignoreRoiIfEntrySignal,
    active:
      c.stopLoss !== undefined ||
      c.takeProfit !== undefined ||
      roiEntries.length > 0 ||
      trailing ||
      c.breakeven !== undefined,
  };
}

/** Per-position exit state (one reused object per symbol): entry, stop level, whether it trailed. */
export class ExitState {
  /** +1 long, -1 short, 0 flat. */
  dir = 0;
  entryPrice = Number.NaN;
  entryTime = Number.NaN;
  /** Bars with time below this are not evaluated (an intrabar entry starts on the next bar). */
  activeFrom = Number.NaN;
  /** Most favourable price seen since entry (high for a long, low for a short). */
  extreme = Number.NaN;
  /** The stop level now (Freqtrade's `stop_loss`); NaN until a stop is set. */
  stopLevel = Number.NaN;
  /** The ratio the stop level was last set with (Freqtrade's `stop_loss_pct`, positive here). */
  stopRatio = Number.NaN;
  /** The stop was raised after its initial setting (Freqtrade's `is_stop_loss_trailing`). */
  trailed = false;
  breakevenLocked = false;
  /** The strategy signalled an entry in the position's direction on the previous bar (consumed by the next). */
  enterSignal = false;

  /** Starts tracking a new position. */
  open(dir: number, entryPrice: number, entryTime: number, activeFrom: number): void {
    this.dir = dir;
    this.entryPrice = entryPrice;
    this.entryTime = entryTime;
    this.activeFrom = activeFrom;
    this.extreme = entryPrice;
    this.stopLevel = Number.NaN;
    this.stopRatio = Number.NaN;
    this.trailed = false;
    this.breakevenLocked = false;
    this.enterSignal = false;
  }

  /** The position grew: the stop and targets follow the new average entry (a stop that trailed stays). */
  reprice(entryPrice: number): void {
    this.entryPrice = entryPrice;
    if (!this.trailed) this.stopLevel = Number.NaN;
  }

  reset(): void {
    this.dir = 0;
    this.entryPrice = Number.NaN;
    this.stopLevel = Number.NaN;
    this.trailed = false;
    this.breakevenLocked = false;
    this.enterSignal = false;
  }
}

/** The outcome of evaluateExits, written into a reused object. */
export class ExitDecision {
  exit = false;
  reason: ExitReason = 'stop_loss';
  price = Number.NaN;
  /**
   * The exit is the fixed stop-loss set from the entry (never trailed, not raised to break-even): the level a live
   * deployment keeps on the venue as its protective stop, so live it fills on the venue within the bar.
   */
  fixedStop = false;
}

/** A bar as exits need it. */
export interface ExitBar {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

/**
 * Profit ratio of the position if it closed at `rate`, fees of both sides included, times the leverage, rounded
 * to 8 decimals (Freqtrade's `calc_profit_ratio`): long `(rate(1-f) / entry(1+f) - 1) x lev`, short
 * `(1 - rate(1+f) / entry(1-f)) x lev`.
 */
export function profitRatio(rules: ExitRules, state: ExitState, rate: number): number {
  const f = rules.feeRate;
  const r =
    state.dir > 0
      ? ((rate * (1 - f)) / (state.entryPrice * (1 + f)) - 1) * rules.leverage
      : (1 - (rate * (1 + f)) / (state.entryPrice * (1 - f))) * rules.leverage;
  return Math.round(r * 1e8) / 1e8;
}

/** Whether a strategy's exit at `rate` passes `exitProfitOnly` (always true when that rule is off). */
export function exitSignalAllowed(rules: ExitRules, state: ExitState, rate: number): boolean {
  return !rules.exitProfitOnly || state.dir === 0 || profitRatio(rules, state, rate) > rules.exitProfitOffset;
}

function exitAt(out: ExitDecision, reason: ExitReason, price: number, fixedStop = false): boolean {
  out.exit = true;
  out.reason = reason;
  out.price = price;
  out.fixedStop = fixedStop;
  return true;
}

// Freqtrade's adjust_stop_loss: a level `ratio / leverage` away from `price`, set when none is set, otherwise
// only ever tightened (then the stop counts as trailing).
function adjustStop(rules: ExitRules, st: ExitState, price: number, ratio: number): void {
  const level = price * (1 - (st.dir * ratio) / rules.leverage);
  if (Number.isNaN(st.stopLevel)) {
    st.stopLevel = level;
    st.stopRatio = ratio;
    // Without a fixed stop the first level comes from the trailing rule itself.
    if (Number.isNaN(rules.stopLoss)) st.trailed = true;
  } else if (st.dir * (level - st.stopLevel) > 0) {
    st.stopLevel = level;
    st.stopRatio = ratio;
    st.trailed = true;
  }
}

// The break-even level: entry plus the fees of both sides (and the configured offset).
function breakevenLevel(rules: ExitRules, st: ExitState): number {
  const f = rules.feeRate;
  const dir = st.dir;
  const base = dir > 0 ? (st.entryPrice * (1 + f)) / (1 - f) : (st.entryPrice * (1 - f)) / (1 + f);
  return base * (1 + dir * rules.breakevenOffset);
}

// Freqtrade's _get_close_rate_for_stoploss: the stop level; the open when the whole bar lies beyond the stop;
// on the entry bar a trailing exit assumes the worst realistic path (just enough rise to arm it, then down).
function stopExitPrice(rules: ExitRules, st: ExitState, bar: ExitBar, level: number, trailing: boolean): number {
  const dir = st.dir;
  if (dir > 0 ? level > bar.high : level < bar.low) return bar.open;
  if (trailing && bar.time === st.entryTime) {
    const lev = rules.leverage;
    const rate =
      rules.onlyOffsetReached && rules.trailPositive > 0
        ? bar.open * (1 + dir * rules.trailOffset - (dir * rules.trailPositive) / lev)
        : bar.open * (1 - (dir * st.stopRatio) / lev);
    return dir > 0 ? Math.max(bar.low, rate) : Math.min(bar.high, rate);
  }
  return level;
}

// Freqtrade's _get_close_rate_for_roi; NaN when the ROI exit cannot happen on this bar (an entry bar whose
// candle runs against an entry above its open).
function roiExitPrice(rules: ExitRules, st: ExitState, bar: ExitBar, key: number, roi: number, dur: number): number {
  const tf = rules.timeframeMinutes;
  if (roi === -1 && key % tf === 0) return bar.open;
  const dir = st.dir;
  const f = rules.feeRate;
  const entry = st.entryPrice;
  const gain = (entry * roi) / rules.leverage;
  const rate = dir > 0 ? (gain + entry * (1 + f)) / (1 - f) : (entry * (1 - f) - gain) / (1 + f);
  // A new ROI entry that took effect at this bar's open, with the open already beyond it: exit at the open.
  if (dur > 0 && dur === key && key % tf === 0 && dir * (bar.open - rate) > 0) return bar.open;
  if (
    dur === 0 &&
    (dir > 0
      ? bar.open > bar.close && entry < bar.open && rate > bar.close
      : bar.open < bar.close && entry > bar.open && rate < bar.close)
  ) {
    return Number.NaN;
  }
  return Math.min(Math.max(rate, bar.low), bar.high);
}

/**
 * Evaluates the exit rules of one open position against one bar with Freqtrade's backtesting semantics.
 * First the stop is adjusted: set from the entry (`stopLoss / leverage`) if not yet set, then, when the trailing
 * stop is on and the stop lies below the bar's low (long), raised from the high (`trailingStop.positive` once
 * the high's profit exceeds `offset`, else the stop-loss distance; nothing while `onlyOffsetReached` and the
 * offset is not reached). Then the first of these exits, in order:
 * 1. exit signal (`signal & EXIT_SIGNAL`, not with an entry signal, `exitProfitOnly` at the open) at the open;
 * 2. stop-loss (a stop that never trailed) when the low reaches it: at the stop, or the open when the whole
 *    bar is below it;
 * 3. ROI: the entry with the largest key <= whole minutes held, hit when the high's profit ratio is strictly
 *    above it; at the price giving that ratio (fees included), clamped into the bar; at the open for a `-1`
 *    entry or a new entry taking effect at this bar's open with the open beyond it;
 * 4. take-profit (at its target, or the open when the bar opens beyond it);
 * 5. trailing stop (a stop that trailed) as 2, with the worst case on the entry bar.
 * Returns true and fills `out` when the position must close; mutates `state`. Used by the engine for
 * backtest, paper and live (on closed bars). Allocation-free.
 */
export function evaluateExits(
  rules: ExitRules,
  state: ExitState,
  bar: ExitBar,
  signal: number,
  out: ExitDecision,
): boolean {
  out.exit = false;
  const dir = state.dir;
  if (dir === 0) return false;
  const enter = (signal & ENTER_SIGNAL) !== 0 || state.enterSignal;
  state.enterSignal = false;
  if ((signal & EXIT_SIGNAL) !== 0 && rules.useExitSignal && !enter && exitSignalAllowed(rules, state, bar.open)) {
    return exitAt(out, 'exit_signal', bar.open);
  }
  if (bar.time < state.activeFrom) return false;
  const best = dir > 0 ? bar.high : bar.low;
  const worst = dir > 0 ? bar.low : bar.high;
  if (dir * (best - state.extreme) > 0) state.extreme = best;

  // Stop adjustment (Freqtrade's ft_stoploss_adjust): the high comes first and may raise the stop.
  if (Number.isNaN(state.stopLevel) && !Number.isNaN(rules.stopLoss))
    adjustStop(rules, state, state.entryPrice, rules.stopLoss);
  const belowBar = Number.isNaN(state.stopLevel) || dir * (worst - state.stopLevel) > 0;
  if (belowBar && (rules.trailing || !Number.isNaN(rules.breakevenTrigger))) {
    const bestProfit = profitRatio(rules, state, best);
    if (rules.trailing && !(rules.onlyOffsetReached && bestProfit < rules.trailOffset)) {
      const ratio =
        !Number.isNaN(rules.trailPositive) && bestProfit > rules.trailOffset ? rules.trailPositive : rules.stopLoss;
      if (!Number.isNaN(ratio)) adjustStop(rules, state, best, ratio);
    }
    if (!state.breakevenLocked && bestProfit >= rules.breakevenTrigger) state.breakevenLocked = true;
  }
  let level = state.stopLevel;
  let trailing = state.trailed;
  let breakeven = false;
  if (state.breakevenLocked) {
    const be = breakevenLevel(rules, state);
    if (Number.isNaN(level) || dir * (be - level) > 0) {
      level = be;
      trailing = false;
      breakeven = true;
    }
  }
  const stopHit = !Number.isNaN(level) && dir * (worst - level) <= 0;
  if (stopHit && !trailing) {
    return exitAt(out, 'stop_loss', stopExitPrice(rules, state, bar, level, false), !breakeven);
  }

  // ROI by whole minutes held; skipped while the strategy signals an entry and ignoreRoiIfEntrySignal is set.
  const n = rules.roiMinutes.length;
  if (n > 0 && !(enter && rules.ignoreRoiIfEntrySignal)) {
    const dur = Math.floor((bar.time - state.entryTime) / 60_000);
    let k = -1;
    for (let j = 0; j < n && rules.roiMinutes[j] <= dur; j++) k = j;
    if (k >= 0) {
      const roi = rules.roiRatios[k];
      if (profitRatio(rules, state, best) > roi) {
        const px = roiExitPrice(rules, state, bar, rules.roiMinutes[k], roi, dur);
        if (!Number.isNaN(px)) return exitAt(out, 'roi', px);
      }
    }
  }
  const tp = rules.takeProfit;
  if (!Number.isNaN(tp)) {
    const target = state.entryPrice * (1 + (dir * tp) / rules.leverage);
    if (dir * (bar.open - target) >= 0) return exitAt(out, 'take_profit', bar.open);
    if (dir * (best - target) >= 0) return exitAt(out, 'take_profit', target);
  }
  if (stopHit) return exitAt(out, 'trailing_stop', stopExitPrice(rules, state, bar, level, true));
  return false;
}
