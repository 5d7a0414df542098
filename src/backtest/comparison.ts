import type { EquityCurve } from './metrics.js';

/** An equity curve as plain arrays (what a stored run keeps). */
export interface EquitySeries {
  time: number[];
  value: number[];
}

/** A stored run as the comparison needs it. */
export interface ComparableRun {
  id: string;
  metrics: Record<string, unknown>;
  fingerprint: string | null;
  equity: EquitySeries;
}

/** One metric of two runs side by side; `diff` is b - a when both are numbers. */
export interface MetricRow {
  name: string;
  a: number | null;
  b: number | null;
  diff: number | null;
}

/** Two runs compared: metrics side by side and both equity curves on one time grid. */
export interface RunComparison {
  a: string;
  b: string;
  sameResult: boolean;
  metrics: MetricRow[];
  equity: { time: number; a: number | null; b: number | null }[];
}

/**
 * At most `maxPoints` points of a curve: the last point of each of `maxPoints` equal buckets (the final value
 * is always kept), so a stored run of a million bars stays small.
 */
export function downsampleEquity(eq: EquityCurve | EquitySeries, maxPoints: number): EquitySeries {
  const n = eq.time.length;
  if (n <= maxPoints) return { time: Array.from(eq.time), value: Array.from(eq.value) };
  const time: number[] = [];
  const value: number[] = [];
  for (let k = 1; k <= maxPoints; k++) {
    const i = Math.ceil((k * n) / maxPoints) - 1;
    time.push(eq.time[i]);
    value.push(eq.value[i]);
  }
  return { time, value };
}

/** Equity at time `t`: the last point at or before it; null before the curve starts. */
export function equityAt(eq: EquitySeries, t: number): number | null {
  let lo = 0;
  let hi = eq.time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (eq.time[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : eq.value[lo - 1];
}

/** Compares two runs: every numeric metric either has (not the `...Time` points in time), and the equity of both at `points` times over their span. */
export function compareRuns(a: ComparableRun, b: ComparableRun, points = 8): RunComparison {
  // Points in time (start, end, drawdown peak...) differ by data window, not by quality: left out.
  const names = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].filter(
    (k) => !k.endsWith('Time') && (typeof a.metrics[k] === 'number' || typeof b.metrics[k] === 'number'),
  );
  const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const metrics = names.map((name) => {
    const va = num(a.metrics[name]);
    const vb = num(b.metrics[name]);
    return { name, a: va, b: vb, diff: va !== null && vb !== null ? vb - va : null };
  });
  const starts = [a.equity.time[0], b.equity.time[0]].filter((x) => x !== undefined);
  const ends = [a.equity.time.at(-1), b.equity.time.at(-1)].filter((x): x is number => x !== undefined);
  const equity: RunComparison['equity'] = [];
  if (starts.length > 0 && ends.length > 0) {
    const t0 = Math.min(...starts);
    const t1 = Math.max(...ends);
    const steps = t1 > t0 ? Math.max(1, points - 1) : 0;
    for (let k = 0; k <= steps; k++) {
      const t = steps === 0 ? t0 : Math.round(t0 + ((t1 - t0) * k) / steps);
      equity.push({ time: t, a: equityAt(a.equity, t), b: equityAt(b.equity, t) });
    }
  }
  return {
    a: a.id,
    b: b.id,
    sameResult: a.fingerprint !== null && a.fingerprint === b.fingerprint,
    metrics,
    equity,
  };
}

function cell(x: number | null): string {
  if (x === null) return '-';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e9 || abs < 1e-4)) return x.toExponential(4);
  return x.toLocaleString('en-US', { maximumFractionDigits: abs >= 1000 ? 2 : 4 });
}

/** The comparison as an aligned text table (metrics, then equity over time). */
export function formatComparison(c: RunComparison): string {
  const rows: string[][] = [['metric', c.a, c.b, 'b - a']];
  for (const m of c.metrics) rows.push([m.name, cell(m.a), cell(m.b), cell(m.diff)]);
  rows.push(['', '', '', '']);
  rows.push(['equity at', c.a, c.b, 'b - a']);
  for (const e of c.equity) {
    rows.push([
      new Date(e.time).toISOString().replace('.000Z', 'Z'),
      cell(e.a),
      cell(e.b),
      cell(e.a !== null && e.b !== null ? e.b - e.a : null),
    ]);
  }
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r[0] === '' ? '' : [r[0].padEnd(w[0]), r[1].padStart(w[1]), r[2].padStart(w[2]), r[3].padStart(w[3])].join('  '),
  );
  lines.push(c.sameResult ? 'same trades (equal fingerprints)' : 'different trades (fingerprints differ)');
  return `${lines.join('\n')}\n`;
}
