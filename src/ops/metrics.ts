import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DomainEvent, EventBus } from '../core/events.js';
import type { QueueGaugeSource } from '../core/queue-bound.js';
import { type OpsClock, systemClock } from './clock.js';

/** Options of {@link OpsMetrics}. */
export interface OpsMetricsOptions {
  /** When given, the metrics subscribe to it at construction (else call `attach`). */
  bus?: EventBus;
  clock?: OpsClock;
  /** Metric name prefix; default `tradeforge_`. */
  prefix?: string;
  /** Also export Node process metrics (CPU, memory, event-loop lag) into this registry; default true. */
  processMetrics?: boolean;
  /**
   * Measure submit → first venue answer (accepted / rejected / filled) from bus event times into the latency
   * histogram with `stage="ack"`; default true. Turn off when the runtime calls `observeOrderLatency` for it.
   */
  trackAckLatency?: boolean;
}

const MINUTE = 60_000;

/**
 * Prometheus metrics of the runtime (OPS-5) in their own Registry (never the global one, so several runtimes or
 * tests never collide). Fed by bus events; queue depth, latency and clock drift also have setters.
 */
export class OpsMetrics {
  readonly registry = new Registry();
  private readonly clock: OpsClock;
  private readonly submitTimes: number[] = [];
  private readonly pendingAck = new Map<string, number>();
  private readonly startedAt: number;
  private lastBeatAt: number | undefined;
  private peakEquity = Number.NEGATIVE_INFINITY;
  private readonly offs: (() => void)[] = [];
  private readonly trackAck: boolean;

  private readonly ordersSubmitted: Counter;
  private readonly fills: Counter<'side'>;
  private readonly latency: Histogram<'stage'>;
  private readonly riskRejections: Counter<'code'>;
  private readonly equity: Gauge;
  private readonly drawdown: Gauge;
  private readonly deploymentEquity: Gauge<'deployment'>;
  private readonly deploymentDrawdown: Gauge<'deployment'>;
  private readonly byDeployment = new Map<string, { equity: number; peak: number }>();
  private readonly queueDepth: Gauge<'queue'>;
  /** Bounded queues read at every scrape (no timer: the depth is current when Prometheus asks). */
  private readonly queues = new Set<QueueGaugeSource>();
  private readonly clockDrift: Gauge;

  constructor(options: OpsMetricsOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.trackAck = options.trackAckLatency ?? true;
    const p = options.prefix ?? 'tradeforge_';
    const registers = [this.registry];
    this.ordersSubmitted = new Counter({
      name: `${p}orders_submitted_total`,
      help: 'Orders submitted to a venue.',
      registers,
    });
    const self = this;
    new Gauge({
      name: `${p}orders_per_minute`,
      help: 'Orders submitted in the last 60 seconds.',
      registers,
      collect() {
        self.pruneSubmits(self.clock.now());
        this.set(self.submitTimes.length);
      },
    });
    this.fills = new Counter({ name: `${p}fills_total`, help: 'Fills executed.', labelNames: ['side'], registers });
    this.latency = new Histogram({
      name: `${p}order_latency_seconds`,
      help: 'Order latency by stage (ack: submit to first venue answer).',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.riskRejections = new Counter({
      name: `${p}risk_rejections_total`,
      help: 'Orders rejected by the risk engine, by rule code.',
      labelNames: ['code'],
      registers,
    });
    this.equity = new Gauge({ name: `${p}equity`, help: 'Account equity in the quote currency.', registers });
    this.drawdown = new Gauge({
      name: `${p}drawdown_ratio`,
      help: 'Drawdown from the equity peak since start, as a fraction (0.05 = 5 %).',
      registers,
    });
    new Gauge({
      name: `${p}heartbeat_lag_seconds`,
      help: 'Seconds since the last heartbeat (since start when none yet).',
      registers,
      collect() {
        this.set(Math.max(0, self.clock.now() - (self.lastBeatAt ?? self.startedAt)) / 1000);
      },
    });
    new Gauge({
      name: `${p}heartbeat_last_timestamp_seconds`,
      help: 'Unix time of the last heartbeat (0 when none yet).',
      registers,
      collect() {
        this.set((self.lastBeatAt ?? 0) / 1000);
      },
    });
    this.deploymentEquity = new Gauge({
      name: `${p}deployment_equity`,
      help: "One deployment's equity (its own book) in the quote currency.",
      labelNames: ['deployment'],
      registers,
    });
    this.deploymentDrawdown = new Gauge({
      name: `${p}deployment_drawdown_ratio`,
      help: "One deployment's drawdown from its own equity peak since start, as a fraction.",
      labelNames: ['deployment'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: `${p}queue_depth`,
      help: 'Items waiting in a runtime queue (events, orders, persistence ...).',
      labelNames: ['queue'],
      registers,
      collect() {
        for (const q of self.queues) this.set({ queue: q.queue }, q.depth);
      },
    });
    new Gauge({
      name: `${p}queue_capacity`,
      help: 'Bound of a runtime queue and its overflow policy (block, drop_oldest, halt).',
      labelNames: ['queue', 'policy'],
      registers,
      collect() {
        for (const q of self.queues) this.set({ queue: q.queue, policy: q.policy }, q.capacity);
      },
    });
    const droppedSeen = new Map<QueueGaugeSource, number>();
    new Counter({
      name: `${p}queue_dropped_total`,
      help: 'Items a drop_oldest queue discarded because it was full.',
      labelNames: ['queue'],
      registers,
      collect() {
        for (const q of self.queues) {
          const before = droppedSeen.get(q) ?? 0;
          this.inc({ queue: q.queue }, Math.max(0, q.dropped - before));
          droppedSeen.set(q, q.dropped);
        }
      },
    });
    this.clockDrift = new Gauge({
      name: `${p}clock_drift_ms`,
      help: 'Venue server time minus local time, milliseconds.',
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p });
    if (options.bus) this.attach(options.bus);
  }

  /** Subscribes to the order, fill, risk, equity and heartbeat events; returns the unsubscribe function. */
  attach(bus: EventBus): () => void {
    const offs = [
      bus.subscribe('order.submitted.v1', (e: DomainEvent<'order.submitted.v1'>) => {
        this.ordersSubmitted.inc();
        this.submitTimes.push(e.time);
        this.pruneSubmits(e.time);
        if (this.trackAck) {
          this.pendingAck.set(e.payload.order.id, e.time);
          // Orders never answered must not grow the map forever.
          if (this.pendingAck.size > 10_000) this.pendingAck.delete(this.pendingAck.keys().next().value as string);
        }
      }),
      bus.subscribe('order.accepted.v1', (e: DomainEvent<'order.accepted.v1'>) => this.ack(e.payload.order.id, e.time)),
      bus.subscribe('order.rejected.v1', (e: DomainEvent<'order.rejected.v1'>) => this.ack(e.payload.order.id, e.time)),
      bus.subscribe('fill.executed.v1', (e: DomainEvent<'fill.executed.v1'>) => {
        this.fills.inc({ side: e.payload.fill.side });
        this.ack(e.payload.fill.orderId, e.time);
      }),
      bus.subscribe('risk.rejected.v1', (e: DomainEvent<'risk.rejected.v1'>) => {
        this.riskRejections.inc({ code: e.payload.code });
      }),
      bus.subscribe('equity.updated.v1', (e: DomainEvent<'equity.updated.v1'>) =>
        e.payload.strategyId === undefined
          ? this.setEquity(e.payload.equity)
          : this.setDeploymentEquity(e.payload.strategyId, e.payload.equity),
      ),
      bus.subscribe('heartbeat.beat.v1', (e: DomainEvent<'heartbeat.beat.v1'>) => {
        this.lastBeatAt = e.time;
      }),
    ];
    const off = () => {
      for (const o of offs) o();
    };
    this.offs.push(off);
    return off;
  }

  /**
   * Publishes a bounded queue's depth, capacity and drops (`queue_depth{queue}`, `queue_capacity{queue,policy}`,
   * `queue_dropped_total{queue}`), read at each scrape. Returns the function that stops watching it.
   */
  watchQueue(q: QueueGaugeSource): () => void {
    this.queues.add(q);
    return () => {
      this.queues.delete(q);
      this.queueDepth.remove({ queue: q.queue });
    };
  }

  /** Sets the depth of one named queue (`events`, `orders`, `persist` ...). */
  setQueueDepth(queue: string, depth: number): void {
    this.queueDepth.set({ queue }, depth);
  }

  /** Records one order latency in milliseconds for a stage (`ack`, `venue_rtt`, `fill` ...). */
  observeOrderLatency(ms: number, stage = 'ack'): void {
    this.latency.observe({ stage }, ms / 1000);
  }

  /** Records the last clock drift measurement (ClockDriftGuard `onChange`/`lastDriftMs`). */
  setClockDrift(ms: number): void {
    this.clockDrift.set(ms);
  }

  /** Updates equity and the drawdown from its running peak. */
  setEquity(equity: number): void {
    if (!Number.isFinite(equity)) return;
    if (equity > this.peakEquity) this.peakEquity = equity;
    this.equity.set(equity);
    this.drawdown.set(this.peakEquity > 0 ? (this.peakEquity - equity) / this.peakEquity : 0);
  }

  /**
   * Updates one deployment's equity and drawdown series; the account gauges (`equity`, `drawdown_ratio`) follow the
   * sum of every deployment's latest equity.
   */
  setDeploymentEquity(deployment: string, equity: number): void {
    if (!Number.isFinite(equity)) return;
    let d = this.byDeployment.get(deployment);
    if (d === undefined) this.byDeployment.set(deployment, (d = { equity, peak: equity }));
    d.equity = equity;
    if (equity > d.peak) d.peak = equity;
    this.deploymentEquity.set({ deployment }, equity);
    this.deploymentDrawdown.set({ deployment }, d.peak > 0 ? (d.peak - equity) / d.peak : 0);
    let account = 0;
    for (const x of this.byDeployment.values()) account += x.equity;
    this.setEquity(account);
  }

  /** Marks a heartbeat seen (when beats are not on the bus this metrics instance watches). */
  setLastHeartbeat(time: number): void {
    this.lastBeatAt = time;
  }

  /** The exposition text. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content-Type of {@link metrics}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Unsubscribes from the bus. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
  }

  private ack(orderId: string, time: number): void {
    if (!this.trackAck) return;
    const t0 = this.pendingAck.get(orderId);
    if (t0 === undefined) return;
    this.pendingAck.delete(orderId);
    this.latency.observe({ stage: 'ack' }, Math.max(0, time - t0) / 1000);
  }

  private pruneSubmits(now: number): void {
    let drop = 0;
    while (drop < this.submitTimes.length && now - this.submitTimes[drop] >= MINUTE) drop++;
    if (drop > 0) this.submitTimes.splice(0, drop);
  }
}
