/**
 * IG's ACCOUNT and CHART streaming items as the venue reads them: the fields asked for, an account's figures as a
 * balance, a candle as a bar on the mid of bid and offer (as REST price history is), and bars of a longer timeframe
 * assembled from the candles of a scale IG streams.
 */
import type { Bar } from '../../core/bar.js';
import type { Balance } from '../../core/position.js';
import type { Timeframe } from '../../core/timeframe.js';
import { igMid } from './client.js';

/** The fields of IG's ACCOUNT:{accountId} item (MERGE) the venue subscribes. */
export const ACCOUNT_FIELDS = [
  'PNL',
  'DEPOSIT',
  'AVAILABLE_CASH',
  'FUNDS',
  'MARGIN',
  'AVAILABLE_TO_DEAL',
  'EQUITY',
  'EQUITY_USED',
] as const;

type Values = Readonly<Record<string, string | null>>;

const num = (v: string | null | undefined): number =>
  v === null || v === undefined || v === '' ? Number.NaN : Number(v);

/**
 * An ACCOUNT update as the venue's balance, the way REST `/accounts` maps: free = available to deal, used = margin,
 * total = their sum (equity). Undefined while either figure is missing.
 */
export function balanceOfAccount(values: Values, currency: string): Balance | undefined {
  const free = num(values.AVAILABLE_TO_DEAL);
  const used = num(values.MARGIN);
  if (!Number.isFinite(free) || !Number.isFinite(used)) return undefined;
  return { asset: currency, free, used, total: free + used };
}

/** The fields of IG's CHART:{epic}:{scale} candle item (MERGE) the venue subscribes. */
export const CHART_FIELDS = [
  'UTM',
  'BID_OPEN',
  'BID_HIGH',
  'BID_LOW',
  'BID_CLOSE',
  'OFR_OPEN',
  'OFR_HIGH',
  'OFR_LOW',
  'OFR_CLOSE',
  'LTV',
  'CONS_END',
] as const;

/** A streamable candle scale: IG's name for it and its length. */
export interface IgChartScale {
  scale: '1MINUTE' | '5MINUTE' | 'HOUR';
  ms: number;
}

const MINUTE_1: IgChartScale = { scale: '1MINUTE', ms: 60_000 };
const MINUTE_5: IgChartScale = { scale: '5MINUTE', ms: 300_000 };
const HOUR: IgChartScale = { scale: 'HOUR', ms: 3_600_000 };

/**
 * The scale each timeframe's bars are streamed from. IG streams 1-minute, 5-minute and hourly candles; 15m bars are
 * three 5-minute candles (quarter hours are unambiguous). 4h, 1d and 1w are not here: IG does not document where
 * its 4-hour, daily and weekly bars begin, so hours summed on UTC boundaries could differ from IG's own; those
 * timeframes keep polling price history.
 */
export const IG_CHART_SCALES: Partial<Record<Timeframe, IgChartScale>> = {
  '1m': MINUTE_1,
  '5m': MINUTE_5,
  '15m': MINUTE_5,
  '1h': HOUR,
};

/** One candle of a CHART item: a bar on the mid, and whether IG ended it (CONS_END = 1). */
export interface IgCandle extends Bar {
  end: boolean;
}

/**
 * A CHART update as a candle (undefined without a start time or close). Each price is the mid of the bid and offer
 * sides, as `IgClient.prices` reads REST history; the start is UTM floored to the scale.
 */
export function candleOf(values: Values, scaleMs: number): IgCandle | undefined {
  const utm = num(values.UTM);
  const side = (bid: string, ofr: string) => {
    const b = num(values[bid]);
    const o = num(values[ofr]);
    return igMid(Number.isFinite(b) ? b : null, Number.isFinite(o) ? o : null);
  };
  const close = side('BID_CLOSE', 'OFR_CLOSE');
  if (!Number.isFinite(utm) || !Number.isFinite(close)) return undefined;
  const open = side('BID_OPEN', 'OFR_OPEN');
  const high = side('BID_HIGH', 'OFR_HIGH');
  const low = side('BID_LOW', 'OFR_LOW');
  const volume = num(values.LTV);
  return {
    time: Math.floor(utm / scaleMs) * scaleMs,
    open: Number.isFinite(open) ? open : close,
    high: Number.isFinite(high) ? high : close,
    low: Number.isFinite(low) ? low : close,
    close,
    volume: Number.isFinite(volume) ? volume : 0,
    end: values.CONS_END === '1',
  };
}

/** What one candle made of the bar of the timeframe. */
export interface AssembledBar {
  bar: Bar;
  /** The candle that ends the bar ended. */
  closed: boolean;
  /** Every candle of the bar was seen (a bar begun before the subscription was not). */
  complete: boolean;
  /** Start of an earlier bar that was never seen closed (a candle end lost while the stream was down). */
  missed?: number;
}

/** Builds bars of `tfMs` from candles of `scaleMs` (equal lengths: each candle is a bar). */
export class CandleAssembler {
  private bucket = Number.NEGATIVE_INFINITY;
  private parts = new Map<number, IgCandle>();
  private closedBucket = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly tfMs: number,
    private readonly scaleMs: number,
  ) {}

  /** Adds a candle update; undefined for an update of a bar already passed. */
  add(c: IgCandle): AssembledBar | undefined {
    const bucket = Math.floor(c.time / this.tfMs) * this.tfMs;
    if (bucket < this.bucket) return undefined;
    let missed: number | undefined;
    if (bucket > this.bucket) {
      if (this.parts.size > 0 && this.closedBucket < this.bucket) missed = this.bucket;
      this.bucket = bucket;
      this.parts = new Map();
    }
    this.parts.set(c.time, c);
    const parts = [...this.parts.values()].sort((a, b) => a.time - b.time);
    const first = parts[0] as IgCandle;
    const last = parts[parts.length - 1] as IgCandle;
    const bar: Bar = {
      time: bucket,
      open: first.open,
      high: Math.max(...parts.map((p) => p.high)),
      low: Math.min(...parts.map((p) => p.low)),
      close: last.close,
      volume: parts.reduce((s, p) => s + p.volume, 0),
    };
    const closed = c.end && c.time + this.scaleMs >= bucket + this.tfMs;
    if (closed) this.closedBucket = bucket;
    const complete = first.time === bucket && parts.length === Math.round(this.tfMs / this.scaleMs);
    return { bar, closed, complete, ...(missed !== undefined ? { missed } : {}) };
  }
}
