import { ValidationError } from './errors.js';

/** Supported bar timeframes (DATA-1). */
export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d', '1w'] as const;

/** A bar timeframe such as `1m` or `1d`. */
export type Timeframe = (typeof TIMEFRAMES)[number];

const MINUTE = 60_000;

/** Length of each timeframe in milliseconds. */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1m': MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
  '4h': 240 * MINUTE,
  '1d': 1440 * MINUTE,
  '1w': 7 * 1440 * MINUTE,
};

/** Parses a timeframe string, throwing a ValidationError that lists the valid ones. */
export function parseTimeframe(value: string): Timeframe {
  if ((TIMEFRAMES as readonly string[]).includes(value)) return value as Timeframe;
  throw new ValidationError(`unknown timeframe "${value}" (expected one of ${TIMEFRAMES.join(', ')})`, 'timeframe');
}

/** Number of bars of this timeframe in a 365-day year (crypto convention, 24/7); daily equities use 252. */
export function barsPerYear(tf: Timeframe, tradingDaysPerYear = 365): number {
  if (tf === '1d') return tradingDaysPerYear;
  if (tf === '1w') return 52;
  return (tradingDaysPerYear * 1440 * MINUTE) / TIMEFRAME_MS[tf];
}
