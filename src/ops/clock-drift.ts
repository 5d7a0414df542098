import type { EventBus } from '../core/events.js';
import { type OpsClock, systemClock } from './clock.js';

/** Options of {@link ClockDriftGuard}. */
export interface ClockDriftGuardOptions {
  /** The reference time in epoch ms (the venue's server time, e.g. ccxt `fetchTime()`). */
  fetchServerTime: () => Promise<number>;
  /** Block new orders beyond this absolute drift; default 50 ms (OPS-6). */
  maxDriftMs?: number;
  /** Re-measure every this many ms; default 60 000. */
  intervalMs?: number;
  /** Round trips per measurement; the one with the shortest round trip wins (least uncertainty). Default 3. */
  samples?: number;
  /** A measurement older than this blocks trading (we no longer know the drift); default 5 × interval. */
  maxAgeMs?: number;
  /** Publishes `alert.raised.v1` on block and on recovery. */
  bus?: EventBus;
  clock?: OpsClock;
  /** Name of the reference in alerts (`binance`). */
  reference?: string;
  onChange?: (allowed: boolean, driftMs: number | undefined) => void;
  onError?: (err: unknown) => void;
}

/** One measurement. */
export interface DriftMeasurement {
  /** Reference time minus our clock at the midpoint of the round trip (positive: our clock is behind). */
  driftMs: number;
  roundTripMs: number;
  /** Our clock when measured. */
  at: number;
}

/**
 * Clock-drift guard (OPS-6): measures our clock against the venue's server time, compensating for the round trip
 * (offset = serverTime − (t0 + t1) / 2), and blocks new orders while |drift| exceeds the limit. Until a first
 * successful measurement, and when measurements go stale, trading is blocked: an unknown drift is not a small one.
 */
export class ClockDriftGuard {
  private last: DriftMeasurement | undefined;
  private allowed = false;
  private announcedBlock = false;
  private cancel: (() => void) | undefined;
  private measuring: Promise<DriftMeasurement | undefined> | undefined;
  private readonly clock: OpsClock;
  private readonly maxDriftMs: number;
  private readonly intervalMs: number;
  private readonly maxAgeMs: number;
  private reason = 'clock drift not measured yet';

  constructor(private readonly options: ClockDriftGuardOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxDriftMs = options.maxDriftMs ?? 50;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxAgeMs = options.maxAgeMs ?? this.intervalMs * 5;
  }

  /** Measures now and then every interval. Resolves after the first measurement. */
  async start(): Promise<void> {
    if (!this.cancel) {
      this.cancel = this.clock.every(this.intervalMs, () => {
        void this.measure();
      });
    }
    await this.measure();
  }

  /** Stops re-measuring. */
  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /** False blocks new orders (the runtime maps it to risk rejection `CLOCK_DRIFT`). Exits are not affected. */
  allowsTrading(): boolean {
    if (this.allowed && this.last && this.clock.now() - this.last.at > this.maxAgeMs) {
      this.transition(
        false,
        `clock drift measurement is stale (last ${Math.round((this.clock.now() - this.last.at) / 1000)} s ago)`,
      );
    }
    return this.allowed;
  }

  /** Last measured drift in ms (reference − local); undefined before the first measurement. */
  get lastDriftMs(): number | undefined {
    return this.last?.driftMs;
  }

  /** The last measurement. */
  get lastMeasurement(): DriftMeasurement | undefined {
    return this.last;
  }

  /** Why trading is blocked (or the last block reason), for rejections and /healthz. */
  get blockReason(): string | undefined {
    return this.allowed ? undefined : this.reason;
  }

  /** Measures now; concurrent calls share one measurement. Resolves undefined when the reference failed. */
  measure(): Promise<DriftMeasurement | undefined> {
    this.measuring ??= this.runMeasure().finally(() => {
      this.measuring = undefined;
    });
    return this.measuring;
  }

  private async runMeasure(): Promise<DriftMeasurement | undefined> {
    const samples = Math.max(1, this.options.samples ?? 3);
    let best: DriftMeasurement | undefined;
    let error: unknown;
    for (let i = 0; i < samples; i++) {
      try {
        const t0 = this.clock.now();
        const server = await this.options.fetchServerTime();
        const t1 = this.clock.now();
        if (!Number.isFinite(server)) throw new Error(`reference returned a non-numeric server time (${server})`);
        const m = { driftMs: server - (t0 + t1) / 2, roundTripMs: t1 - t0, at: t1 };
        if (!best || m.roundTripMs < best.roundTripMs) best = m;
      } catch (err) {
        error = err;
      }
    }
    if (!best) {
      this.options.onError?.(error);
      const message = error instanceof Error ? error.message : String(error);
      if (!this.last) this.transition(false, `clock drift cannot be measured: ${message}`);
      else this.allowsTrading(); // blocks once the previous measurement goes stale
      return undefined;
    }
    this.last = best;
    const abs = Math.abs(best.driftMs);
    if (abs > this.maxDriftMs) {
      this.transition(false, `clock drift ${best.driftMs.toFixed(1)} ms exceeds ${this.maxDriftMs} ms`);
    } else {
      this.transition(true, `clock drift ${best.driftMs.toFixed(1)} ms is within ${this.maxDriftMs} ms`);
    }
    return best;
  }

  private transition(allowed: boolean, reason: string): void {
    const changed = allowed !== this.allowed;
    this.reason = reason;
    this.allowed = allowed;
    const ref = this.options.reference ?? 'the venue';
    const now = this.clock.now();
    // One alert per blocked period (including a block at startup); a recovery notice only after an announced block.
    if (!allowed && !this.announcedBlock) {
      this.announcedBlock = true;
      this.publish(
        now,
        'critical',
        'Clock drift: new orders blocked',
        `${reason} against ${ref}. Fix time sync (NTP).`,
        'clock.drift',
      );
    } else if (allowed && changed && this.announcedBlock) {
      this.announcedBlock = false;
      this.publish(
        now,
        'info',
        'Clock drift recovered: trading allowed',
        `${reason} against ${ref}.`,
        'clock.drift.recovered',
      );
    }
    if (changed) this.options.onChange?.(allowed, this.last?.driftMs);
  }

  private publish(now: number, severity: 'info' | 'critical', title: string, message: string, key: string): void {
    this.options.bus?.publish({
      name: 'alert.raised.v1',
      time: now,
      correlationId: `clock-drift-${now}`,
      source: 'ops:clock-drift',
      payload: { severity, title, message, key },
    });
  }
}
