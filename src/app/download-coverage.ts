import { existsSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../data/atomic-file.js';

/**
 * The download cache's memory of what a provider has already answered for one stored series: time ranges
 * `[from, to]` (epoch ms, inclusive) asked and answered in full, kept beside the series' store file
 * (`<file>.coverage.json`). The store holds the candles; this holds the ranges that had none (weekends,
 * holidays, the time before a listing), so a repeated request asks the provider for neither.
 */
export type Coverage = [number, number][];

const schema = z.object({ version: z.literal(1), ranges: z.array(z.tuple([z.number(), z.number()])) });

/** The coverage file of a store file. */
export function coveragePath(storeFile: string): string {
  return `${storeFile}.coverage.json`;
}

/** Reads the ranges (none when the file is missing or unreadable: the cache then only costs calls). */
export function readCoverage(storeFile: string): Coverage {
  const path = coveragePath(storeFile);
  if (!existsSync(path)) return [];
  try {
    return schema.parse(JSON.parse(readFileSync(path, 'utf8'))).ranges;
  } catch {
    return [];
  }
}

/** Adds `[from, to]`, merging touching ranges, and writes the file atomically. */
export function addCoverage(storeFile: string, from: number, to: number, stepMs: number): Coverage {
  if (!(to >= from)) return readCoverage(storeFile);
  const all = [...readCoverage(storeFile), [from, to] as [number, number]].sort((a, b) => a[0] - b[0]);
  const merged: Coverage = [];
  for (const r of all) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + stepMs) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  const text = `${JSON.stringify({ version: 1, ranges: merged })}\n`;
  writeFileAtomic(coveragePath(storeFile), (fd) => writeSync(fd, text));
  return merged;
}

/** The parts of `[a, b]` not inside any covered range, on the bar grid of `stepMs`. */
export function uncovered(a: number, b: number, covered: Coverage, stepMs: number): [number, number][] {
  let parts: [number, number][] = [[a, b]];
  for (const [c0, c1] of covered) {
    const next: [number, number][] = [];
    for (const [x, y] of parts) {
      if (c1 < x || c0 > y) {
        next.push([x, y]);
        continue;
      }
      if (c0 > x) next.push([x, c0 - stepMs]);
      if (c1 < y) next.push([c1 + stepMs, y]);
    }
    parts = next.filter(([x, y]) => y >= x);
  }
  return parts;
}
