/**
 * The runtime's trail of every order (STORE-3, STORE-4, OPS-1): the audit subscriber keyed by the client order id
 * the store keeps each order under, the JSON event log, venue messages from the bridge's venue, and the config hash
 * audited at start. One correlation id per signal (the engine's `correlationPrefix`) ties them together.
 */
import type { Config } from '../../core/config.js';
import type { EventBus } from '../../core/events.js';
import type { Order } from '../../core/order.js';
import type { QueueOverflow } from '../../core/queue-bound.js';
import type { Venue } from '../../core/venue.js';
import { subscribeEventLog } from '../../ops/index.js';
import type { Logger } from '../../ops/logger.js';
import type { Store } from '../../store/index.js';
import type { LiveVenueBridge } from '../../venues/live/bridge.js';
import { VenueMessages } from '../../venues/live/venue-messages.js';

/** Correlation ids remembered per client order id, for venue messages (bounded). */
const REMEMBERED = 10_000;

/** Options of {@link startTradeTrail}. */
export interface TradeTrailOptions {
  bus: EventBus;
  store: Store;
  /** The runtime's logger; the event log writes through its child loggers. */
  logger: Logger;
  onError?: (err: unknown) => void;
  /** The audit queue went past its bound (the runtime halts new exposure and alerts). */
  onOverflow?: (o: QueueOverflow) => void;
}

/** The trail of one runtime; deployments join it as they start. */
export class TradeTrail {
  private readonly bridges = new Map<string, LiveVenueBridge>();
  private readonly correlations = new Map<string, string>();
  private readonly offs: (() => void)[] = [];
  /** The audit log's subscriber (absent while the vault is locked): checkpoints wait for it to settle. */
  readonly auditor: ReturnType<Store['auditEvents']> | undefined;

  constructor(private readonly o: TradeTrailOptions) {
    const { bus, store } = o;
    const clientOrderIdOf = (order: Readonly<Order>) => this.clientOrderIdOf(order);
    this.auditor = store.audit.canAppend
      ? store.auditEvents(bus, {
          orderKey: clientOrderIdOf,
          ...(o.onError ? { onError: o.onError } : {}),
          ...(o.onOverflow ? { onOverflow: o.onOverflow } : {}),
        })
      : undefined;
    this.offs.push(
      subscribeEventLog(bus, o.logger, {
        clientOrderIdOf,
        deploymentOf: (id) => (this.bridges.has(id) ? id : undefined),
      }),
      // Venue messages name an order by its client order id: remember which signal each one carries.
      bus.subscribe('order.submitted.v1', (e) => {
        const order = e.payload.order;
        if (!this.bridges.has(order.strategyId)) return;
        this.correlations.set(this.clientOrderIdOf(order), order.correlationId);
        if (this.correlations.size > REMEMBERED) {
          this.correlations.delete(this.correlations.keys().next().value as string);
        }
      }),
    );
  }

  /** A deployment's orders are known by its bridge's client order ids from now on. */
  addDeployment(deploymentId: string, bridge: LiveVenueBridge): void {
    this.bridges.set(deploymentId, bridge);
  }

  /** The correlation id prefix of a deployment's signals in this run. */
  static correlationPrefix(deploymentId: string, runTag: string): string {
    return `${deploymentId}.${runTag}.s`;
  }

  /** The client order id an engine order is sent (and stored) under. */
  clientOrderIdOf(order: Readonly<Order>): string {
    return this.bridges.get(order.strategyId)?.clientOrderIdOf(order) ?? order.id;
  }

  /** The venue a bridge talks to, reporting every order message as `venue.message.v1` from `venue:<name>`. */
  venueFor(venue: Venue, name: string): Venue {
    return new VenueMessages(venue, {
      bus: this.o.bus,
      name,
      correlationOf: (cid) => this.correlations.get(cid),
    });
  }

  /**
   * Audits the config the runtime starts with: `config.changed.v1` from the hash of the last start to this one's
   * (the same hash on both sides when nothing changed), and remembers it for the next start.
   */
  async configLoaded(config: Config, hash: string, file: string | undefined, time: number): Promise<void> {
    const previous = await this.o.store.kv.get<{ hash: string }>('config.loaded');
    this.o.bus.publish({
      name: 'config.changed.v1',
      time,
      correlationId: `config:${hash}`,
      source: 'runtime',
      payload: {
        actor: 'runtime',
        key: 'config',
        ...(previous?.hash !== undefined ? { from: previous.hash } : {}),
        to: { hash, ...(file !== undefined ? { file } : {}), deployments: config.deployments.map((d) => d.id) },
      },
    });
    await this.o.store.kv.set('config.loaded', { hash, time }, time);
  }

  /** Stops the event log (the audit subscriber is flushed and closed with the store). */
  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
