import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFreqtradeFeather } from '../../../test/freqtrade-fixtures.js';
import { DataError } from '../../core/errors.js';
import { generateBars } from '../generate.js';
import { readFreqtradeFeather } from './feather.js';
import { parseFreqtradeFileName } from './folder.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-feather-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readFreqtradeFeather', () => {
  it.each(['ns', 'us', 'ms'] as const)('reads an LZ4-compressed file with %s dates exactly', (unit) => {
    const bars = generateBars({ bars: 5000, seed: 3, timeframe: '1h' });
    const flat = { ...bars, volume: new Float64Array(bars.length) };
    const path = join(dir, `BTC_USDT-1h-${unit}.feather`);
    writeFreqtradeFeather(path, flat, { unit });
    // Six 8-byte columns uncompressed; the dates and the flat volume shrink under LZ4, so the file is smaller.
    expect(statSync(path).size).toBeLessThan(5000 * 8 * 5);
    const c = readFreqtradeFeather(path);
    expect(c.length).toBe(5000);
    expect(c.time).toEqual(bars.time);
    expect(c.close).toEqual(bars.close);
    expect(c.high).toEqual(bars.high);
    expect(c.volume).toEqual(flat.volume);
  });

  it('reads an uncompressed file too', () => {
    const bars = generateBars({ bars: 100, seed: 4, timeframe: '5m' });
    const path = join(dir, 'plain.feather');
    writeFreqtradeFeather(path, bars, { compress: false });
    expect(readFreqtradeFeather(path).open).toEqual(bars.open);
  });

  it('refuses a file that is not Arrow, naming it', () => {
    const path = join(dir, 'junk.feather');
    writeFileSync(path, 'date,open\n1,2\n');
    expect(() => readFreqtradeFeather(path)).toThrow(DataError);
    expect(() => readFreqtradeFeather(path)).toThrow(/junk\.feather: not a readable Arrow\/feather file/);
  });
});

describe('parseFreqtradeFileName', () => {
  it.each([
    ['BTC_USDT-5m.json', { pair: 'BTC/USDT', timeframe: '5m', format: 'json', supported: true }],
    ['BTC_USDT-5m.feather', { pair: 'BTC/USDT', timeframe: '5m', format: 'feather', supported: true }],
    ['ETH_BTC-1d.json.gz', { pair: 'ETH/BTC', timeframe: '1d', format: 'jsongz', supported: true }],
    [
      'BTC_USDT_USDT-1h-futures.feather',
      { pair: 'BTC/USDT:USDT', timeframe: '1h', format: 'feather', supported: true },
    ],
    ['BTC_USDT-3m.feather', { pair: 'BTC/USDT', timeframe: '3m', format: 'feather', supported: false }],
  ])('%s', (name, expected) => {
    expect(parseFreqtradeFileName(name)).toEqual(expected);
  });

  it.each(['BTC_USDT-trades.json', 'README.md', 'BTC-5m.json', 'BTC_USDT-5m.parquet'])(
    '%s is not a candle file',
    (n) => {
      expect(parseFreqtradeFileName(n)).toBeUndefined();
    },
  );
});
