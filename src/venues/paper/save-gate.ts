/**
 * Durability gate of the paper venue: every change is saved as a whole snapshot, and whatever announces a change
 * (order and fill watchers, the answer of a placement or a read) waits until a snapshot holding it is written. A
 * kill -9 therefore loses only changes nobody has heard of, so the runtime never books a fill the restored account
 * does not have, and a fill the account has is always found again by reconciliation.
 */

/** Writes one snapshot atomically (e.g. one row of the runtime's key-value store). */
export type SaveSnapshot<S> = (state: S) => Promise<void>;

/** Coalesces saves (one per event-loop turn) and releases announcements once their snapshot is durable. */
export class SaveGate<S> {
  private dirty = false;
  private chain: Promise<void> = Promise.resolve();
  private outbox: (() => void)[] = [];

  constructor(
    private readonly snapshot: () => S,
    private readonly save: SaveSnapshot<S>,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Marks the state changed: a save is scheduled for the end of this turn. */
  changed(): void {
    if (this.dirty) return;
    this.dirty = true;
    queueMicrotask(() => this.flush());
  }

  /** Runs `announce` once the current state (which includes the change it announces) is saved. */
  announce(announce: () => void): void {
    this.outbox.push(announce);
    this.changed();
  }

  /** Resolves when every change so far is saved (a failed save is reported and does not block). */
  saved(): Promise<void> {
    if (this.dirty) this.flush();
    return this.chain;
  }

  private flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const state = this.snapshot();
    const out = this.outbox;
    this.outbox = [];
    this.chain = this.chain
      .then(() => this.save(state))
      .catch((err: unknown) => {
        // The next change writes the whole state again; meanwhile the account carries on in memory.
        this.onError(err instanceof Error ? err : new Error(String(err)));
      })
      .then(() => {
        for (const f of out) f();
      });
  }
}
