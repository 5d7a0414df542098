import type { EventBus } from '../../core/events.js';
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
  /** Delivery failure of one channel (the others are unaffected). */
  onError?: (channel: string, err: unknown, alert: Alert) => void;
}

/** What happened to one alert on one channel. */
export type ChannelOutcome = 'sent' | 'below_severity' | 'rate_limited' | 'failed';

/** What happened to one alert. */
export interface AlertOutcome {
  /** `duplicate` when suppressed by de-duplication (no channel was tried). */
  status: 'routed' | 'duplicate';
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
export class AlertRouter {
  private readonly clock: OpsClock;
  private readonly rate: number;
  private readonly dedupMs: number;
  private readonly states: ChannelState[];
  private readonly dedup = new Map<string, { sentAt: number; suppressed: number }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private duplicates = 0;

  constructor(private readonly options: AlertRouterOptions) {
    this.clock = options.clock ?? systemClock;
    this.rate = options.ratePerMinute ?? 20;
    this.dedupMs = (options.dedupSeconds ?? 300) * 1000;
    if (!(this.rate >= 1)) throw new RangeError(`alerts.ratePerMinute must be at least 1, got ${this.rate}`);
    const names = new Set<string>();
    for (const c of options.channels) {
      if (names.has(c.name)) throw new RangeError(`two alert channels are named "${c.name}"`);
      names.add(c.name);
    }
    this.states = options.channels.map((channel) => ({
      channel,
      window: [],
      overflow: undefined,
      stats: { sent: 0, failed: 0, rateLimited: 0, summaries: 0 },
    }));
  }

  /** Routes one alert; resolves when every eligible channel has answered (never rejects). */
  notify(input: Alert): Promise<AlertOutcome> {
    const p = this.route(input);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
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
