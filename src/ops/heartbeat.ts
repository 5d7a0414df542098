import type { EventBus } from '../core/events.js';
import { type OpsClock, systemClock } from './clock.js';

/** One heartbeat as persisted (the store's heartbeat row). */
export interface Beat {
  seq: number;
  /** Epoch ms. */
  time: number;
}

/** Options of {@link Heartbeat}. */
export interface HeartbeatOptions {
  bus: EventBus;
  /** Stores the beat (e.g. the store's heartbeat table); the watchdog reads it back. */
  persist?: (beat: Beat) => void | Promise<void>;
  /** Default 60 000 ms (OPS-2). */
  intervalMs?: number;
  clock?: OpsClock;
  /** Event source name; default `ops:heartbeat`. */
  source?: string;
  /** Called when `persist` fails; the heartbeat keeps beating. */
  onError?: (err: unknown) => void;
}

/** Beats every `intervalMs`: publishes `heartbeat.beat.v1` and persists the beat (OPS-2). */
export class Heartbeat {
  private seq = 0;
  private cancel: (() => void) | undefined;
  private last: Beat | undefined;
  private readonly clock: OpsClock;
  private readonly intervalMs: number;

  constructor(private readonly options: HeartbeatOptions) {
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? 60_000;
    if (!(this.intervalMs > 0)) throw new RangeError(`heartbeat interval must be positive, got ${this.intervalMs}`);
  }

  /** Beats once now, then every interval. Idempotent. */
  start(): void {
    if (this.cancel) return;
    this.cancel = this.clock.every(this.intervalMs, () => {
      void this.beat();
    });
    void this.beat();
  }

  /** Stops beating. */
  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /** The most recent beat, if any. */
  get lastBeat(): Beat | undefined {
    return this.last;
  }

  /** Emits one beat now (also used at startup and shutdown); resolves when persisted. */
  async beat(): Promise<Beat> {
    const beat: Beat = { seq: ++this.seq, time: this.clock.now() };
    this.last = beat;
    this.options.bus.publish({
      name: 'heartbeat.beat.v1',
      time: beat.time,
      correlationId: `heartbeat-${beat.seq}`,
      source: this.options.source ?? 'ops:heartbeat',
      payload: { seq: beat.seq },
    });
    try {
      await this.options.persist?.(beat);
    } catch (err) {
      this.options.onError?.(err);
    }
    return beat;
  }
}

/** What the watchdog concluded on one check. */
export interface WatchdogState {
  /** True while the last heartbeat is older than `maxAgeMs` (or missing). */
  lost: boolean;
  /** Age of the last heartbeat in ms; undefined when there has never been one. */
  lagMs: number | undefined;
  lastBeatAt: number | undefined;
}

/** Options of {@link Watchdog}. */
export interface WatchdogOptions {
  /** Time of the last heartbeat in epoch ms (e.g. read from the store); undefined when none was ever recorded. */
  lastBeat: () => number | undefined | Promise<number | undefined>;
  /** Publishes `alert.raised.v1` (critical on loss, info on recovery). */
  bus: EventBus;
  /** Default 120 000 ms (OPS-2). */
  maxAgeMs?: number;
  /** How often to check; default 15 000 ms. */
  checkIntervalMs?: number;
  clock?: OpsClock;
  /** Called on every transition (lost/recovered), after the alert is published. */
  onChange?: (state: WatchdogState) => void;
  onError?: (err: unknown) => void;
}

/**
 * Raises a critical alert when the last heartbeat is older than `maxAgeMs` — once per outage — and an info notice
 * when beats resume. A failure to read the last beat counts as a lost heartbeat (we cannot prove we are alive).
 */
export class Watchdog {
  private cancel: (() => void) | undefined;
  private lost = false;
  private state: WatchdogState = { lost: false, lagMs: undefined, lastBeatAt: undefined };
  private readonly clock: OpsClock;
  private readonly maxAgeMs: number;
  private checking: Promise<WatchdogState> | undefined;

  constructor(private readonly options: WatchdogOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxAgeMs = options.maxAgeMs ?? 120_000;
  }

  /** Starts periodic checks (the first one after one interval, so a fresh start has time to beat). */
  start(): void {
    if (this.cancel) return;
    this.cancel = this.clock.every(this.options.checkIntervalMs ?? 15_000, () => {
      void this.check();
    });
  }

  /** Stops checking. */
  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /** The result of the latest check. */
  get current(): WatchdogState {
    return this.state;
  }

  /** Checks now; overlapping calls share one read. */
  check(): Promise<WatchdogState> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async runCheck(): Promise<WatchdogState> {
    let lastBeatAt: number | undefined;
    let readError: unknown;
    try {
      lastBeatAt = await this.options.lastBeat();
    } catch (err) {
      readError = err;
      this.options.onError?.(err);
    }
    const now = this.clock.now();
    const lagMs = lastBeatAt === undefined ? undefined : Math.max(0, now - lastBeatAt);
    const lost = readError !== undefined || lagMs === undefined || lagMs > this.maxAgeMs;
    this.state = { lost, lagMs, lastBeatAt };
    if (lost !== this.lost) {
      this.lost = lost;
      this.publish(lost, lagMs, readError, now);
      this.options.onChange?.(this.state);
    }
    return this.state;
  }

  private publish(lost: boolean, lagMs: number | undefined, readError: unknown, now: number): void {
    const seconds = lagMs === undefined ? undefined : Math.round(lagMs / 1000);
    const why =
      readError !== undefined
        ? `the last heartbeat could not be read (${readError instanceof Error ? readError.message : String(readError)})`
        : seconds === undefined
          ? 'no heartbeat has been recorded'
          : `the last heartbeat is ${seconds} s old (limit ${Math.round(this.maxAgeMs / 1000)} s)`;
    this.options.bus.publish({
      name: 'alert.raised.v1',
      time: now,
      correlationId: `watchdog-${now}`,
      source: 'ops:watchdog',
      payload: lost
        ? {
            severity: 'critical',
            title: 'Heartbeat lost',
            message: `The runtime may be down: ${why}.`,
            key: 'heartbeat.lost',
          }
        : {
            severity: 'info',
            title: 'Heartbeat recovered',
            message: `Heartbeats resumed; the last one is ${seconds ?? 0} s old.`,
            key: 'heartbeat.recovered',
          },
    });
  }
}
