import type { RiskConfig } from '../core/config.js';
import { RiskLimitError } from '../core/errors.js';
import { type Instrument, roundPrice, roundQuantity } from '../core/instrument.js';
import type { OrderSide } from '../core/order.js';

/** The `risk.sizing` settings. */
export type SizingConfig = NonNullable<RiskConfig['sizing']>;

/** Closed trades Kelly sizing needs before it trusts a strategy's statistics. */
export const DEFAULT_KELLY_MIN_TRADES = 20;
/** Kelly multiplier when `kellyFraction` is not set: half Kelly, the usual compromise between growth and risk. */
export const DEFAULT_KELLY_FRACTION = 0.5;

/** Realised win/loss statistics of one strategy, fed by closed trades (Kelly sizing). */
export class TradeStats {
  trades = 0;
  wins = 0;
  losses = 0;
  /** Sum of winning trades' P&L. */
  grossWin = 0;
  /** Sum of losing trades' |P&L|. */
  grossLoss = 0;

  /** Adds one closed trade's net P&L (0 counts as a trade but neither a win nor a loss). */
  record(pnl: number): void {
    if (!Number.isFinite(pnl)) return;
    this.trades++;
    if (pnl > 0) {
      this.wins++;
      this.grossWin += pnl;
    } else if (pnl < 0) {
      this.losses++;
      this.grossLoss -= pnl;
    }
  }

  /** Share of trades that won. */
  get winRate(): number {
    return this.trades === 0 ? 0 : this.wins / this.trades;
  }

  /** Average win over average loss (Infinity without losses, 0 without wins). */
  get payoff(): number {
    if (this.wins === 0) return 0;
    if (this.losses === 0) return Number.POSITIVE_INFINITY;
    return this.grossWin / this.wins / (this.grossLoss / this.losses);
  }
}

/**
 * Kelly fraction of equity f* = W - (1 - W) / R for win rate W and payoff R, scaled by `multiplier` (1 full,
 * 0.5 half, 0.25 quarter) and capped at 1 (no leverage). Negative means the strategy has no edge.
 */
export function kellyFraction(winRate: number, payoff: number, multiplier = 1): number {
  const full = payoff === Number.POSITIVE_INFINITY ? winRate : payoff > 0 ? winRate - (1 - winRate) / payoff : -1;
  const f = full * multiplier;
  return Math.min(f, 1);
}

/** Inputs of a sizing decision. */
export interface SizingInput {
  equity: number;
  /** Expected entry price. */
  price: number;
  /** Protective stop price; required by the `risk` method. */
  stopPrice?: number;
  instrument: Instrument;
  /** The strategy's realised statistics; required by the `kelly` method. */
  stats?: TradeStats;
}

/** A sizing decision: a quantity rounded to the instrument's lot, or the rejection that explains why not. */
export type SizingResult =
  | { ok: true; quantity: number; notional: number; fraction?: number }
  | { ok: false; error: RiskLimitError };

const fail = (code: string, detail: string, limit?: number, actual?: number): SizingResult => ({
  ok: false,
  error: new RiskLimitError(code, detail, limit, actual),
});

/** Why a sizing configuration cannot work (a missing parameter for its method), or null. */
export function sizingConfigProblem(cfg: SizingConfig): { key: string; message: string } | null {
  const need = (key: keyof SizingConfig) => ({ key, message: `sizing method "${cfg.method}" needs "${key}"` });
  if (cfg.method === 'fixed' && cfg.amount === undefined) return need('amount');
  if (cfg.method === 'fraction' && cfg.fraction === undefined) return need('fraction');
  if (cfg.method === 'risk' && cfg.riskPerTrade === undefined) return need('riskPerTrade');
  if (cfg.minSize !== undefined && cfg.maxSize !== undefined && cfg.minSize > cfg.maxSize) {
    return { key: 'minSize', message: `minSize ${cfg.minSize} is above maxSize ${cfg.maxSize}` };
  }
  return null;
}

/**
 * Sizes an order (RISK-1): fixed amount, fixed fraction of equity, risk-per-trade from the stop distance, or
 * Kelly from realised statistics; then caps at maxSize, rounds down to the lot, and enforces minSize and the
 * instrument's minimum quantity and notional. Kelly falls back to minSize until `kellyMinTrades` trades closed,
 * or refuses (SIZING_NO_HISTORY) when no minSize is set.
 */
export function sizeOrder(cfg: SizingConfig, input: SizingInput): SizingResult {
  const { equity, price, instrument: inst } = input;
  const unit = price * inst.multiplier;
  if (!(unit > 0) || !Number.isFinite(unit)) return fail('SIZING_INVALID', `no usable price to size ${inst.symbol}`);
  if (!(equity > 0) || !Number.isFinite(equity)) {
    return fail('SIZING_INVALID', `equity ${equity} leaves nothing to size with`, 0, equity);
  }
  let qty: number;
  let fraction: number | undefined;
  switch (cfg.method) {
    case 'fixed':
      if (cfg.amount === undefined) return fail('SIZING_INVALID', 'sizing "fixed" needs amount');
      qty = cfg.amount / unit;
      break;
    case 'fraction':
      if (cfg.fraction === undefined) return fail('SIZING_INVALID', 'sizing "fraction" needs fraction');
      fraction = cfg.fraction;
      qty = (equity * cfg.fraction) / unit;
      break;
    case 'risk': {
      if (cfg.riskPerTrade === undefined) return fail('SIZING_INVALID', 'sizing "risk" needs riskPerTrade');
      const stop = input.stopPrice;
      const distance = stop === undefined ? Number.NaN : Math.abs(price - stop);
      if (!(distance > 0) || !Number.isFinite(distance)) {
        return fail('SIZING_INVALID', `risk-per-trade sizing needs a stop price away from the entry ${price}`);
      }
      qty = (equity * cfg.riskPerTrade) / (distance * inst.multiplier);
      break;
    }
    case 'kelly': {
      const stats = input.stats;
      const minTrades = cfg.kellyMinTrades ?? DEFAULT_KELLY_MIN_TRADES;
      const trades = stats?.trades ?? 0;
      if (stats === undefined || trades < minTrades) {
        if (cfg.minSize !== undefined && cfg.minSize > 0) {
          qty = cfg.minSize;
          break;
        }
        return fail(
          'SIZING_NO_HISTORY',
          `Kelly sizing needs ${minTrades} closed trades, the strategy has ${trades} (set sizing.minSize to trade meanwhile)`,
          minTrades,
          trades,
        );
      }
      fraction = kellyFraction(stats.winRate, stats.payoff, cfg.kellyFraction ?? DEFAULT_KELLY_FRACTION);
      if (!(fraction > 0)) {
        return fail(
          'SIZING_NO_EDGE',
          `Kelly fraction ${fraction.toFixed(4)} <= 0 (win rate ${stats.winRate.toFixed(3)}, payoff ${stats.payoff.toFixed(3)})`,
          0,
          fraction,
        );
      }
      qty = (equity * fraction) / unit;
      break;
    }
  }
  if (cfg.maxSize !== undefined && qty > cfg.maxSize) qty = cfg.maxSize;
  qty = roundQuantity(inst, qty);
  if (cfg.minSize !== undefined && qty < cfg.minSize) {
    return fail('MIN_SIZE', `size ${qty} is below sizing.minSize ${cfg.minSize}`, cfg.minSize, qty);
  }
  if (!(qty > 0) || qty < inst.minQty * (1 - 1e-9)) {
    return fail(
      'MIN_QUANTITY',
      `size ${qty} is below the minimum quantity ${inst.minQty} of ${inst.symbol}`,
      inst.minQty,
      qty,
    );
  }
  const notional = qty * unit;
  if (inst.minNotional > 0 && notional < inst.minNotional) {
    return fail(
      'MIN_NOTIONAL',
      `order value ${notional} is below the minimum ${inst.minNotional} of ${inst.symbol}`,
      inst.minNotional,
      notional,
    );
  }
  return fraction === undefined
    ? { ok: true, quantity: qty, notional }
    : { ok: true, quantity: qty, notional, fraction };
}

/** Rounds a limit price to the tick on the safe side: a buy never pays more, a sell never asks less. */
export function roundOrderPrice(inst: Instrument, side: OrderSide, price: number): number {
  return roundPrice(inst, price, side === 'buy' ? 'down' : 'up');
}
