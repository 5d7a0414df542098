import { promises as fsp } from 'node:fs';

/** Options of a WalSyncer. */
export interface WalSyncerOptions {
  /** Longest time a commit stays in the OS page cache before its fsync starts (ms, default 50). */
  intervalMs?: number;
  /** A failed fsync (the store keeps running; the next round tries again). */
  onError?: (err: unknown) => void;
}

/**
 * Group fsync for a SQLite database in WAL mode with `synchronous = NORMAL`: a commit returns once its frames are
 * written to the `-wal` file (in the OS: it survives a crash or kill -9 of the process), and this syncer makes
 * every such commit power-loss durable by fsyncing the WAL file on libuv's thread pool — never on the event loop —
 * at most `intervalMs` after it was written. fsync works on the inode, so one descriptor of our own covers the
 * frames the database connection wrote. Checkpoints (SQLite fsyncs the WAL before copying it back, and the
 * database file after) keep their own ordering.
 */
export class WalSyncer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private handle: fsp.FileHandle | null = null;
  /** Size and mtime of the WAL file at the last fsync: an unchanged file needs none. */
  private synced = { size: -1, mtimeMs: -1 };
  private readonly intervalMs: number;
  private readonly onError: (err: unknown) => void;
  private closed = false;
  /** fsyncs done, and the longest one (ms), for benchmarks and metrics. */
  readonly stats = { syncs: 0, maxMs: 0, lastMs: 0 };

  constructor(
    private readonly walFile: string,
    opts: WalSyncerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 50;
    this.onError = opts.onError ?? (() => {});
  }

  /** The power-loss window: the longest a commit waits for its fsync to start (ms). */
  get windowMs(): number {
    return this.intervalMs;
  }

  /** Starts the periodic fsync. */
  start(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setInterval(() => {
      if (this.running === null) void this.sync().catch(this.onError);
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** Resolves once every commit made before the call is on disk (one fsync, shared with a round already running). */
  sync(): Promise<void> {
    if (this.running !== null) {
      // The running round may have started before the caller's commit: one more round after it covers it.
      this.rerun = true;
      return this.running;
    }
    this.running = this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    do {
      this.rerun = false;
      const h = await this.open();
      if (h === null) return;
      const st = await h.stat();
      if (st.size === this.synced.size && st.mtimeMs === this.synced.mtimeMs) continue;
      const t0 = performance.now();
      await h.sync();
      const ms = performance.now() - t0;
      this.stats.syncs++;
      this.stats.lastMs = ms;
      if (ms > this.stats.maxMs) this.stats.maxMs = ms;
      this.synced = { size: st.size, mtimeMs: st.mtimeMs };
    } while (this.rerun);
  }

  private async open(): Promise<fsp.FileHandle | null> {
    if (this.handle !== null) return this.handle;
    try {
      this.handle = await fsp.open(this.walFile, 'r+');
    } catch (err) {
      // No WAL file yet: nothing has been committed through it.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return this.handle;
  }

  /** Stops the timer, fsyncs what is left and releases the descriptor. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.sync().catch(this.onError);
    await this.handle?.close();
    this.handle = null;
  }
}
