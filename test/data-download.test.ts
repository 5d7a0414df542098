import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadCandles } from '../src/app/data-download.js';
import { VenueError } from '../src/core/errors.js';
import { MarketDataStore } from '../src/data/store.js';
import { createCcxtOhlcvSource } from '../src/venues/ccxt/ohlcv-source.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const HISTORY = 3000;
const KLINES = { path: '/api/v3/klines' };
let sim: SimulatorHandle;
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, tickIntervalMs: 0, historyBars: HISTORY, now: () => NOW });
});
afterAll(async () => {
  await sim.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshStore(): MarketDataStore {
  const dir = mkdtempSync(join(tmpdir(), 'tf-dl-'));
  dirs.push(dir);
  return new MarketDataStore(dir);
}

const source = (maxAttempts = 8) =>
  createCcxtOhlcvSource({ exchange: 'binance', urls: sim.ccxtUrls(), rateLimitMs: 1, backoffMs: 5, maxAttempts });
const klineCalls = () => sim.requests.filter((r) => r.path === '/api/v3/klines');
const simCandles = () => sim.state.market('BTCUSDT').candles;

describe('data download through ccxt fetchOHLCV (venue simulator on loopback)', () => {
  const first = () => simCandles()[0].time;
  const last = () => simCandles()[simCandles().length - 1].time;

  it('pages through the range, stores every candle, and a repeat is served from the store', async () => {
    const store = freshStore();
    const src = source();
    try {
      const before = klineCalls().length;
      const r = await downloadCandles({
        source: src,
        store,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        from: first(),
        to: last(),
        pageLimit: 500,
      });
      const calls = klineCalls().length - before;
      expect(r.pages).toBe(HISTORY / 500);
      expect(calls).toBe(HISTORY / 500);
      expect(r.added).toBe(HISTORY);
      const got = store.read('BTC/USDT', '1m');
      expect(got.length).toBe(HISTORY);
      const want = simCandles();
      for (const i of [0, 499, 500, 1777, HISTORY - 1]) {
        expect(got.time[i]).toBe(want[i].time);
        expect(got.open[i]).toBeCloseTo(want[i].open, 8);
        expect(got.close[i]).toBeCloseTo(want[i].close, 8);
        expect(got.volume[i]).toBeCloseTo(want[i].volume, 8);
      }
      const again = klineCalls().length;
      const repeat = await downloadCandles({
        source: src,
        store,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        from: first(),
        to: last(),
        pageLimit: 500,
      });
      const repeatCalls = klineCalls().length - again;
      expect(repeatCalls).toBeLessThanOrEqual(calls * 0.1);
      expect(repeat.added).toBe(0);
    } finally {
      await src.close();
    }
  });

  it('rides out a 429 storm (retried with backoff) with the same data', async () => {
    const store = freshStore();
    const src = source();
    try {
      const before = sim.requests.length;
      sim.faults.rateLimitNext(5, 0, KLINES);
      const r = await downloadCandles({
        source: src,
        store,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        from: first(),
        to: last(),
        pageLimit: 1000,
      });
      const seen = sim.requests.slice(before).filter((q) => q.path === KLINES.path);
      expect(seen.filter((q) => q.status === 429)).toHaveLength(5);
      expect(seen.filter((q) => q.status === 200)).toHaveLength(3);
      expect(r.stored).toBe(HISTORY);
      expect(store.read('BTC/USDT', '1m').close[HISTORY - 1]).toBeCloseTo(simCandles()[HISTORY - 1].close, 8);
    } finally {
      await src.close();
    }
  });

  it("waits at least the venue's Retry-After before asking again", async () => {
    const store = freshStore();
    const src = source();
    try {
      const before = sim.requests.length;
      sim.faults.rateLimitNext(1, 1, KLINES);
      await downloadCandles({ source: src, store, symbol: 'BTC/USDT', timeframe: '1m', from: first(), to: first() });
      const seen = sim.requests.slice(before).filter((q) => q.path === KLINES.path);
      expect(seen.map((q) => q.status)).toEqual([429, 200]);
      expect(seen[1].time - seen[0].time).toBeGreaterThanOrEqual(1000);
    } finally {
      await src.close();
    }
  });

  it('an interrupted download keeps what it got and resumes from there', async () => {
    const store = freshStore();
    const src = source(2);
    try {
      // After the second page the venue fails twice in a row: the source gives up (2 attempts).
      const failing = downloadCandles({
        source: src,
        store,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        from: first(),
        to: last(),
        pageLimit: 500,
        onProgress: (done) => {
          if (done === 2) sim.faults.failNext(2, 503, KLINES);
        },
      });
      await expect(failing).rejects.toBeInstanceOf(VenueError);
      expect(store.read('BTC/USDT', '1m').length).toBe(1000);
      const before = klineCalls().length;
      const r = await downloadCandles({
        source: src,
        store,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        from: first(),
        to: last(),
        pageLimit: 500,
      });
      expect(klineCalls().length - before).toBe(4);
      expect(r.added).toBe(HISTORY - 1000);
      const got = store.read('BTC/USDT', '1m');
      expect(got.length).toBe(HISTORY);
      expect(got.time[1000]).toBe(simCandles()[1000].time);
    } finally {
      await src.close();
    }
  });

  it('fetches only the missing head and tail around what is stored', async () => {
    const store = freshStore();
    const src = source();
    try {
      const mid0 = simCandles()[1000].time;
      const mid1 = simCandles()[1999].time;
      await downloadCandles({
        source: src,
        store,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        from: mid0,
        to: mid1,
        pageLimit: 500,
      });
      expect(store.read('BTC/USDT', '1m').length).toBe(1000);
      const before = klineCalls().length;
      const r = await downloadCandles({
        source: src,
        store,
        symbol: 'BTC/USDT',
        timeframe: '1m',
        from: first(),
        to: last(),
        pageLimit: 500,
      });
      // head 1000 candles = 2 pages, tail 1000 candles = 2 pages
      expect(klineCalls().length - before).toBe(4);
      expect(r.added).toBe(2000);
      const got = store.read('BTC/USDT', '1m');
      expect(Array.from(got.time)).toEqual(simCandles().map((c) => c.time));
    } finally {
      await src.close();
    }
  });
});

describe('tradeforge data download (CLI against the simulator)', () => {
  it('downloads into the home store, prints the file, and a repeat fetches nothing', async () => {
    const { spawn } = await import('node:child_process');
    const home = mkdtempSync(join(tmpdir(), 'tf-dl-cli-'));
    dirs.push(home);
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((done, fail) => {
        const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'tradeforge.js'), ...args], {
          env: { ...process.env, TRADEFORGE_HOME: home },
        });
        let out = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        child.on('error', fail);
        child.on('close', (code) => done({ code, out, err }));
      });
    const candles = sim.state.market('BTCUSDT').candles;
    const args = [
      'data',
      'download',
      '--exchange',
      'binance',
      '--url',
      sim.url,
      '--symbols',
      'BTC/USDT',
      '--timeframe',
      '1m',
      '--from',
      new Date(candles[0].time).toISOString(),
      '--to',
      new Date(candles[candles.length - 1].time).toISOString(),
    ];
    const r = await cli(args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`BTC/USDT 1m: ${HISTORY} new bars in 3 requests to binance, ${HISTORY} stored`);
    const file = /wrote (.+\.tfb)/.exec(r.out)?.[1] as string;
    expect(new MarketDataStore(join(home, 'data')).pathOf('BTC/USDT', '1m')).toBe(file);
    const again = await cli(args);
    expect(again.out).toContain('BTC/USDT 1m: 0 new bars in 0 requests to binance');
    const bad = await cli([
      'data',
      'download',
      '--exchange',
      'nosuchexchange',
      '--symbols',
      'X',
      '--from',
      '2024-01-01',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toContain('nosuchexchange');
  }, 180_000);
});
