import { createHash } from 'node:crypto';
import type { BarColumns } from '../core/bar.js';

/** Version tag hashed first: a change of what is hashed must change every data hash. */
export const DATA_HASH_VERSION = 'tradeforge-bars-v1';

/**
 * sha256 of the bars a run used: per symbol its name and the bytes of its time, open, high, low, close and
 * volume columns (the run's window, in order). Two runs with the same hash saw exactly the same market data.
 */
export function dataHash(data: readonly { symbol: string; columns: BarColumns }[]): string {
  const h = createHash('sha256');
  h.update(DATA_HASH_VERSION);
  for (const d of data) {
    const c = d.columns;
    h.update(`\n${d.symbol}\n${c.length}\n`);
    for (const col of [c.time, c.open, c.high, c.low, c.close, c.volume]) {
      h.update(new Uint8Array(col.buffer, col.byteOffset, c.length * 8));
    }
  }
  return h.digest('hex');
}
