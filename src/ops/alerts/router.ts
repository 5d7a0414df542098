import type { EventBus } from '../../core/events.js';
import { checkCapacity, type QueueGaugeSource } from '../../core/queue-bound.js';
import { type OpsClock, systemClock } from '../clock.js';
import { atLeast, type Severity } from '../severity.js';
import type { Alert, AlertChannel } from './alert.js';
import { subscribeAlerts } from './from-events.js';

/** Options of {@link AlertRouter} (config `alerts.ratePerMinute`, `alerts.dedupSeconds`). */
export interface AlertRouterOptions {
  channels: readonly AlertChannel[];
  /** Per channel: at most this many messages per rolling minute; the overflow is summarised. Default 20. */
  ratePerMinute?: number;
  /** Same key within this many seconds is sent once and counted. Default 300; 0 disables. */
  dedupSeconds?: number;
  clock?: OpsClock;
  /** Alerts routed at the same time; the rest wait in the alert queue. Default 8. */
  concurrency?: number;
  /**
   * Alerts waiting for a delivery slot before the oldest waiting one is dropped (counted, and the next alert sent
   * says how many were lost). Default 1000.
   */
  maxQueued?: number;
  /** Delivery failure of one channel (the others are unaffected). */
  onError?: (channel: string, err: unknown, alert: Alert) => void;
}

/** What happened to one alert on one channel. */
export type ChannelOutcome = 'sent' | 'below_severity' | 'rate_limited' | 'failed';

/** What happened to one alert. */
export interface AlertOutcome {
  /**
   * `duplicate` when suppressed by de-duplication (no channel was tried); `dropped` when the alert queue was full
   * and this alert was its oldest.
   */
  status: 'routed' | 'duplicate' | 'dropped';
  channels: Record<string, ChannelOutcome>;
}

/** Counters per channel, for metrics and tests. */
export interface ChannelStats {
  sent: number;
  failed: number;
  rateLimited: number;
  summaries: number;
}

interface Overflow {
  count: number;
  bySeverity: Record<Severity, number>;
  titles: string[];
  flushCancel?: () => void;
}

interface ChannelState {
  channel: AlertChannel;
  /** Send times in the rolling minute, oldest first. */
  window: number[];
  overflow: Overflow | undefined;
  stats: ChannelStats;
}

const MINUTE = 60_000;
const MAX_SUMMARY_TITLES = 10;

/**
 * Routes alerts to channels by severity, de-duplicates by key and rate-limits each channel (OPS-3). Rate-limited
 * alerts are not lost silently: when the minute frees up, one summary message lists how many were held back.
 */
export class AlertRouter implements QueueGaugeSource {
  readonly queue = 'alerts';
  readonly policy = 'drop_oldest';
  readonly capacity: number;
  private readonly concurrency: number;
  /** Alerts waiting for a delivery slot, oldest first. */
  private readonly waiting: { alert: Alert; done: (o: AlertOutcome) => void }[] = [];
  private active = 0;
  private droppedCount = 0;
  /** Dropped alerts not yet mentioned in a sent message. */
  private droppedUnreported = 0;
  private readonly clock: OpsClock;
  private readonly rate: number;
  private readonly dedupMs: number;
  private states: ChannelState[];
  private readonly dedup = new Map<string, { sentAt: number; suppressed: number }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private duplicates = 0;

  constructor(private readonly options: AlertRouterOptions) {
    this.clock = options.clock ?? systemClock;
    this.rate = options.ratePerMinute ?? 20;
    this.dedupMs = (options.dedupSeconds ?? 300) * 1000;
    if (!(this.rate >= 1)) throw new RangeError(`alerts.ratePerMinute must be at least 1, got ${this.rate}`);
    this.capacity = checkCapacity(this.queue, options.maxQueued ?? 1000);
    this.concurrency = checkCapacity(this.queue, options.concurrency ?? 8);
    this.states = this.statesFor(options.channels);
  }

  private statesFor(channels: readonly AlertChannel[]): ChannelState[] {
    const names = new Set<string>();
    for (const c of channels) {
      if (names.has(c.name)) throw new RangeError(`two alert channels are named "${c.name}"`);
      names.add(c.name);
    }
    const before = new Map((this.states ?? []).map((s) => [s.channel.name, s]));
    // A channel keeps its counters and its rate window by name: editing its settings does not reset its limit.
    return channels.map((channel) => ({
      channel,
      window: before.get(channel.name)?.window ?? [],
      overflow: undefined,
      stats: before.get(channel.name)?.stats ?? { sent: 0, failed: 0, rateLimited: 0, summaries: 0 },
    }));
  }

  /**
   * Swaps the channel set while running (channels edited from the API): alerts routed from now on go to the new
   * channels; each replaced channel first sends its pending rate-limit summary, then is closed.
   */
  async replaceChannels(channels: readonly AlertChannel[]): Promise<void> {
    const replaced = this.states.filter((s) => !channels.includes(s.channel));
    this.states = this.statesFor(channels);
    for (const s of replaced) {
      if (s.overflow) {
        s.overflow.flushCancel?.();
        await this.sendSummary(s);
      }
      await s.channel.close?.();
    }
  }

  /** The channels alerts go to now. */
  get channels(): readonly AlertChannel[] {
    return this.states.map((s) => s.channel);
  }

  /**
   * Routes one alert; resolves when every eligible channel has answered, or with `dropped` when the full queue
   * dropped it (never rejects).
   */
  notify(input: Alert): Promise<AlertOutcome> {
    const p = new Promise<AlertOutcome>((done) => {
      this.waiting.push({ alert: input, done });
      if (this.waiting.length > this.capacity) {
        const oldest = this.waiting.shift() as (typeof this.waiting)[number];
        this.droppedCount++;
        this.droppedUnreported++;
        oldest.done({ status: 'dropped', channels: {} });
      }
      this.pump();
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  /** Alerts waiting for a delivery slot. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Alerts dropped by the full queue since start. */
  get dropped(): number {
    return this.droppedCount;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift() as (typeof this.waiting)[number];
      this.active++;
      // route() catches each channel's failure; the fallback only keeps a slot from leaking on a bug.
      void this.route(next.alert)
        .catch((): AlertOutcome => ({ status: 'routed', channels: {} }))
        .then((outcome) => {
          this.active--;
          next.done(outcome);
          this.pump();
        });
    }
  }

  /** Routes every alerting bus event (fills, errors, breakers, stop-losses, kill switch, alert.raised.v1 ...). */
  attach(bus: EventBus): () => void {
    return subscribeAlerts(bus, (alert) => {
      void this.notify(alert);
    });
  }

  /** Alerts suppressed as duplicates since start. */
  get duplicatesSuppressed(): number {
    return this.duplicates;
  }

  /** Per-channel counters. */
  stats(): Record<string, ChannelStats> {
    return Object.fromEntries(this.states.map((s) => [s.channel.name, { ...s.stats }]));
  }

  /** Sends pending rate-limit summaries now and waits for in-flight deliveries (shutdown). */
  async flush(): Promise<void> {
    for (const s of this.states) {
      if (s.overflow) {
        s.overflow.flushCancel?.();
        await this.sendSummary(s);
      }
    }
    await Promise.allSettled([...this.inflight]);
  }

  /** Flushes, cancels timers and closes the channels. */
  async close(): Promise<void> {
    await this.flush();
    for (const s of this.states) await s.channel.close?.();
  }

  private async route(input: Alert): Promise<AlertOutcome> {
    const now = this.clock.now();
    const alert: Alert = { ...input, time: input.time ?? now };
    const key = alert.key ?? `${alert.title}\n${alert.message}`;
    let suppressedBefore = 0;
    if (this.dedupMs > 0) {
      const seen = this.dedup.get(key);
      if (seen && now - seen.sentAt < this.dedupMs) {
        seen.suppressed++;
        this.duplicates++;
        return { status: 'duplicate', channels: {} };
      }
      suppressedBefore = seen?.suppressed ?? 0;
      this.dedup.set(key, { sentAt: now, suppressed: 0 });
      if (this.dedup.size > 1000) this.pruneDedup(now);
    }
    if (suppressedBefore > 0) {
      alert.message += `\n(${suppressedBefore} identical alert${suppressedBefore > 1 ? 's' : ''} suppressed before this one)`;
    }
    if (this.droppedUnreported > 0) {
      const n = this.droppedUnreported;
      this.droppedUnreported = 0;
      alert.message += `\n(${n} older alert${n > 1 ? 's were' : ' was'} dropped: the alert queue was full)`;
    }
    const channels: Record<string, ChannelOutcome> = {};
    await Promise.all(
      this.states.map(async (s) => {
        channels[s.channel.name] = await this.deliver(s, alert, now);
      }),
    );
    return { status: 'routed', channels };
  }

  private async deliver(s: ChannelState, alert: Alert, now: number): Promise<ChannelOutcome> {
    if (!atLeast(alert.severity, s.channel.minSeverity)) return 'below_severity';
    while (s.window.length > 0 && now - s.window[0] >= MINUTE) s.window.shift();
    if (s.window.length >= this.rate) {
      this.hold(s, alert);
      return 'rate_limited';
    }
    s.window.push(now);
    try {
      await s.channel.send(alert);
      s.stats.sent++;
      return 'sent';
    } catch (err) {
      s.stats.failed++;
      this.options.onError?.(s.channel.name, err, alert);
      return 'failed';
    }
  }

  private hold(s: ChannelState, alert: Alert): void {
    s.stats.rateLimited++;
    if (!s.overflow) {
      s.overflow = { count: 0, bySeverity: { info: 0, warning: 0, critical: 0 }, titles: [] };
      const wait = Math.max(1, s.window[0] + MINUTE - this.clock.now());
      s.overflow.flushCancel = this.clock.after(wait, () => {
        void this.sendSummary(s);
      });
    }
    const o = s.overflow;
    o.count++;
    o.bySeverity[alert.severity]++;
    // Critical titles first: they are the ones a reader must not miss in the summary.
    if (alert.severity === 'critical') o.titles.unshift(`[CRITICAL] ${alert.title}`);
    else o.titles.push(`[${alert.severity}] ${alert.title}`);
  }

  private async sendSummary(s: ChannelState): Promise<void> {
    const o = s.overflow;
    if (!o) return;
    s.overflow = undefined;
    const severity: Severity = o.bySeverity.critical > 0 ? 'critical' : o.bySeverity.warning > 0 ? 'warning' : 'info';
    const shown = o.titles.slice(0, MAX_SUMMARY_TITLES);
    const more = o.titles.length - shown.length;
    const now = this.clock.now();
    const summary: Alert = {
      severity,
      title: `${o.count} alert${o.count > 1 ? 's' : ''} held back by the rate limit`,
      message: `${this.rate} messages per minute on ${s.channel.name} were exceeded (critical ${o.bySeverity.critical}, warning ${
        o.bySeverity.warning
      }, info ${o.bySeverity.info}):\n${shown.join('\n')}${more > 0 ? `\n… and ${more} more` : ''}`,
      key: `ratelimit:${s.channel.name}:${now}`,
      time: now,
      source: 'ops:alerts',
    };
    while (s.window.length > 0 && now - s.window[0] >= MINUTE) s.window.shift();
    s.window.push(now);
    const p = s.channel.send(summary).then(
      () => {
        s.stats.summaries++;
      },
      (err: unknown) => {
        s.stats.failed++;
        this.options.onError?.(s.channel.name, err, summary);
      },
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    await p;
  }

  private pruneDedup(now: number): void {
    for (const [k, v] of this.dedup) if (now - v.sentAt >= this.dedupMs) this.dedup.delete(k);
  }
}
