import type { Repositories, Store } from './store.js';

/** One write of a group; runs inside the group's transaction. */
export type GroupWrite = (repos: Repositories) => Promise<void>;

/** Options of a GroupCommit. */
export interface GroupCommitOptions {
  /** Longest time a lazy write waits for a durable one to ride with (ms, default 20). */
  lazyMs?: number;
  /** A failed commit (its durable callers are rejected too). */
  onError?: (err: unknown) => void;
}

/**
 * Group commit over the store: writes queued while a commit runs go together into the next one — one transaction,
 * one fsync — and each durable caller's promise resolves only once its write is committed. Writes queued in the
 * same event-loop turn share a commit. Lazy writes (order state changes, strategy state) never start a commit of
 * their own while a durable one is coming: they ride with the next durable commit, or are committed after `lazyMs`.
 */
export class GroupCommit {
  private batch: GroupWrite[] = [];
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly lazyMs: number;
  private readonly onError: (err: unknown) => void;
  /** Commits done, and writes they carried (for benchmarks and metrics). */
  readonly stats = { commits: 0, writes: 0 };

  constructor(
    private readonly store: Store,
    opts: GroupCommitOptions = {},
  ) {
    this.lazyMs = opts.lazyMs ?? 20;
    this.onError = opts.onError ?? (() => {});
  }

  /** Writes queued and not yet committed. */
  get depth(): number {
    return this.batch.length;
  }

  /** Nothing queued and no commit running: a write committed elsewhere now cannot overtake one queued here. */
  get idle(): boolean {
    return this.batch.length === 0 && this.running === null;
  }

  /** Queues a write; resolves once it is committed (rejects when its commit fails). */
  durable(write: GroupWrite): Promise<void> {
    this.batch.push(write);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.start();
    return done;
  }

  /** Queues a write that rides with the next commit, at most `lazyMs` from now. */
  lazy(write: GroupWrite): void {
    this.batch.push(write);
    this.arm();
  }

  // The lazy timer, unless a commit runs (it leaves the timer armed for what it did not take) or one is armed.
  private arm(): void {
    if (this.running === null && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.start();
      }, this.lazyMs);
      this.timer.unref?.();
    }
  }

  /** Resolves once everything queued so far is committed. */
  flush(): Promise<void> {
    if (this.batch.length === 0 && this.running === null) return Promise.resolve();
    return this.durable(async () => {});
  }

  private start(): void {
    if (this.running !== null) return; // the running loop takes what arrived when its commit ends
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    // Let writes queued in this same turn join the first commit.
    await null;
    while (this.batch.length > 0) {
      const writes = this.batch;
      const waiters = this.waiters;
      this.batch = [];
      this.waiters = [];
      try {
        await this.store.transaction(async (repos) => {
          for (const w of writes) await w(repos);
        });
        this.stats.commits++;
        this.stats.writes += writes.length;
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
        this.onError(err);
      }
      // Only lazy writes left: they wait for the next durable write or the timer, not a commit of their own now.
      if (this.waiters.length === 0) break;
    }
    this.running = null;
    if (this.batch.length > 0) this.arm();
  }
}
