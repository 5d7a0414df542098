/** ISO 8601 UTC text of an epoch-ms time; the number itself when it is not a valid date. */
export function isoTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A number for people: fixed digits, thousands untouched, `—` for null/NaN. */
export function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

/** A duration in ms as `3d 4h`, `5h 10m` or `42m`. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const m = Math.round(ms / 60_000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${min}m`;
  return `${min}m`;
}

/** Fewest decimals (at most `max`) that write `x` back to itself within float noise: 890.159973 -> 6. */
export function decimalsNeeded(x: number, max = 8): number {
  if (!Number.isFinite(x)) return 0;
  const tol = 1e-9 * Math.max(1, Math.abs(x));
  for (let d = 0; d < max; d++) {
    const p = 10 ** d;
    if (Math.abs(Math.round(x * p) / p - x) <= tol) return d;
  }
  return max;
}

/**
 * The precision a series is quoted in: the most decimals any of (up to `sample` evenly spread) values needs,
 * at most `max`. Prices of the data set, quantities of the trades.
 */
export function precisionOf(values: ArrayLike<number>, max = 8, sample = 2000): number {
  const n = values.length;
  const step = Math.max(1, Math.floor(n / sample));
  let d = 0;
  for (let i = 0; i < n && d < max; i += step) d = Math.max(d, decimalsNeeded(values[i], max));
  return d;
}
