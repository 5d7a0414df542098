/**
 * Bounded in-process queues (OPS-5, docs/operations.md "Bounded queues"): every queue of the runtime has a maximum
 * size and one of three overflow policies. Money-relevant queues (orders, fills, the audit trail) never drop.
 */

/**
 * What a queue does past its bound: `block` makes the producer wait for room; `drop_oldest` discards the oldest item
 * and counts it; `halt` keeps every item, refuses new exposure and raises a critical alert (trading halts).
 */
export type OverflowPolicy = 'block' | 'drop_oldest' | 'halt';

/** A bounded queue as metrics and status read it. */
export interface QueueGaugeSource {
  /** The `queue` label of `queue_depth{queue=…}`. */
  readonly queue: string;
  /** Maximum size; past it the policy applies. */
  readonly capacity: number;
  readonly policy: OverflowPolicy;
  /** Items waiting now. */
  readonly depth: number;
  /** Items discarded by `drop_oldest` since start (0 for the other policies). */
  readonly dropped: number;
}

/** A `halt` queue went past its bound (reported once per crossing; the runtime halts new exposure and alerts). */
export interface QueueOverflow {
  queue: string;
  capacity: number;
  depth: number;
  policy: OverflowPolicy;
}

/** Checks a configured queue bound: a positive integer. */
export function checkCapacity(queue: string, capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`queue ${queue}: capacity must be a positive integer, got ${capacity}`);
  }
  return capacity;
}
