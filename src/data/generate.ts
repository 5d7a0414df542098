import { type BarColumns, TIMEFRAME_MS, type Timeframe, ValidationError } from '../core/index.js';
import { SeededRandom } from './random.js';

/** Parameters of the synthetic bar generator (rates are annualised). */
export interface GenerateOptions {
  bars: number;
  seed: number;
  /** Default '1m'. */
  timeframe?: Timeframe;
  /** Time of the first bar, epoch ms. Default 2020-01-01T00:00:00Z. */
  start?: number;
  /** Default 100. */
  startPrice?: number;
  /** Annual drift of the log price. Default 0.05. */
  drift?: number;
  /** Annual volatility. Default 0.2 (equity index like). */
  volatility?: number;
  /** Markov switching between bull (+drift +0.3), bear (-0.3, 1.5x vol) and sideways (0, 0.7x vol) regimes. */
  regimes?: boolean;
  /** GARCH(1,1)-like clustering: variance = w + 0.08 * shock^2 + 0.9 * previous variance. */
  volatilityClustering?: boolean;
}

/** Default start of generated series: 2020-01-01T00:00:00Z. */
export const DEFAULT_GENERATE_START = Date.UTC(2020, 0, 1);
const YEAR_MS = 365 * 86_400_000;
const REGIMES = [
  { drift: 0.3, vol: 1 },
  { drift: -0.3, vol: 1.5 },
  { drift: 0, vol: 0.7 },
];
const GARCH_ALPHA = 0.08;
const GARCH_BETA = 0.9;

/**
 * Generates bars by geometric Brownian motion: each close is the previous close times exp((mu - s^2/2)dt + s*sqrt(dt)*Z).
 * Open is the previous close, high/low extend past max/min(open, close) by a half-normal fraction of the bar's
 * volatility, and volume is log-normal and rises with the size of the move. Same options, same bars.
 */
export function generateBars(opts: GenerateOptions): BarColumns {
  const n = opts.bars;
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`bars must be a non-negative integer, got ${n}`, 'bars');
  if (!Number.isFinite(opts.seed)) throw new ValidationError(`seed must be a number, got ${opts.seed}`, 'seed');
  const tf = opts.timeframe ?? '1m';
  const step = TIMEFRAME_MS[tf];
  if (step === undefined) throw new ValidationError(`unknown timeframe ${tf}`, 'timeframe');
  const start = opts.start ?? DEFAULT_GENERATE_START;
  const startPrice = opts.startPrice ?? 100;
  if (!(startPrice > 0)) throw new ValidationError('startPrice must be > 0', 'startPrice');
  const baseDrift = opts.drift ?? 0.05;
  const baseVol = opts.volatility ?? 0.2;
  if (!(baseVol >= 0)) throw new ValidationError('volatility must be >= 0', 'volatility');
  const dt = step / YEAR_MS;
  const sqrtDt = Math.sqrt(dt);
  const rng = new SeededRandom(opts.seed);
  const c: BarColumns = {
    length: n,
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  // Regimes last about 500 bars on average.
  const switchProb = 1 / 500;
  let regime = 2;
  const baseVar = (baseVol * sqrtDt) ** 2;
  const omega = baseVar * (1 - GARCH_ALPHA - GARCH_BETA);
  let variance = baseVar;
  let lastShock = 0;
  let prevClose = startPrice;
  for (let i = 0; i < n; i++) {
    let drift = baseDrift;
    let volScale = 1;
    if (opts.regimes) {
      if (rng.next() < switchProb) regime = (regime + 1 + Math.floor(rng.next() * 2)) % 3;
      drift += REGIMES[regime].drift;
      volScale = REGIMES[regime].vol;
    }
    if (opts.volatilityClustering) variance = omega + GARCH_ALPHA * lastShock * lastShock + GARCH_BETA * variance;
    const sigma = Math.sqrt(variance) * volScale;
    const shock = sigma * rng.normal();
    lastShock = shock / volScale;
    const o = prevClose;
    const cl = o * Math.exp(drift * dt - 0.5 * sigma * sigma + shock);
    const hi = Math.max(o, cl) * Math.exp(Math.abs(rng.normal()) * sigma * 0.5);
    const lo = Math.min(o, cl) * Math.exp(-Math.abs(rng.normal()) * sigma * 0.5);
    c.time[i] = start + i * step;
    c.open[i] = o;
    c.high[i] = hi;
    c.low[i] = lo;
    c.close[i] = cl;
    c.volume[i] = 1000 * Math.exp(0.5 * rng.normal()) * (1 + (sigma > 0 ? Math.abs(shock) / sigma : 0));
    prevClose = cl;
  }
  return c;
}
