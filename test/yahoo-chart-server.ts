/**
 * A local HTTP server speaking Yahoo Finance's chart API (`GET /v8/finance/chart/{symbol}?period1&period2&
 * interval`) for tests: the JSON shape of the real answers (`chart.result[0].meta/timestamp/indicators.quote`,
 * `chart.error` with 404 for an unknown symbol), daily bars stamped at the New York open (14:30 UTC,
 * gmtoffset -18000) on weekdays except listed holidays, one day whose prices are null (as Yahoo sends for a
 * halted day), hourly bars for a forex pair, and injected 429s with Retry-After. Port 0; loopback only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeededRandom } from '../src/data/random.js';

const DAY = 86_400_000;

/** One candle the server holds (epoch ms as Yahoo stamps it). */
export interface ServerBar {
  t: number;
  o: number | null;
  h: number | null;
  l: number | null;
  c: number | null;
  v: number | null;
}

/** The running fake. */
export interface YahooServer {
  url: string;
  /** Chart requests answered (429s included). */
  readonly requests: number;
  /** Answers the next `n` chart requests with 429 and `Retry-After: retryAfter` seconds. */
  throttleNext(n: number, retryAfter?: number): void;
  /** Answers every request from the `n`-th on (counting from now) with 500 until `heal()`. */
  breakAfter(n: number): void;
  heal(): void;
  /** The bars a symbol has (daily for stocks, hourly for `=X` pairs). */
  bars(symbol: string): ServerBar[];
  close(): Promise<void>;
}

function makeDaily(seed: number, from: number, to: number, holidays: Set<number>, nullDay: number): ServerBar[] {
  const rnd = new SeededRandom(seed);
  const out: ServerBar[] = [];
  let p = 150;
  for (let d = from; d <= to; d += DAY) {
    const wd = new Date(d).getUTCDay();
    if (wd === 0 || wd === 6 || holidays.has(d)) continue;
    const o = p;
    const c = o * (1 + 0.02 * (rnd.next() - 0.5));
    const h = Math.max(o, c) * (1 + 0.01 * rnd.next());
    const l = Math.min(o, c) * (1 - 0.01 * rnd.next());
    p = c;
    const t = d + 14.5 * 3_600_000;
    out.push(
      d === nullDay
        ? { t, o: null, h: null, l: null, c: null, v: null }
        : { t, o, h, l, c, v: Math.round(1e6 * (1 + rnd.next())) },
    );
  }
  return out;
}

function makeHourly(seed: number, from: number, to: number): ServerBar[] {
  const rnd = new SeededRandom(seed);
  const out: ServerBar[] = [];
  let p = 1.1;
  for (let t = from; t <= to; t += 3_600_000) {
    const wd = new Date(t).getUTCDay();
    if (wd === 6) continue; // forex closes on Saturdays
    const o = p;
    const c = o * (1 + 0.002 * (rnd.next() - 0.5));
    out.push({ t, o, h: Math.max(o, c) * 1.0005, l: Math.min(o, c) * 0.9995, c, v: 0 });
    p = c;
  }
  return out;
}

/** Starts the fake with stocks `AAPL`, `MSFT` (daily, 2018-2024) and `EURUSD=X` (hourly, 2024). */
export async function startYahooServer(): Promise<YahooServer> {
  const holidays = new Set([Date.UTC(2019, 0, 1), Date.UTC(2019, 6, 4), Date.UTC(2019, 11, 25), Date.UTC(2020, 0, 1)]);
  const data = new Map<string, ServerBar[]>([
    ['AAPL', makeDaily(1, Date.UTC(2018, 0, 1), Date.UTC(2024, 11, 31), holidays, Date.UTC(2019, 2, 14))],
    ['MSFT', makeDaily(2, Date.UTC(2018, 0, 1), Date.UTC(2024, 11, 31), holidays, -1)],
    ['EURUSD=X', makeHourly(3, Date.UTC(2024, 0, 1), Date.UTC(2024, 5, 30))],
  ]);
  let requests = 0;
  let throttle = 0;
  let retryAfter = 0;
  let breakAt = Number.POSITIVE_INFINITY;
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/v8\/finance\/chart\/([^/]+)$/.exec(u.pathname);
    if (!m) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    requests++;
    if (throttle > 0) {
      throttle--;
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(retryAfter) }).end('Too Many Requests');
      return;
    }
    if (requests >= breakAt) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      return;
    }
    const symbol = decodeURIComponent(m[1]);
    const bars = data.get(symbol);
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(body));
    if (!bars) {
      json(404, {
        chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } },
      });
      return;
    }
    const p1 = Number(u.searchParams.get('period1')) * 1000;
    const p2 = Number(u.searchParams.get('period2')) * 1000;
    const interval = u.searchParams.get('interval');
    const fx = symbol.endsWith('=X');
    if ((fx && interval !== '60m') || (!fx && interval !== '1d')) {
      json(422, {
        chart: {
          result: null,
          error: {
            code: 'Unprocessable Entity',
            description: `Invalid input - interval=${interval} is not supported here`,
          },
        },
      });
      return;
    }
    const sel = bars.filter((b) => b.t >= p1 && b.t < p2);
    const meta = {
      currency: fx ? 'USD' : 'USD',
      symbol,
      exchangeName: fx ? 'CCY' : 'NMS',
      instrumentType: fx ? 'CURRENCY' : 'EQUITY',
      firstTradeDate: Math.floor(bars[0].t / 1000),
      regularMarketTime: Math.floor(bars[bars.length - 1].t / 1000),
      gmtoffset: fx ? 0 : -18000,
      timezone: fx ? 'GMT' : 'EST',
      exchangeTimezoneName: fx ? 'Europe/London' : 'America/New_York',
      regularMarketPrice: bars[bars.length - 1].c,
      dataGranularity: interval,
      range: '',
      validRanges: ['1d', '5d', '1mo', '3mo', '6mo', '1y', '2y', '5y', '10y', 'ytd', 'max'],
    };
    // Yahoo leaves out `timestamp` (and the quote arrays are empty) when the window holds no bar.
    json(200, {
      chart: {
        result: [
          {
            meta,
            ...(sel.length ? { timestamp: sel.map((b) => Math.floor(b.t / 1000)) } : {}),
            indicators: {
              quote: [
                sel.length
                  ? {
                      open: sel.map((b) => b.o),
                      high: sel.map((b) => b.h),
                      low: sel.map((b) => b.l),
                      close: sel.map((b) => b.c),
                      volume: sel.map((b) => b.v),
                    }
                  : {},
              ],
              ...(fx ? {} : { adjclose: [sel.length ? { adjclose: sel.map((b) => b.c) } : {}] }),
            },
          },
        ],
        error: null,
      },
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    throttleNext(n, ra = 0) {
      throttle = n;
      retryAfter = ra;
    },
    breakAfter(n) {
      breakAt = requests + n;
    },
    heal() {
      breakAt = Number.POSITIVE_INFINITY;
    },
    bars: (s) => data.get(s) ?? [],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
