import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BarColumns, DataError } from '../core/index.js';
import { generateBars } from './generate.js';
import { loadBars } from './load.js';
import { MarketDataStore, sliceRange } from './store.js';

let dir: string;
let store: MarketDataStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-store-'));
  store = new MarketDataStore(join(dir, 'data'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function same(a: BarColumns, b: BarColumns): void {
  expect(b.length).toBe(a.length);
  for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const)
    expect(Array.from(b[k])).toEqual(Array.from(a[k]));
}

describe('MarketDataStore', () => {
  it('round-trips columns, extras and text exactly', () => {
    const g = generateBars({ bars: 1000, seed: 3 });
    const c: BarColumns = {
      ...g,
      extra: { enter_long: Float64Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? 1 : Number.NaN)) },
      extraText: { tag: Array.from({ length: 1000 }, (_, i) => (i % 3 ? '' : `t"${i}`)) },
    };
    const path = store.write('BTC/USDT', '1m', c);
    expect(path.endsWith('BTC%2FUSDT_1m.tfb')).toBe(true);
    const back = store.read('BTC/USDT', '1m');
    same(c, back);
    expect(back.close).toBeInstanceOf(Float64Array);
    expect(back.close.byteOffset % 8).toBe(0);
    expect(back.extra?.enter_long[7]).toBe(1);
    expect(back.extra?.enter_long[8]).toBeNaN();
    expect(back.extraText?.tag[3]).toBe('t"3');
    expect(store.has('BTC/USDT', '1m')).toBe(true);
    expect(store.has('BTC/USDT', '1h')).toBe(false);
  });

  it('lists series with rows, range and size, and deletes', () => {
    const a = generateBars({ bars: 50, seed: 1, timeframe: '1h' });
    store.write('ETH/USDT', '1h', a);
    store.write('AAPL', '1d', generateBars({ bars: 10, seed: 2, timeframe: '1d' }));
    writeFileSync(join(store.dir, '.junk.tfb.123.abcd.tmp'), 'partial');
    const list = store.list();
    expect(list.map((s) => [s.symbol, s.timeframe, s.rows])).toEqual([
      ['AAPL', '1d', 10],
      ['ETH/USDT', '1h', 50],
    ]);
    expect(list[1].from).toBe(a.time[0]);
    expect(list[1].to).toBe(a.time[49]);
    expect(list[1].bytes).toBe(readFileSync(list[1].file).byteLength);
    expect(store.delete('AAPL', '1d')).toBe(true);
    expect(store.delete('AAPL', '1d')).toBe(false);
    expect(store.list()).toHaveLength(1);
  });

  it('reads a time range as views', () => {
    const g = generateBars({ bars: 100, seed: 5 });
    store.write('X', '1m', g);
    const r = store.read('X', '1m', { from: g.time[10], to: g.time[19] });
    expect(r.length).toBe(10);
    expect(r.time[0]).toBe(g.time[10]);
    expect(r.time[9]).toBe(g.time[19]);
    expect(sliceRange(g, { from: g.time[99] + 1 }).length).toBe(0);
  });

  it('appends only newer bars and rejects overlap', () => {
    const g = generateBars({ bars: 300, seed: 9 });
    const part = (a: number, b: number): BarColumns => sliceRange(g, { from: g.time[a], to: g.time[b - 1] });
    store.write('X', '1m', part(0, 200));
    expect(store.append('X', '1m', part(200, 300))).toEqual({ appended: 100, rows: 300 });
    same(g, store.read('X', '1m'));
    expect(() => store.append('X', '1m', part(250, 300))).toThrow(/not after the last stored bar/);
    expect(store.append('X', '1m', part(250, 300), { skipExisting: true })).toEqual({ appended: 0, rows: 300 });
    same(g, store.read('X', '1m'));
  });

  it('refuses unsorted data and leaves the stored file untouched', () => {
    const g = generateBars({ bars: 10, seed: 1 });
    store.write('X', '1m', g);
    const before = readFileSync(store.pathOf('X', '1m'));
    const bad = { ...g, time: Float64Array.from(g.time).reverse() };
    expect(() => store.write('X', '1m', bad)).toThrow(DataError);
    expect(readFileSync(store.pathOf('X', '1m')).equals(before)).toBe(true);
    expect(readdirSync(store.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('is not corrupted by a leftover or truncated temp file from a crash', () => {
    const g = generateBars({ bars: 100, seed: 4 });
    store.write('X', '1m', g);
    const path = store.pathOf('X', '1m');
    // A crash mid-write leaves a truncated temp file next to the real one.
    const full = readFileSync(path);
    writeFileSync(join(store.dir, `.X_1m.tfb.999.deadbeef.tmp`), full.subarray(0, full.byteLength >> 1));
    same(g, store.read('X', '1m'));
    expect(store.list()).toHaveLength(1);
    // The next write still succeeds atomically.
    const g2 = generateBars({ bars: 120, seed: 5 });
    store.write('X', '1m', g2);
    same(g2, store.read('X', '1m'));
  });

  it('reports a truncated or corrupt file as a DataError naming it', () => {
    store.write('X', '1m', generateBars({ bars: 100, seed: 4 }));
    const path = store.pathOf('X', '1m');
    truncateSync(path, 500);
    const err = (() => {
      try {
        store.read('X', '1m');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/truncated/);
    writeFileSync(path, 'not a store file at all, just some text padding it out........');
    expect(() => store.read('X', '1m')).toThrow(/bad magic/);
    expect(() => store.read('Y', '1m')).toThrow(/no stored data for Y 1m/);
  });

  it('loads by file path or stored symbol spec', () => {
    const g = generateBars({ bars: 30, seed: 8, timeframe: '1h' });
    store.write('ETH/USDT', '1h', g);
    same(g, loadBars('ETH/USDT', { store }).columns);
    expect(loadBars('ETH/USDT@1h', { store }).timeframe).toBe('1h');
    expect(loadBars('ETH/USDT:1h', { store }).symbol).toBe('ETH/USDT');
    store.write('ETH/USDT', '4h', generateBars({ bars: 5, seed: 8, timeframe: '4h' }));
    expect(() => loadBars('ETH/USDT', { store })).toThrow(/several timeframes \(1h, 4h\)/);
    expect(() => loadBars('NOPE', { store })).toThrow(/neither a file nor a stored symbol/);
    const csv = join(dir, 'bars.csv');
    writeFileSync(csv, 'time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,2,0.5,1.5\n');
    const f = loadBars(csv, { store });
    expect([f.symbol, f.timeframe, f.columns.length]).toEqual(['bars', '1d', 2]);
    expect(existsSync(csv)).toBe(true);
  });
});
