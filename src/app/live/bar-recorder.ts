/**
 * Records the bars a deployment was served live (closed bars from its feed), so `tradeforge replay` can run the
 * same market data through the simulated venue later (BT-8). One columnar store per deployment under
 * `<home>/data/live/<deployment>/`; bars are buffered and appended in batches (and at shutdown), off the per-bar path.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomic } from '../../backtest/report/write.js';
import { DataError } from '../../core/errors.js';
import type { Instrument } from '../../core/instrument.js';
import { TIMEFRAME_MS, type Timeframe } from '../../core/timeframe.js';
import { encodeSymbol, MarketDataStore } from '../../data/store.js';

/** Bars buffered before an append (an hour of 1m bars). */
const BATCH = 60;
/**
 * Bars this long or longer are appended as each closes: a batch of 60 daily bars would keep two months out of reach
 * of a replay (the promotion's dry-run check replays while the runtime keeps running), for at most 24 appends a day.
 */
const APPEND_EACH_FROM_MS = 3_600_000;

/** The folder holding a deployment's recorded bars. */
export function liveBarsDir(liveDataDir: string, deploymentId: string): string {
  return join(liveDataDir, encodeSymbol(deploymentId));
}

/** The instruments a deployment traded (lot and tick sizes), as recorded with its bars. */
export function readRecordedInstruments(dir: string): Instrument[] {
  const file = join(dir, 'instruments.json');
  if (!existsSync(file)) throw new DataError(`no recorded instruments in ${dir}`, { file });
  return JSON.parse(readFileSync(file, 'utf8')) as Instrument[];
}

/** Buffers closed live bars per symbol and appends them to the deployment's market-data store. */
export class LiveBarRecorder {
  private readonly store: MarketDataStore;
  private readonly rows = new Map<string, number[][]>();

  constructor(
    liveDataDir: string,
    deploymentId: string,
    private readonly timeframe: Timeframe,
    instruments: readonly Instrument[],
    private readonly onError: (err: unknown) => void,
  ) {
    const dir = liveBarsDir(liveDataDir, deploymentId);
    this.store = new MarketDataStore(dir);
    // The venue's lot and tick sizes at the time: a replay rounds quantities and prices as the venue did.
    try {
      mkdirSync(dir, { recursive: true });
      writeTextAtomic(join(dir, 'instruments.json'), `${JSON.stringify(instruments, null, 2)}\n`);
    } catch (err) {
      onError(err);
    }
  }

  /** Records one closed bar of `symbol`. */
  record(symbol: string, time: number, open: number, high: number, low: number, close: number, volume: number): void {
    let list = this.rows.get(symbol);
    if (!list) {
      list = [];
      this.rows.set(symbol, list);
    }
    list.push([time, open, high, low, close, volume]);
    if (list.length >= BATCH || TIMEFRAME_MS[this.timeframe] >= APPEND_EACH_FROM_MS) this.flush();
  }

  /** Appends every buffered bar (bars already stored, e.g. after a restart, are skipped). */
  flush(): void {
    for (const [symbol, list] of this.rows) {
      if (list.length === 0) continue;
      const col = (k: number) => Float64Array.from(list, (r) => r[k]);
      try {
        this.store.append(
          symbol,
          this.timeframe,
          {
            length: list.length,
            time: col(0),
            open: col(1),
            high: col(2),
            low: col(3),
            close: col(4),
            volume: col(5),
          },
          { skipExisting: true },
        );
      } catch (err) {
        this.onError(err);
      }
      list.length = 0;
    }
  }
}
