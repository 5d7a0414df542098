/** Time source and interval scheduler for ops components; injectable so tests drive time by hand. */
export interface OpsClock {
  /** Wall-clock time in epoch ms. */
  now(): number;
  /** Runs `fn` every `ms` milliseconds until the returned cancel function is called. Never keeps the process alive. */
  every(ms: number, fn: () => void): () => void;
  /** Runs `fn` once after `ms` milliseconds unless cancelled. Never keeps the process alive. */
  after(ms: number, fn: () => void): () => void;
}

/** The real clock: Date.now and unref'd Node timers, so a forgotten `stop()` never blocks process exit. */
export const systemClock: OpsClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
