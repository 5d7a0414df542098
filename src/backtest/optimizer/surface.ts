import type { ParamSpace } from './space.js';

/**
 * A known 2-parameter objective surface for judging samplers (tests and bench/sampler.bench.ts): one broad peak
 * at a=27, b=8 with ripples that make local bumps, on a 40 x 30 grid.
 */
export const SURFACE_SPACE: ParamSpace = [
  { name: 'a', values: Array.from({ length: 40 }, (_, i) => i) },
  { name: 'b', values: Array.from({ length: 30 }, (_, i) => i) },
];

/** The surface's value at (a, b); maximised. */
export function surfaceValue(a: number, b: number): number {
  return -((a - 27) ** 2) / 40 - (b - 8) ** 2 / 20 + 0.3 * Math.cos(a / 2) * Math.sin(b / 3);
}
