import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadCandles } from '../src/app/data-download.js';
import { coveragePath } from '../src/app/download-coverage.js';
import { VenueError } from '../src/core/errors.js';
import { MarketDataStore } from '../src/data/store.js';
import { createYahooChartSource } from '../src/venues/yahoo/chart-source.js';
import { startYahooServer, type YahooServer } from './yahoo-chart-server.js';

const DAY = 86_400_000;
const FROM = Date.UTC(2019, 0, 1); // a holiday: the first bar is on Jan 2
const TO = Date.UTC(2023, 11, 31); // a Sunday
const NOW = Date.UTC(2025, 0, 15);
let yahoo: YahooServer;
const dirs: string[] = [];

beforeAll(async () => {
  yahoo = await startYahooServer();
});
afterAll(async () => {
  await yahoo.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshStore(): MarketDataStore {
  const dir = mkdtempSync(join(tmpdir(), 'tf-yahoo-'));
  dirs.push(dir);
  return new MarketDataStore(dir);
}

const source = (maxAttempts = 8) =>
  createYahooChartSource({ baseUrl: yahoo.url, minIntervalMs: 0, backoffMs: 1, maxAttempts });

// What the store must hold: the server's bars in the range, null days left out, stamped at 00:00 UTC.
function expectedDays(symbol: string, from: number, to: number) {
  return yahoo
    .bars(symbol)
    .filter((b) => b.c !== null && b.t >= from && b.t <= to + DAY)
    .map((b) => ({ ...b, t: Math.floor((b.t - 5 * 3_600_000) / DAY) * DAY }))
    .filter((b) => b.t >= from && b.t <= to);
}

const dl = (store: MarketDataStore, src = source(), over: Partial<Parameters<typeof downloadCandles>[0]> = {}) =>
  downloadCandles({
    source: src,
    store,
    symbol: 'AAPL',
    timeframe: '1d',
    from: FROM,
    to: TO,
    pageLimit: 100,
    now: () => NOW,
    ...over,
  });

describe('data download from Yahoo chart API (local server speaking it)', () => {
  it('pages through time windows, stores every trading day at 00:00 UTC, skips null days, and reports progress', async () => {
    const store = freshStore();
    const before = yahoo.requests;
    const progress: [number, number][] = [];
    const r = await dl(store, source(), { onProgress: (d, e) => progress.push([d, e]) });
    const windows = Math.ceil((Math.floor((TO - FROM) / DAY) + 1) / 100);
    expect(r.pages).toBe(windows);
    expect(yahoo.requests - before).toBe(windows);
    const want = expectedDays('AAPL', FROM, TO);
    const got = store.read('AAPL', '1d');
    expect(got.length).toBe(want.length);
    expect(r.added).toBe(want.length);
    expect(Array.from(got.time)).toEqual(want.map((b) => b.t));
    expect(Array.from(got.close)).toEqual(want.map((b) => b.c));
    expect(Array.from(got.volume)).toEqual(want.map((b) => b.v));
    expect(got.time).not.toContain(Date.UTC(2019, 2, 14)); // the day Yahoo sent nulls for
    expect(progress.at(-1)).toEqual([windows, windows]);
    expect(progress.every(([d, e], i) => d === i + 1 && e === windows)).toBe(true);
  });

  it('a repeated request makes at least 90% fewer provider calls (here none: the holiday head is remembered)', async () => {
    const store = freshStore();
    const first = yahoo.requests;
    await dl(store);
    const firstCalls = yahoo.requests - first;
    expect(existsSync(coveragePath(store.pathOf('AAPL', '1d')))).toBe(true);
    const again = yahoo.requests;
    const repeat = await dl(store);
    const repeatCalls = yahoo.requests - again;
    expect(repeat.added).toBe(0);
    expect(repeatCalls).toBeLessThanOrEqual(firstCalls * 0.1);
    expect(repeatCalls).toBe(0);
    // A later --to fetches only the new tail.
    const tail = yahoo.requests;
    const more = await dl(store, source(), { to: TO + 30 * DAY });
    expect(yahoo.requests - tail).toBe(1);
    expect(more.added).toBe(expectedDays('AAPL', TO + 1, TO + 30 * DAY).length);
  });

  it('rides out a 429 storm (retried with backoff) with the same data', async () => {
    const clean = freshStore();
    await dl(clean);
    const store = freshStore();
    yahoo.throttleNext(5, 0);
    const src = source();
    const r = await dl(store, src);
    expect(src.calls).toBe(r.pages + 5);
    expect(Array.from(store.read('AAPL', '1d').close)).toEqual(Array.from(clean.read('AAPL', '1d').close));
  });

  it("waits at least the provider's Retry-After before asking again", async () => {
    const store = freshStore();
    yahoo.throttleNext(1, 1);
    const t0 = Date.now();
    await dl(store, source(), { to: FROM + 50 * DAY });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it('an interrupted download keeps what it got and resumes from there', async () => {
    const store = freshStore();
    yahoo.breakAfter(7);
    await expect(dl(store, source(2))).rejects.toThrow(VenueError);
    yahoo.heal();
    const kept = store.read('AAPL', '1d');
    expect(kept.length).toBeGreaterThan(0);
    const before = yahoo.requests;
    const r = await dl(store);
    const total = Math.ceil((Math.floor((TO - FROM) / DAY) + 1) / 100);
    expect(yahoo.requests - before).toBeLessThan(total);
    expect(store.read('AAPL', '1d').length).toBe(expectedDays('AAPL', FROM, TO).length);
    expect(r.added).toBe(expectedDays('AAPL', FROM, TO).length - kept.length);
  });

  it('an unknown symbol is a one-line error from the provider, not retried', async () => {
    const store = freshStore();
    const src = source();
    await expect(dl(store, src, { symbol: 'NOPE' })).rejects.toThrow(
      'yahoo: NOPE: No data found, symbol may be delisted',
    );
    expect(src.calls).toBe(1);
    expect(store.has('NOPE', '1d')).toBe(false);
  });

  it('forex hourly bars keep their times; weekend windows do not end the download', async () => {
    const store = freshStore();
    const from = Date.UTC(2024, 0, 1);
    const to = Date.UTC(2024, 2, 31, 23);
    const r = await dl(store, source(), { symbol: 'EURUSD=X', timeframe: '1h', from, to, pageLimit: 24 });
    const want = yahoo.bars('EURUSD=X').filter((b) => b.t >= from && b.t <= to);
    expect(r.added).toBe(want.length);
    expect(Array.from(store.read('EURUSD=X', '1h').time)).toEqual(want.map((b) => b.t));
  });
});

describe('tradeforge data download --provider yahoo', () => {
  it('downloads into the home store, prints the requests and the file; a repeat asks nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tf-yahoo-cli-'));
    dirs.push(home);
    const run = (...args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(
          process.execPath,
          [join(import.meta.dirname, '..', 'bin', 'tradeforge.js'), 'data', 'download', ...args],
          {
            env: { ...process.env, TRADEFORGE_HOME: home },
          },
        );
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => resolve({ code, out, err }));
      });
    const args = [
      '--provider',
      'yahoo',
      '--url',
      yahoo.url,
      '--symbols',
      'AAPL,MSFT',
      '--timeframe',
      '1d',
      '--from',
      '2019-01-01',
      '--to',
      '2020-12-31',
    ];
    const r = await run(...args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const days = expectedDays('AAPL', FROM, Date.UTC(2020, 11, 31)).length;
    expect(r.out).toContain(`AAPL 1d: ${days} new bars in 1 request to yahoo, ${days} stored`);
    expect(r.out).toMatch(/wrote .*\.tfb/);
    const again = await run(...args);
    expect(again.code).toBe(0);
    expect(again.out).toContain('AAPL 1d: 0 new bars in 0 requests to yahoo');
    expect(again.out).toContain('MSFT 1d: 0 new bars in 0 requests to yahoo');
    const bad = await run('--provider', 'yahoo', '--exchange', 'binance', '--symbols', 'AAPL', '--from', '2020-01-01');
    expect(bad.code).not.toBe(0);
    expect(bad.err.trim()).toBe('error: --exchange is for --provider ccxt');
  }, 180_000);
});
