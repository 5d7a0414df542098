import {
  Adx,
  Atr,
  BollingerBands,
  Cci,
  Donchian,
  Ema,
  Macd,
  Obv,
  Roc,
  Rsi,
  Sma,
  StdDev,
  Stochastic,
  Vwap,
  Wma,
} from '../src/indicators/index.js';

const N = 1_000_000;

/** Synthetic bars from a tiny seeded LCG random walk, so every run measures the same input. */
function synthetic(n: number) {
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const time = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let price = 100;
  for (let i = 0; i < n; i++) {
    price *= 1 + (rnd() - 0.5) * 0.02;
    time[i] = 1_700_000_000_000 + i * 60_000;
    close[i] = price;
    high[i] = price * (1 + rnd() * 0.01);
    low[i] = price * (1 - rnd() * 0.01);
    volume[i] = 1000 + rnd() * 1000;
  }
  return { time, high, low, close, volume };
}

type Feed = (i: number) => number;

/** Indicator benchmark: streaming updates per second over 1M synthetic bars, one row per indicator. */
export default async function (): Promise<void> {
  const d = synthetic(N);
  const { time: t, high: h, low: l, close: c, volume: v } = d;
  const cases: [string, () => Feed][] = [
    [
      'Sma(20)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new Sma(20)),
    ],
    [
      'Ema(20)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new Ema(20)),
    ],
    [
      'Wma(20)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new Wma(20)),
    ],
    [
      'Rsi(14)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new Rsi(14)),
    ],
    [
      'Roc(10)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new Roc(10)),
    ],
    [
      'StdDev(20)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new StdDev(20)),
    ],
    [
      'Macd(12,26,9)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new Macd()),
    ],
    [
      'BollingerBands(20,2)',
      () =>
        (
          (x) => (i) =>
            x.update(c[i])
        )(new BollingerBands()),
    ],
    [
      'Atr(14)',
      () =>
        (
          (x) => (i) =>
            x.update(h[i], l[i], c[i])
        )(new Atr()),
    ],
    [
      'Stochastic(14,3,3)',
      () =>
        (
          (x) => (i) =>
            x.update(h[i], l[i], c[i])
        )(new Stochastic()),
    ],
    [
      'Adx(14)',
      () =>
        (
          (x) => (i) =>
            x.update(h[i], l[i], c[i])
        )(new Adx()),
    ],
    [
      'Cci(20)',
      () =>
        (
          (x) => (i) =>
            x.update(h[i], l[i], c[i])
        )(new Cci()),
    ],
    [
      'Donchian(20)',
      () =>
        (
          (x) => (i) =>
            x.update(h[i], l[i])
        )(new Donchian()),
    ],
    [
      'Obv',
      () =>
        (
          (x) => (i) =>
            x.update(c[i], v[i])
        )(new Obv()),
    ],
    [
      'Vwap(1d)',
      () =>
        (
          (x) => (i) =>
            x.update(t[i], h[i], l[i], c[i], v[i])
        )(new Vwap(86_400_000)),
    ],
  ];
  console.log(`indicators: streaming updates over ${N.toLocaleString('en-US')} synthetic bars (best of 3 runs)`);
  console.log(`  ${'indicator'.padEnd(22)} ${'updates/s'.padStart(14)} ${'ns/update'.padStart(10)}`);
  let sink = 0;
  for (const [name, make] of cases) {
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 3; run++) {
      const feed = make();
      const start = process.hrtime.bigint();
      for (let i = 0; i < N; i++) sink += feed(i) || 0;
      const ns = Number(process.hrtime.bigint() - start);
      if (ns < best) best = ns;
    }
    const perSec = (N / best) * 1e9;
    console.log(
      `  ${name.padEnd(22)} ${Math.round(perSec).toLocaleString('en-US').padStart(14)} ${(best / N).toFixed(1).padStart(10)}`,
    );
  }
  // Printing the sink keeps the JIT from discarding the work.
  console.log(`  (checksum ${sink.toExponential(3)})`);
}
