import { escapeHtml } from './format.js';

/** Plot area of one chart, in SVG user units. */
export interface ChartFrame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Default frame: full report width, room on the left for price labels and below for dates. */
export function frame(height: number): ChartFrame {
  return { width: 1000, height, left: 70, right: 12, top: 10, bottom: 24 };
}

/** Linear map from [d0, d1] to [r0, r1]; a zero-width domain maps to the middle of the range. */
export function linear(d0: number, d1: number, r0: number, r1: number): (x: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (x) => r0 + (x - d0) * k;
}

/** Rounds a coordinate to 0.1 unit: enough on screen, a third of the bytes. */
export function c(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function dateLabel(ms: number, spanMs: number): string {
  const iso = new Date(ms).toISOString();
  return spanMs < 3 * 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

/** Grid lines and labels of both axes. */
export function axes(
  f: ChartFrame,
  t0: number,
  t1: number,
  y: (v: number) => number,
  ticks: number[],
  label: (v: number) => string,
): string {
  const x = linear(t0, t1, f.left, f.width - f.right);
  const parts: string[] = [];
  for (const v of ticks) {
    const yy = c(y(v));
    parts.push(`<line class="grid" x1="${f.left}" x2="${f.width - f.right}" y1="${yy}" y2="${yy}"/>`);
    parts.push(
      `<text class="ylab" x="${f.left - 6}" y="${yy}" dy="4" text-anchor="end">${escapeHtml(label(v))}</text>`,
    );
  }
  const n = 6;
  for (let i = 0; i <= n; i++) {
    const t = t0 + ((t1 - t0) * i) / n;
    const anchor = i === 0 ? 'start' : i === n ? 'end' : 'middle';
    parts.push(
      `<text class="xlab" x="${c(x(t))}" y="${f.height - 6}" text-anchor="${anchor}">${dateLabel(t, t1 - t0)}</text>`,
    );
  }
  return parts.join('');
}

/**
 * Path through (time, value) points, thinned to at most two points per horizontal pixel (each pixel keeps its
 * lowest and highest value, in time order) so a million-point curve stays a few kB without losing its extremes.
 */
export function linePath(
  time: Float64Array,
  value: Float64Array,
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  const out: string[] = [];
  const n = value.length;
  let col = Number.NaN;
  let minI = -1;
  let maxI = -1;
  const flush = () => {
    if (minI < 0) return;
    const a = Math.min(minI, maxI);
    const b = Math.max(minI, maxI);
    out.push(`${out.length ? 'L' : 'M'}${c(x(time[a]))},${c(y(value[a]))}`);
    if (b !== a) out.push(`L${c(x(time[b]))},${c(y(value[b]))}`);
  };
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(value[i])) continue;
    const px = Math.floor(x(time[i]));
    if (px !== col) {
      flush();
      col = px;
      minI = i;
      maxI = i;
    } else {
      if (value[i] < value[minI]) minI = i;
      if (value[i] > value[maxI]) maxI = i;
    }
  }
  flush();
  return out.join('');
}
