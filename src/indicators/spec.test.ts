import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import {
  adx,
  bbands,
  computeIndicator,
  computeIndicators,
  createIndicatorStream,
  indicatorOutputNames,
  listIndicators,
  macd,
  parseIndicatorSpec,
  sma,
  vwap,
} from './index.js';
import { loadSampleBars } from './testdata/sample.js';

const names = (s: string) => indicatorOutputNames(parseIndicatorSpec(s));

describe('parseIndicatorSpec', () => {
  it('parses parameters and fills defaults', () => {
    expect(parseIndicatorSpec('macd:12,26,9')).toMatchObject({ name: 'macd', params: [12, 26, 9] });
    expect(parseIndicatorSpec('macd')).toMatchObject({ params: [12, 26, 9] });
    expect(parseIndicatorSpec('macd:5')).toMatchObject({ params: [5, 26, 9] });
    expect(parseIndicatorSpec(' RSI ')).toMatchObject({ name: 'rsi', params: [14] });
    expect(parseIndicatorSpec('bb:20, 2.5')).toMatchObject({ name: 'bbands', params: [20, 2.5] });
    expect(parseIndicatorSpec('vwap:1d')).toMatchObject({ params: [86_400_000], labels: ['1d'] });
    expect(parseIndicatorSpec('vwap:3600000')).toMatchObject({ params: [3_600_000] });
  });

  it('names output columns', () => {
    expect(names('sma:10')).toEqual(['sma_10']);
    expect(names('ema:12')).toEqual(['ema_12']);
    expect(names('rsi')).toEqual(['rsi_14']);
    expect(names('macd:12,26,9')).toEqual(['macd_12_26_9', 'macd_signal_12_26_9', 'macd_hist_12_26_9']);
    expect(names('bbands:20,2')).toEqual(['bb_lower_20_2', 'bb_middle_20_2', 'bb_upper_20_2']);
    expect(names('bbands:20,2.0')).toEqual(['bb_lower_20_2', 'bb_middle_20_2', 'bb_upper_20_2']);
    expect(names('stoch')).toEqual(['stoch_k_14_3_3', 'stoch_d_14_3_3']);
    expect(names('atr')).toEqual(['atr_14']);
    expect(names('adx:14')).toEqual(['adx_14', 'plus_di_14', 'minus_di_14']);
    expect(names('cci')).toEqual(['cci_20']);
    expect(names('roc:10')).toEqual(['roc_10']);
    expect(names('stddev:20')).toEqual(['stddev_20']);
    expect(names('wma:10')).toEqual(['wma_10']);
    expect(names('obv')).toEqual(['obv']);
    expect(names('vwap')).toEqual(['vwap']);
    expect(names('vwap:1d')).toEqual(['vwap_1d']);
    expect(names('donchian:20')).toEqual(['donchian_upper_20', 'donchian_lower_20', 'donchian_middle_20']);
  });

  it.each([
    ['foo:3', /indicator "foo:3": unknown indicator "foo" \(known: sma, ema/],
    ['sma', /indicator "sma": sma needs the period parameter/],
    ['sma:0', /indicator "sma:0": period must be an integer >= 1, got "0"/],
    ['sma:2.5', /period must be an integer/],
    ['sma:abc', /got "abc"/],
    ['sma:', /got ""/],
    ['sma:10,20', /sma takes at most 1 parameter\(s\), got 2/],
    ['obv:3', /obv takes at most 0/],
    ['bbands:20,-1', /k must be a number > 0/],
    ['macd:26,12,9', /fast period \(26\) must be smaller than slow period \(12\)/],
    ['vwap:2x', /reset must be a number of milliseconds/],
  ])('%s is a ValidationError naming the spec', (text, message) => {
    let caught: unknown;
    try {
      parseIndicatorSpec(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as Error).message).toMatch(message);
  });

  it('lists every indicator with usage', () => {
    const list = listIndicators();
    expect(list.map((d) => d.name).sort()).toEqual(
      [
        'adx',
        'atr',
        'bbands',
        'cci',
        'donchian',
        'ema',
        'macd',
        'obv',
        'roc',
        'rsi',
        'sma',
        'stddev',
        'stoch',
        'vwap',
        'wma',
      ].sort(),
    );
    expect(list.find((d) => d.name === 'macd')?.usage).toBe('macd:fast=12,slow=26,signal=9');
  });
});

describe('computing specs over bar columns', () => {
  const b = loadSampleBars();

  it('returns the batch functions’ columns under their names', () => {
    const cols = computeIndicators(['sma:10', 'macd', 'bbands:20,2', 'adx', 'vwap:1w'], b);
    const get = (n: string) => cols.find((c) => c.name === n)?.values;
    expect(get('sma_10')).toEqual(sma(b.close, 10));
    expect(get('macd_signal_12_26_9')).toEqual(macd(b.close).signal);
    expect(get('bb_upper_20_2')).toEqual(bbands(b.close, 20, 2).upper);
    expect(get('minus_di_14')).toEqual(adx(b.high, b.low, b.close, 14).minusDi);
    expect(get('vwap_1w')).toEqual(vwap(b.time, b.high, b.low, b.close, b.volume, 7 * 86_400_000));
  });

  it('computes a duplicate spec once', () => {
    const cols = computeIndicators(['sma:10', 'sma:10', 'rsi', 'rsi:14'], b);
    expect(cols.map((c) => c.name)).toEqual(['sma_10', 'rsi_14']);
  });

  it('a stream over bars reproduces the batch columns for every indicator', () => {
    for (const d of listIndicators()) {
      const spec = parseIndicatorSpec(
        d.name === 'sma' || d.name === 'ema' || d.name === 'wma' ? `${d.name}:9` : d.name,
      );
      const batch = computeIndicator(spec, b);
      const stream = createIndicatorStream(spec);
      expect(stream.names).toEqual(batch.map((c) => c.name));
      const got = batch.map(() => new Float64Array(b.length));
      for (let i = 0; i < b.length; i++) {
        stream.update(b.time[i], b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i]);
        for (let j = 0; j < got.length; j++) got[j][i] = stream.values[j];
      }
      expect(stream.ready).toBe(true);
      got.forEach((g, j) => {
        expect(g, batch[j].name).toEqual(batch[j].values);
      });
      stream.reset();
      expect(stream.ready).toBe(false);
      expect(Number.isNaN(stream.values[0])).toBe(true);
    }
  });
});
