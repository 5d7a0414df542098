import ccxt from 'ccxt';
import { ConfigError } from '../../core/errors.js';
import { withRetry } from '../resilience.js';
import { mapCcxtError } from './errors.js';

/** A provider of historical candles: one page `[time, open, high, low, close, volume][]` from `since` on. */
export interface OhlcvSource {
  /** Names the provider in messages. */
  readonly id: string;
  /** Largest page the provider returns. */
  readonly pageLimit: number;
  /** Provider calls made so far (retries included). */
  readonly calls: number;
  /**
   * `count` (default, ccxt): a page holds up to `limit` candles from `since`, and a short page means no more.
   * `window`: a page is the time window of `limit` bars from `since` and may hold fewer (market hours).
   */
  readonly paging?: 'count' | 'window';
  fetchPage(symbol: string, timeframe: string, since: number, limit: number): Promise<number[][]>;
  close(): Promise<void>;
}

/** Options of the ccxt candle source. */
export interface CcxtOhlcvOptions {
  exchange: string;
  /** Entries merged into ccxt's `urls.api` (point it at the venue simulator on loopback). */
  urls?: Record<string, unknown>;
  /** Minimum ms between calls; default: the exchange's own rate limit as ccxt knows it. */
  rateLimitMs?: number;
  timeoutMs?: number;
  /** Retries of a throttled or failed page (429, 5xx, timeouts); default 8 attempts within 120 s. */
  maxAttempts?: number;
  maxElapsedMs?: number;
  /** First backoff step in ms (default 500). */
  backoffMs?: number;
}

type ExchangeClass = new (config: Record<string, unknown>) => InstanceType<typeof ccxt.Exchange>;

/**
 * Historical candles through ccxt `fetchOHLCV`: the exchange's rate limit is respected (ccxt's throttle), and a
 * throttled (429, honouring Retry-After) or failing page is retried with backoff before the download gives up.
 */
export function createCcxtOhlcvSource(opts: CcxtOhlcvOptions): OhlcvSource {
  const rest = ccxt as unknown as Record<string, ExchangeClass | undefined>;
  const Cls = ccxt.exchanges.includes(opts.exchange) ? rest[opts.exchange] : undefined;
  if (!Cls) throw new ConfigError('exchange', `unknown ccxt exchange "${opts.exchange}"`);
  const ex = new Cls({
    enableRateLimit: true,
    timeout: opts.timeoutMs ?? 10_000,
    options: opts.exchange === 'binance' ? { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false } : {},
  });
  if (opts.rateLimitMs !== undefined) ex.rateLimit = opts.rateLimitMs;
  if (opts.urls) {
    const api = (ex.urls as { api?: Record<string, unknown> }).api ?? {};
    (ex.urls as { api?: Record<string, unknown> }).api = { ...api, ...opts.urls };
  }
  if (!(ex.has as Record<string, unknown>).fetchOHLCV) {
    throw new ConfigError('exchange', `${opts.exchange} has no OHLCV history in ccxt (fetchOHLCV)`);
  }
  let calls = 0;
  // binance pages up to 1000 candles; most exchanges at least 500.
  const pageLimit = opts.exchange === 'binance' ? 1000 : 500;
  return {
    id: opts.exchange,
    pageLimit,
    get calls() {
      return calls;
    },
    async fetchPage(symbol, timeframe, since, limit) {
      return withRetry(
        async () => {
          calls++;
          try {
            return (await ex.fetchOHLCV(symbol, timeframe, since, limit)) as number[][];
          } catch (err) {
            throw mapCcxtError(err, opts.exchange, ex.last_response_headers as Record<string, unknown> | undefined);
          }
        },
        {
          maxAttempts: opts.maxAttempts ?? 8,
          maxElapsedMs: opts.maxElapsedMs ?? 120_000,
          baseMs: opts.backoffMs ?? 500,
          label: `${opts.exchange} fetchOHLCV ${symbol} ${timeframe}`,
        },
      );
    },
    async close() {
      await ex.close();
    },
  };
}
