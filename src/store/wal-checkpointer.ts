import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Options of a WalCheckpointer. */
export interface WalCheckpointerOptions {
  /** How often a checkpoint is started (ms, default 250). */
  intervalMs?: number;
  /** A failed checkpoint (the next round tries again). */
  onError?: (err: unknown) => void;
}

// The worker: its own connection to the database file; PASSIVE checkpoints never wait for the writer or readers.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  const t0 = performance.now();
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ ok: true, ms: performance.now() - t0, frames: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String((e && e.message) || e) });
  }
});
`;

type Reply = { ok: true; ms: number; frames: number } | { ok: false; error: string };

/**
 * Checkpoints a WAL-mode SQLite database on a worker thread, so the copy of the WAL back into the database file and
 * its fsyncs never run on the event loop. SQLite's automatic checkpoint runs inside the commit that crosses its
 * threshold — on the live order path, a write-ahead commit taking a checkpoint's milliseconds — so the store turns
 * it down to a far bound (db.ts) and this does the work in the background. A checkpoint does not change what a
 * commit guarantees: the WAL stays the record until the database file holds the pages.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: ((r: Reply) => void) | null = null;
  private closed = false;
  private readonly onError: (err: unknown) => void;
  /** Checkpoints done, WAL frames they copied, and the longest one (ms), for benchmarks and metrics. */
  readonly stats = { checkpoints: 0, frames: 0, maxMs: 0 };

  constructor(
    dbFile: string,
    private readonly opts: WalCheckpointerOptions = {},
  ) {
    this.onError = opts.onError ?? (() => {});
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: dbFile } });
    this.worker.unref();
    this.worker.on('message', (r: Reply) => {
      const done = this.inFlight;
      this.inFlight = null;
      if (!this.closed) this.worker.unref();
      done?.(r);
    });
    this.worker.on('error', (err) => this.onError(err));
  }

  /** Starts the periodic checkpoint. */
  start(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setInterval(() => {
      if (this.inFlight === null) void this.checkpoint().catch(this.onError);
    }, this.opts.intervalMs ?? 250);
    this.timer.unref?.();
  }

  /** Runs one checkpoint now (resolves with the frames it copied; one at a time). */
  checkpoint(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    if (this.inFlight !== null) return Promise.reject(new Error('a checkpoint is already running'));
    return new Promise<number>((resolve, reject) => {
      this.inFlight = (r) => {
        if (!r.ok) {
          reject(new Error(`WAL checkpoint failed: ${r.error}`));
          return;
        }
        this.stats.checkpoints++;
        this.stats.frames += r.frames;
        if (r.ms > this.stats.maxMs) this.stats.maxMs = r.ms;
        resolve(r.frames);
      };
      // Referenced while a checkpoint runs: a caller awaiting it keeps the process alive (else Node exits with 13).
      this.worker.ref();
      this.worker.postMessage('checkpoint');
    });
  }

  /** Stops checkpointing and closes the worker's connection (after the checkpoint in flight, if any). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Awaited from here on (an unreferenced worker would let the event loop empty under the await: exit code 13).
    this.worker.ref();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.inFlight !== null) {
      const prev = this.inFlight;
      await new Promise<void>((resolve) => {
        this.inFlight = (r) => {
          prev(r);
          resolve();
        };
      });
    }
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    await exited;
  }
}
