import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BarColumns } from '../../core/bar.js';

/**
 * Reads the bundled S&P 500 daily sample (data/sample/sp500_2000.csv) for indicator tests. A deliberately tiny
 * reader of that one known-good file, so these tests do not depend on the data importer.
 */
export function loadSampleBars(): BarColumns {
  const file = fileURLToPath(new URL('../../../data/sample/sp500_2000.csv', import.meta.url));
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const n = lines.length;
  const cols = {
    length: n,
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  lines.forEach((line, i) => {
    const [t, o, h, l, c, v] = line.split(',');
    cols.time[i] = Date.parse(`${t}T00:00:00Z`);
    cols.open[i] = Number(o);
    cols.high[i] = Number(h);
    cols.low[i] = Number(l);
    cols.close[i] = Number(c);
    cols.volume[i] = Number(v);
  });
  return cols;
}

/** Number of leading NaN values. */
export function leadingNaN(x: Float64Array): number {
  let i = 0;
  while (i < x.length && Number.isNaN(x[i])) i++;
  return i;
}

/** Largest relative error |a-b|/|b| over positions where `expected` is defined; Infinity when NaN positions differ. */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number | null>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e === null || Number.isNaN(e)) {
      if (!Number.isNaN(a)) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (Number.isNaN(a)) return Number.POSITIVE_INFINITY;
    const err = e === 0 ? Math.abs(a) : Math.abs(a - e) / Math.abs(e);
    if (err > worst) worst = err;
  }
  return worst;
}
