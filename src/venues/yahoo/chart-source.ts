import { z } from 'zod';
import { ConfigError, VenueError } from '../../core/errors.js';
import { TIMEFRAME_MS, type Timeframe } from '../../core/timeframe.js';
import type { OhlcvSource } from '../ccxt/ohlcv-source.js';
import { withRetry } from '../resilience.js';

/** Yahoo's interval names for ours (no 4h: Yahoo has none). */
const INTERVALS: Partial<Record<Timeframe, string>> = {
  '1m': '1m',
  '5m': '5m',
  '15m': '15m',
  '1h': '60m',
  '1d': '1d',
  '1w': '1wk',
};

const DAY_MS = 86_400_000;

const nullableNumbers = z.array(z.number().nullable());

/** The chart API's answer (`/v8/finance/chart/{symbol}`), the parts we read. */
const chartSchema = z.object({
  chart: z.object({
    result: z
      .array(
        z.object({
          meta: z.object({ symbol: z.string(), gmtoffset: z.number().default(0), currency: z.string().nullish() }),
          timestamp: z.array(z.number()).optional(),
          indicators: z.object({
            quote: z
              .array(
                z.object({
                  open: nullableNumbers.optional(),
                  high: nullableNumbers.optional(),
                  low: nullableNumbers.optional(),
                  close: nullableNumbers.optional(),
                  volume: nullableNumbers.optional(),
                }),
              )
              .min(1),
          }),
        }),
      )
      .nullable(),
    error: z.object({ code: z.string(), description: z.string().nullish() }).nullable(),
  }),
});

/** Options of the Yahoo chart source. */
export interface YahooChartOptions {
  /** Base URL (default Yahoo's query host); tests point it at a local server speaking the same API. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Minimum ms between calls (default 500: Yahoo throttles bursts with 429). */
  minIntervalMs?: number;
  /** Retries of a throttled (429, Retry-After honoured) or failed (5xx, network) call; default 8 within 120 s. */
  maxAttempts?: number;
  maxElapsedMs?: number;
  backoffMs?: number;
  fetch?: typeof fetch;
}

/**
 * Candles of stocks, ETFs, indices and forex pairs (`AAPL`, `^GSPC`, `EURUSD=X`) from Yahoo Finance's chart API
 * over plain `fetch` + zod. It needs no API key. Pages are time windows (`paging: 'window'`): a window of
 * `limit` bars may hold fewer (nights, weekends, holidays) without the history being over. Daily and weekly
 * bars are stamped at 00:00 UTC of the exchange's local date; rows with an empty price (Yahoo's nulls) are left
 * out. A 429 or 5xx is retried with backoff, honouring Retry-After.
 */
export function createYahooChartSource(opts: YahooChartOptions = {}): OhlcvSource {
  const base = (opts.baseUrl ?? 'https://query1.finance.yahoo.com').replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const minInterval = opts.minIntervalMs ?? 500;
  let calls = 0;
  let lastCall = Number.NEGATIVE_INFINITY;

  async function throttle(): Promise<void> {
    const wait = lastCall + minInterval - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lastCall = Date.now();
  }

  async function once(symbol: string, timeframe: Timeframe, since: number, limit: number): Promise<number[][]> {
    const interval = INTERVALS[timeframe];
    if (interval === undefined) {
      throw new ConfigError(
        'timeframe',
        `Yahoo has no ${timeframe} candles (use ${Object.keys(INTERVALS).join(', ')})`,
      );
    }
    const period1 = Math.floor(since / 1000);
    const period2 = Math.floor((since + limit * TIMEFRAME_MS[timeframe]) / 1000);
    const url = `${base}/v8/finance/chart/${encodeURIComponent(symbol)}?period1=${period1}&period2=${period2}&interval=${interval}&includePrePost=false&events=div%2Csplits`;
    await throttle();
    calls++;
    let res: Response;
    try {
      res = await doFetch(url, {
        signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      throw new VenueError(`yahoo: ${symbol}: request failed (${(err as Error).message})`, {
        retryable: true,
        venue: 'yahoo',
        cause: err,
      });
    }
    const text = await res.text();
    if (res.status === 429 || res.status >= 500) {
      const ra = Number(res.headers.get('retry-after'));
      throw new VenueError(`yahoo: ${symbol}: HTTP ${res.status}`, {
        retryable: true,
        venue: 'yahoo',
        ...(Number.isFinite(ra) && ra >= 0 ? { retryAfterMs: ra * 1000 } : {}),
      });
    }
    let body: z.infer<typeof chartSchema>;
    try {
      body = chartSchema.parse(JSON.parse(text));
    } catch {
      throw new VenueError(`yahoo: ${symbol}: HTTP ${res.status}, not a chart answer: ${text.slice(0, 120)}`, {
        retryable: false,
        venue: 'yahoo',
      });
    }
    const { result, error } = body.chart;
    if (error !== null || result === null || result.length === 0) {
      throw new VenueError(`yahoo: ${symbol}: ${error?.description ?? error?.code ?? `HTTP ${res.status}`}`, {
        retryable: false,
        venue: 'yahoo',
      });
    }
    return toRows(result[0], timeframe);
  }

  return {
    id: 'yahoo',
    pageLimit: 1000,
    paging: 'window',
    get calls() {
      return calls;
    },
    fetchPage(symbol, timeframe, since, limit) {
      return withRetry(() => once(symbol, timeframe as Timeframe, since, limit), {
        maxAttempts: opts.maxAttempts ?? 8,
        maxElapsedMs: opts.maxElapsedMs ?? 120_000,
        baseMs: opts.backoffMs ?? 500,
        label: `yahoo chart ${symbol} ${timeframe}`,
      });
    },
    async close() {},
  };
}

type ChartResult = NonNullable<z.infer<typeof chartSchema>['chart']['result']>[number];

// Columns -> [ms, o, h, l, c, v] rows; daily and weekly bars at 00:00 UTC of the local date.
function toRows(r: ChartResult, timeframe: Timeframe): number[][] {
  const ts = r.timestamp ?? [];
  const q = r.indicators.quote[0];
  const daily = timeframe === '1d' || timeframe === '1w';
  const offsetMs = r.meta.gmtoffset * 1000;
  const rows: number[][] = [];
  for (let i = 0; i < ts.length; i++) {
    const o = q.open?.[i];
    const h = q.high?.[i];
    const l = q.low?.[i];
    const c = q.close?.[i];
    if (o == null || h == null || l == null || c == null) continue;
    let t = ts[i] * 1000;
    if (daily) t = Math.floor((t + offsetMs) / DAY_MS) * DAY_MS;
    rows.push([t, o, h, l, c, q.volume?.[i] ?? 0]);
  }
  return rows;
}
