/** Identifier helpers. Deterministic counters in the kernel keep backtests reproducible. */

/** A generator of ids `prefix-1`, `prefix-2` ... (deterministic, for the kernel and backtests). */
export function sequentialIds(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}
