import type { BarColumns } from '../core/bar.js';
import { ValidationError } from '../core/errors.js';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.js';
import { Adx, adx } from './adx.js';
import { Atr, atr } from './atr.js';
import { BollingerBands, bbands } from './bbands.js';
import { Cci, cci } from './cci.js';
import { Donchian, donchian } from './donchian.js';
import { Ema, ema } from './ema.js';
import { Macd, macd } from './macd.js';
import { Obv, obv } from './obv.js';
import { Roc, roc } from './roc.js';
import { Rsi, rsi } from './rsi.js';
import { Sma, sma } from './sma.js';
import { StdDev, stddev } from './stddev.js';
import { Stochastic, stochastic } from './stochastic.js';
import { Vwap, vwap } from './vwap.js';
import { Wma, wma } from './wma.js';

/** How a parameter is read: an integer period >= 1, a positive number, or a duration (ms or a timeframe like 1d). */
export type ParamKind = 'period' | 'positive' | 'duration';

/** One parameter of an indicator. */
export interface ParamDef {
  readonly name: string;
  readonly kind: ParamKind;
  /** Used when the spec leaves the parameter out; absent means the parameter is required (or, for durations, off). */
  readonly default?: number;
}

/** A parsed indicator spec such as `macd:12,26,9`, with defaults filled in. */
export interface IndicatorSpec {
  /** The text as the user wrote it, for error messages. */
  readonly text: string;
  /** Canonical indicator name (aliases resolved), e.g. `bbands`. */
  readonly name: string;
  /** Parameter values in declaration order (NaN for an omitted optional duration). */
  readonly params: readonly number[];
  /** The parameter pieces used in output column names (`20`, `2`, `1d`). */
  readonly labels: readonly string[];
}

/** A streaming instance of a spec over bars: call `update` once per bar, then read `values` (one per output). */
export interface IndicatorStream {
  readonly names: readonly string[];
  /** Current outputs in `names` order, overwritten in place by every update (NaN where undefined). */
  readonly values: Float64Array;
  /** Adds a bar. */
  update(time: number, open: number, high: number, low: number, close: number, volume: number): void;
  /** True once every output is defined. */
  readonly ready: boolean;
  /** Forgets all bars. */
  reset(): void;
}

/** One computed output column. */
export interface IndicatorColumn {
  readonly name: string;
  readonly values: Float64Array;
}

interface IndicatorDef {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly summary: string;
  readonly params: readonly ParamDef[];
  /** Output name prefixes; the spec's labels are appended with `_`. */
  readonly outputs: readonly string[];
  batch(c: BarColumns, p: readonly number[]): Float64Array[];
  stream(p: readonly number[]): RawStream;
}

type RawStream = Omit<IndicatorStream, 'names'>;

const period = (name: string, def?: number): ParamDef => ({ name, kind: 'period', default: def });

/** Wraps a streaming object into the uniform IndicatorStream shape. `read` copies outputs into `out`. */
function makeStream<T extends { readonly ready: boolean; reset(): void }>(
  width: number,
  ind: T,
  push: (ind: T, t: number, o: number, h: number, l: number, c: number, v: number) => void,
  read: (ind: T, out: Float64Array) => void,
): RawStream {
  const values = new Float64Array(width).fill(Number.NaN);
  return {
    values,
    update(t, o, h, l, c, v) {
      push(ind, t, o, h, l, c, v);
      read(ind, values);
    },
    get ready() {
      return ind.ready;
    },
    reset() {
      ind.reset();
      values.fill(Number.NaN);
    },
  };
}

const single = <T extends { readonly value: number; readonly ready: boolean; reset(): void }>(
  ind: T,
  push: (ind: T, t: number, o: number, h: number, l: number, c: number, v: number) => void,
): RawStream =>
  makeStream(1, ind, push, (i, out) => {
    out[0] = i.value;
  });

const optionalMs = (x: number): number | undefined => (Number.isNaN(x) ? undefined : x);

const DEFS: readonly IndicatorDef[] = [
  {
    name: 'sma',
    aliases: [],
    summary: 'simple moving average of close',
    params: [period('period')],
    outputs: ['sma'],
    batch: (c, p) => [sma(c.close, p[0])],
    stream: (p) => single(new Sma(p[0]), (i, _t, _o, _h, _l, c) => i.update(c)),
  },
  {
    name: 'ema',
    aliases: [],
    summary: 'exponential moving average of close',
    params: [period('period')],
    outputs: ['ema'],
    batch: (c, p) => [ema(c.close, p[0])],
    stream: (p) => single(new Ema(p[0]), (i, _t, _o, _h, _l, c) => i.update(c)),
  },
  {
    name: 'wma',
    aliases: [],
    summary: 'linearly weighted moving average of close',
    params: [period('period')],
    outputs: ['wma'],
    batch: (c, p) => [wma(c.close, p[0])],
    stream: (p) => single(new Wma(p[0]), (i, _t, _o, _h, _l, c) => i.update(c)),
  },
  {
    name: 'rsi',
    aliases: [],
    summary: "Wilder's relative strength index of close",
    params: [period('period', 14)],
    outputs: ['rsi'],
    batch: (c, p) => [rsi(c.close, p[0])],
    stream: (p) => single(new Rsi(p[0]), (i, _t, _o, _h, _l, c) => i.update(c)),
  },
  {
    name: 'roc',
    aliases: [],
    summary: 'rate of change of close in percent',
    params: [period('period', 10)],
    outputs: ['roc'],
    batch: (c, p) => [roc(c.close, p[0])],
    stream: (p) => single(new Roc(p[0]), (i, _t, _o, _h, _l, c) => i.update(c)),
  },
  {
    name: 'stddev',
    aliases: ['sd'],
    summary: 'rolling population standard deviation of close',
    params: [period('period', 20)],
    outputs: ['stddev'],
    batch: (c, p) => [stddev(c.close, p[0])],
    stream: (p) => single(new StdDev(p[0]), (i, _t, _o, _h, _l, c) => i.update(c)),
  },
  {
    name: 'macd',
    aliases: [],
    summary: 'MACD line, signal line and histogram of close',
    params: [period('fast', 12), period('slow', 26), period('signal', 9)],
    outputs: ['macd', 'macd_signal', 'macd_hist'],
    batch: (c, p) => {
      const r = macd(c.close, p[0], p[1], p[2]);
      return [r.macd, r.signal, r.histogram];
    },
    stream: (p) =>
      makeStream(
        3,
        new Macd(p[0], p[1], p[2]),
        (i, _t, _o, _h, _l, c) => i.update(c),
        (i, out) => {
          out[0] = i.macd;
          out[1] = i.signal;
          out[2] = i.histogram;
        },
      ),
  },
  {
    name: 'bbands',
    aliases: ['bb', 'bollinger'],
    summary: 'Bollinger Bands of close (SMA ± k population standard deviations)',
    params: [period('period', 20), { name: 'k', kind: 'positive', default: 2 }],
    outputs: ['bb_lower', 'bb_middle', 'bb_upper'],
    batch: (c, p) => {
      const r = bbands(c.close, p[0], p[1]);
      return [r.lower, r.middle, r.upper];
    },
    stream: (p) =>
      makeStream(
        3,
        new BollingerBands(p[0], p[1]),
        (i, _t, _o, _h, _l, c) => i.update(c),
        (i, out) => {
          out[0] = i.lower;
          out[1] = i.middle;
          out[2] = i.upper;
        },
      ),
  },
  {
    name: 'atr',
    aliases: [],
    summary: "Wilder's average true range",
    params: [period('period', 14)],
    outputs: ['atr'],
    batch: (c, p) => [atr(c.high, c.low, c.close, p[0])],
    stream: (p) => single(new Atr(p[0]), (i, _t, _o, h, l, c) => i.update(h, l, c)),
  },
  {
    name: 'stoch',
    aliases: ['stochastic'],
    summary: 'slow stochastic %K and %D',
    params: [period('k', 14), period('kSmooth', 3), period('d', 3)],
    outputs: ['stoch_k', 'stoch_d'],
    batch: (c, p) => {
      const r = stochastic(c.high, c.low, c.close, p[0], p[1], p[2]);
      return [r.k, r.d];
    },
    stream: (p) =>
      makeStream(
        2,
        new Stochastic(p[0], p[1], p[2]),
        (i, _t, _o, h, l, c) => i.update(h, l, c),
        (i, out) => {
          out[0] = i.k;
          out[1] = i.d;
        },
      ),
  },
  {
    name: 'adx',
    aliases: ['dmi'],
    summary: "Wilder's ADX with +DI and -DI",
    params: [period('period', 14)],
    outputs: ['adx', 'plus_di', 'minus_di'],
    batch: (c, p) => {
      const r = adx(c.high, c.low, c.close, p[0]);
      return [r.adx, r.plusDi, r.minusDi];
    },
    stream: (p) =>
      makeStream(
        3,
        new Adx(p[0]),
        (i, _t, _o, h, l, c) => i.update(h, l, c),
        (i, out) => {
          out[0] = i.adx;
          out[1] = i.plusDi;
          out[2] = i.minusDi;
        },
      ),
  },
  {
    name: 'cci',
    aliases: [],
    summary: 'commodity channel index of the typical price',
    params: [period('period', 20)],
    outputs: ['cci'],
    batch: (c, p) => [cci(c.high, c.low, c.close, p[0])],
    stream: (p) => single(new Cci(p[0]), (i, _t, _o, h, l, c) => i.update(h, l, c)),
  },
  {
    name: 'donchian',
    aliases: ['dc'],
    summary: 'Donchian channel: highest high, lowest low and their midpoint',
    params: [period('period', 20)],
    outputs: ['donchian_upper', 'donchian_lower', 'donchian_middle'],
    batch: (c, p) => {
      const r = donchian(c.high, c.low, p[0]);
      return [r.upper, r.lower, r.middle];
    },
    stream: (p) =>
      makeStream(
        3,
        new Donchian(p[0]),
        (i, _t, _o, h, l) => i.update(h, l),
        (i, out) => {
          out[0] = i.upper;
          out[1] = i.lower;
          out[2] = i.middle;
        },
      ),
  },
  {
    name: 'obv',
    aliases: [],
    summary: 'on-balance volume',
    params: [],
    outputs: ['obv'],
    batch: (c) => [obv(c.close, c.volume)],
    stream: () => single(new Obv(), (i, _t, _o, _h, _l, c, v) => i.update(c, v)),
  },
  {
    name: 'vwap',
    aliases: [],
    summary: 'cumulative VWAP of the typical price, optionally reset every period (ms or timeframe, e.g. 1d)',
    params: [{ name: 'reset', kind: 'duration' }],
    outputs: ['vwap'],
    batch: (c, p) => [vwap(c.time, c.high, c.low, c.close, c.volume, optionalMs(p[0]))],
    stream: (p) => single(new Vwap(optionalMs(p[0])), (i, t, _o, h, l, c, v) => i.update(t, h, l, c, v)),
  },
];

const BY_NAME: ReadonlyMap<string, IndicatorDef> = new Map(
  DEFS.flatMap((d) => [d.name, ...d.aliases].map((n) => [n, d] as const)),
);

/** A short description of every indicator the spec language knows, for `--help` and docs. */
export function listIndicators(): { name: string; aliases: readonly string[]; usage: string; summary: string }[] {
  return DEFS.map((d) => ({
    name: d.name,
    aliases: d.aliases,
    usage: d.params.length
      ? `${d.name}:${d.params.map((p) => (p.default !== undefined ? `${p.name}=${p.default}` : p.name)).join(',')}`
      : d.name,
    summary: d.summary,
  }));
}

function bad(text: string, why: string): ValidationError {
  return new ValidationError(`indicator "${text}": ${why}`, 'indicator');
}

function parseParam(text: string, def: ParamDef, raw: string): { value: number; label: string } {
  if (def.kind === 'duration' && raw in TIMEFRAME_MS) return { value: TIMEFRAME_MS[raw as Timeframe], label: raw };
  const value = raw === '' ? Number.NaN : Number(raw);
  if (def.kind === 'period' && !(Number.isInteger(value) && value >= 1)) {
    throw bad(text, `${def.name} must be an integer >= 1, got "${raw}"`);
  }
  if (def.kind !== 'period' && !(Number.isFinite(value) && value > 0)) {
    const what = def.kind === 'duration' ? 'a number of milliseconds > 0 or a timeframe (1m..1w)' : 'a number > 0';
    throw bad(text, `${def.name} must be ${what}, got "${raw}"`);
  }
  return { value, label: def.kind === 'duration' ? raw : String(value) };
}

/**
 * Parses `name` or `name:p1,p2,...` (e.g. `sma:10`, `macd:12,26,9`, `bbands:20,2`, `vwap:1d`), filling defaults.
 * Throws a ValidationError naming the spec for an unknown indicator or bad parameters.
 */
export function parseIndicatorSpec(text: string): IndicatorSpec {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const name = (colon < 0 ? trimmed : trimmed.slice(0, colon)).trim().toLowerCase();
  const def = BY_NAME.get(name);
  if (!def) {
    throw bad(text, `unknown indicator "${name}" (known: ${DEFS.map((d) => d.name).join(', ')})`);
  }
  const raws =
    colon < 0
      ? []
      : trimmed
          .slice(colon + 1)
          .split(',')
          .map((s) => s.trim());
  if (raws.length > def.params.length) {
    throw bad(text, `${def.name} takes at most ${def.params.length} parameter(s), got ${raws.length}`);
  }
  const params: number[] = [];
  const labels: string[] = [];
  def.params.forEach((p, i) => {
    if (i < raws.length) {
      const { value, label } = parseParam(text, p, raws[i]);
      params.push(value);
      labels.push(label);
    } else if (p.default !== undefined) {
      params.push(p.default);
      labels.push(String(p.default));
    } else if (p.kind === 'duration') {
      params.push(Number.NaN);
    } else {
      throw bad(text, `${def.name} needs the ${p.name} parameter (e.g. ${def.name}:10)`);
    }
  });
  if (def.name === 'macd' && params[0] >= params[1]) {
    throw bad(text, `fast period (${params[0]}) must be smaller than slow period (${params[1]})`);
  }
  return { text, name: def.name, params, labels };
}

function defOf(spec: IndicatorSpec): IndicatorDef {
  const def = BY_NAME.get(spec.name);
  if (!def) throw bad(spec.text, `unknown indicator "${spec.name}"`);
  return def;
}

/** Output column names of a spec, e.g. `macd_12_26_9`, `macd_signal_12_26_9`, `macd_hist_12_26_9`. */
export function indicatorOutputNames(spec: IndicatorSpec): string[] {
  const suffix = spec.labels.length ? `_${spec.labels.join('_')}` : '';
  return defOf(spec).outputs.map((o) => `${o}${suffix}`);
}

/** Computes one spec over bar columns; returns one column per output, each as long as the input. */
export function computeIndicator(spec: IndicatorSpec, bars: BarColumns): IndicatorColumn[] {
  const names = indicatorOutputNames(spec);
  const cols = defOf(spec).batch(bars, spec.params);
  return names.map((name, i) => ({ name, values: cols[i] }));
}

/** Computes several specs (strings or parsed); duplicate output names are computed once, first wins. */
export function computeIndicators(specs: readonly (string | IndicatorSpec)[], bars: BarColumns): IndicatorColumn[] {
  const parsed = specs.map((s) => (typeof s === 'string' ? parseIndicatorSpec(s) : s));
  const out: IndicatorColumn[] = [];
  const seen = new Set<string>();
  for (const spec of parsed) {
    if (indicatorOutputNames(spec).every((n) => seen.has(n))) continue;
    for (const col of computeIndicator(spec, bars)) {
      if (seen.has(col.name)) continue;
      seen.add(col.name);
      out.push(col);
    }
  }
  return out;
}

/** Creates a streaming instance of a spec (for the rule language and live strategies). */
export function createIndicatorStream(spec: string | IndicatorSpec): IndicatorStream {
  const s = typeof spec === 'string' ? parseIndicatorSpec(spec) : spec;
  const stream = defOf(s).stream(s.params);
  const names = indicatorOutputNames(s);
  return {
    names,
    values: stream.values,
    update: stream.update,
    get ready() {
      return stream.ready;
    },
    reset: stream.reset,
  };
}
