/** Redis keys of per-worker counters that `queue status` reads (hashes keyed by worker id). */
export function statsKeys(prefix: string): { started: string; completed: string; failed: string } {
  return {
    started: `${prefix}:stats:started`,
    completed: `${prefix}:stats:completed`,
    failed: `${prefix}:stats:failed`,
  };
}
