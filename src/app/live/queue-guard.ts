/**
 * The runtime's bounded queues (docs/operations.md, "Bounded queues"): each is published on /metrics, and a
 * money-relevant one that goes past its bound halts new exposure on the account and raises a critical alert.
 */
import type { EventBus } from '../../core/events.js';
import type { QueueGaugeSource, QueueOverflow } from '../../core/queue-bound.js';
import type { OpsMetrics } from '../../ops/metrics.js';

/** Actor recorded on the halt a queue overflow sets (reset it with `risk reset HALTED`). */
export const QUEUE_HALT_ACTOR = 'ops:queues';

/** Watches the runtime's queues and turns an overflow into a halt and an alert. */
export class QueueGuard {
  private halt: ((reason: string) => void) | undefined;
  /** Overflows reported before the account's risk engine existed: applied when it is bound. */
  private pending: string[] = [];
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly bus: EventBus,
    private readonly metrics: OpsMetrics,
  ) {}

  /** Publishes a queue's depth, capacity and drops on /metrics until `close`. */
  watch(q: QueueGaugeSource): void {
    this.offs.push(this.metrics.watchQueue(q));
  }

  /** The account's halt (new exposure refused until an explicit reset); earlier overflows are applied now. */
  bindHalt(halt: (reason: string) => void): void {
    this.halt = halt;
    for (const reason of this.pending.splice(0)) halt(reason);
  }

  /** The overflow callback every `halt` queue gets: halts new exposure and alerts (bound as an arrow). */
  readonly overflow = (o: QueueOverflow): void => {
    const reason = `queue ${o.queue} past its bound (${o.depth} waiting, bound ${o.capacity}): new exposure halted`;
    if (this.halt) this.halt(reason);
    else this.pending.push(reason);
    this.bus.publish({
      name: 'alert.raised.v1',
      time: Date.now(),
      correlationId: `queue:${o.queue}`,
      source: QUEUE_HALT_ACTOR,
      payload: {
        severity: 'critical',
        title: 'Queue full: trading halted',
        message: `${reason}. Nothing was dropped; find the slow consumer (store, venue), then \`tradeforge risk reset HALTED --yes\`.`,
        key: `queue.overflow.${o.queue}`,
      },
    });
  };

  /** Stops publishing every watched queue. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
