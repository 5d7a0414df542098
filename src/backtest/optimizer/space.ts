import { ValidationError } from '../../core/errors.js';
import type { ParamSpec, ParamValue } from '../../strategy/types.js';

/** One searched parameter and the values it takes, in order. */
export interface ParamAxis {
  readonly name: string;
  readonly values: readonly ParamValue[];
}

/** The search space: the cartesian product of its axes (last axis varies fastest). */
export type ParamSpace = readonly ParamAxis[];

/** One point of the space: a value per parameter name. */
export type ParamSet = Readonly<Record<string, ParamValue>>;

/** Largest grid `--method grid` accepts; above it, random search is the tool. */
export const MAX_GRID = 1_000_000;

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const RANGE = new RegExp(`^(${NUM})\\.\\.(${NUM})(?::(${NUM}))?$`);

function decimals(s: string): number {
  const m = /\.(\d+)/.exec(s);
  return m ? m[1].length : 0;
}

/** A list item or single value: a number when it reads as one, else the text (the strategy coerces bools/enums). */
function scalar(s: string): ParamValue {
  const t = s.trim();
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
}

/**
 * Expands `lo..hi:step` (inclusive, step 1 by default). Values are rounded to the decimals written in the spec so
 * `0.1..0.3:0.1` gives 0.1, 0.2, 0.3 and not 0.30000000000000004.
 */
export function expandRange(lo: number, hi: number, step: number, digits: number, where: string): number[] {
  if (!(step > 0)) throw new ValidationError(`${where}: step must be > 0, got ${step}`, 'param');
  if (lo > hi) throw new ValidationError(`${where}: range start ${lo} is above its end ${hi}`, 'param');
  const count = Math.floor((hi - lo) / step + 1e-9) + 1;
  if (count > MAX_GRID) throw new ValidationError(`${where}: ${count} values is too many (max ${MAX_GRID})`, 'param');
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Number((lo + i * step).toFixed(digits)));
  return out;
}

/**
 * Parses one `--param` of the optimiser: `name=lo..hi:step` (range), `name=a,b,c` (list) or `name=v` (fixed).
 * Throws a ValidationError quoting the flag when it is malformed.
 */
export function parseParamAxis(text: string): ParamAxis {
  const eq = text.indexOf('=');
  const where = `--param "${text}"`;
  if (eq <= 0) throw new ValidationError(`${where}: expected name=lo..hi:step, name=a,b,c or name=value`, 'param');
  const name = text.slice(0, eq).trim();
  const rhs = text.slice(eq + 1).trim();
  if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new ValidationError(`${where}: bad parameter name "${name}"`, 'param');
  if (rhs === '') throw new ValidationError(`${where}: no value`, 'param');
  const m = RANGE.exec(rhs);
  if (m) {
    const step = m[3] === undefined ? 1 : Number(m[3]);
    const digits = Math.max(decimals(m[1]), decimals(m[3] ?? '1'));
    return { name, values: expandRange(Number(m[1]), Number(m[2]), step, digits, where) };
  }
  if (rhs.includes('..')) throw new ValidationError(`${where}: expected a range like 5..50:5`, 'param');
  const items = rhs.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new ValidationError(`${where}: empty item in the list`, 'param');
  return { name, values: [...new Set(items.map(scalar))] };
}

/** Parses every `--param` flag into a space; a parameter named twice is an error. */
export function parseParamSpace(texts: readonly string[]): ParamSpace {
  const axes = texts.map(parseParamAxis);
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.name)) throw new ValidationError(`--param ${a.name} is given twice`, 'param');
    seen.add(a.name);
  }
  return axes;
}

/** The axis a strategy declares for a parameter (its min..max:step, its enum values, or true/false). */
export function axisFromSpec(spec: ParamSpec): ParamAxis | undefined {
  if (spec.type === 'bool') return { name: spec.name, values: [false, true] };
  if (spec.type === 'enum') return spec.values ? { name: spec.name, values: [...spec.values] } : undefined;
  if (spec.min === undefined || spec.max === undefined) return undefined;
  const step = spec.step ?? (spec.type === 'int' ? 1 : (spec.max - spec.min) / 10);
  const digits = spec.type === 'int' ? 0 : Math.min(12, Math.max(decimals(String(step)), decimals(String(spec.min))));
  return { name: spec.name, values: expandRange(spec.min, spec.max, step, digits, `parameter ${spec.name}`) };
}

/** Number of points in the space (the product of the axis lengths; 1 for an empty space). */
export function spaceSize(space: ParamSpace): number {
  return space.reduce((n, a) => n * a.values.length, 1);
}

/** The point with this index in grid order (mixed radix, last axis fastest). */
export function pointAt(space: ParamSpace, index: number): ParamSet {
  const out: Record<string, ParamValue> = {};
  let rest = index;
  for (let i = space.length - 1; i >= 0; i--) {
    const a = space[i];
    out[a.name] = a.values[rest % a.values.length];
    rest = Math.floor(rest / a.values.length);
  }
  // Keep the names in the order the user gave them.
  return Object.fromEntries(space.map((a) => [a.name, out[a.name]]));
}

/** Every point of the space, in grid order. */
export function gridPoints(space: ParamSpace): ParamSet[] {
  const n = spaceSize(space);
  if (n > MAX_GRID) {
    throw new ValidationError(`the grid has ${n} points (max ${MAX_GRID}); use --method random --trials N`, 'param');
  }
  return Array.from({ length: n }, (_, i) => pointAt(space, i));
}

/**
 * `trials` distinct points drawn uniformly without replacement by a seeded generator (same seed, same points).
 * Asking for at least the whole grid returns the whole grid, shuffled.
 */
export function randomPoints(space: ParamSpace, trials: number, next: () => number): ParamSet[] {
  if (!Number.isInteger(trials) || trials < 1)
    throw new ValidationError(`--trials must be a positive integer, got ${trials}`, 'trials');
  const n = spaceSize(space);
  const take = Math.min(trials, n);
  const picked: number[] = [];
  if (take * 2 >= n) {
    // Dense: Fisher-Yates over all indices, keep the first `take`.
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(next() * (n - i));
      [all[i], all[j]] = [all[j], all[i]];
      picked.push(all[i]);
    }
  } else {
    const seen = new Set<number>();
    while (picked.length < take) {
      const i = Math.floor(next() * n);
      if (!seen.has(i)) {
        seen.add(i);
        picked.push(i);
      }
    }
  }
  return picked.map((i) => pointAt(space, i));
}

/** `fast=10 slow=30`: a point as text for tables and messages. */
export function formatPoint(p: ParamSet): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
