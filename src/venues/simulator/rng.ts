/** Seeded pseudo-random numbers so a simulator run is reproducible from its seed. */

/** A seeded generator: `next()` in [0, 1), `normal()` standard normal. */
export interface Rng {
  next(): number;
  normal(): number;
}

/** Mulberry32: small, fast and good enough for a market model (not for cryptography). */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    // Box-Muller; 1 - next() keeps the log argument in (0, 1].
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return { next, normal };
}
