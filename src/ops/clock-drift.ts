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
  /** Round trips per measurement (default 5); the median of the trustworthy ones is the measurement. */
  samples?: number;
  /**
   * A sample whose round trip is longer than this is discarded (default 1 000 ms), as is one slower than twice the
   * fastest sample of the measurement plus 10 ms: a long round trip says nothing about the offset.
   */
  maxRoundTripMs?: number;
  /**
   * Resolution of the reference's time (default 0): a reference that truncates to whole seconds (an HTTP `Date`
   * header, IG's only clock) stamped its time somewhere in [server, server + resolution), which widens what a
   * sample proves by that much instead of reading the truncation as drift.
   */
  resolutionMs?: number;
  /** A measurement older than this blocks trading (we no longer know the drift); default 5 × interval. */
  maxAgeMs?: number;
  /** Publishes `alert.raised.v1` on block and on recovery. */
  bus?: EventBus;
  clock?: OpsClock;
  /** Name of the reference in alerts (`binance`). */
  reference?: string;
  onChange?: (allowed: boolean, driftMs: number | undefined) => void;
  /** Called after every conclusive measurement (metrics, tests waiting for measurements). */
  onMeasure?: (m: DriftMeasurement, allowed: boolean) => void;
  onError?: (err: unknown) => void;
}

/** One measurement. */
export interface DriftMeasurement {
  /** Reference time minus our clock at the midpoint of the round trip (positive: our clock is behind); median. */
  driftMs: number;
  /**
   * The part of the drift the round trips prove: the venue stamped its time somewhere between our send and our
   * receive, so the true offset lies in [server − t1, server − t0]; this is that interval's distance from zero
   * (signed, median over samples). A slow or queued request widens the interval instead of reading as drift.
   */
  provenDriftMs: number;
  /** Round trip of the fastest sample used. */
  roundTripMs: number;
  /** Samples used out of those taken. */
  used: number;
  /** Our clock when measured. */
  at: number;
}

/** One round trip: the venue's time and our send and receive times. */
interface Sample {
  server: number;
  t0: number;
  t1: number;
}

/** The median of a non-empty list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The signed distance of the interval [lo, hi] from zero (0 when it contains zero). */
function distanceFromZero(lo: number, hi: number): number {
  if (lo > 0) return lo;
  if (hi < 0) return hi;
  return 0;
}

/**
 * Turns round-trip samples into one measurement, NTP-style: samples with a long round trip are discarded, the
 * offset is the median midpoint offset of the rest, and the drift the samples prove is the median distance of
 * each sample's possible-offset interval from zero. Undefined when no sample is trustworthy.
 */
export function summariseSamples(
  samples: readonly Sample[],
  maxRoundTripMs: number,
  resolutionMs = 0,
): DriftMeasurement | undefined {
  const rtts = samples.map((x) => x.t1 - x.t0);
  const fastest = Math.min(...rtts);
  const bound = Math.min(maxRoundTripMs, 2 * fastest + 10);
  const kept = samples.filter((_, i) => rtts[i] <= bound);
  if (kept.length === 0) return undefined;
  return {
    driftMs: median(kept.map((x) => x.server + resolutionMs / 2 - (x.t0 + x.t1) / 2)),
    provenDriftMs: median(kept.map((x) => distanceFromZero(x.server - x.t1, x.server + resolutionMs - x.t0))),
    roundTripMs: fastest,
    used: kept.length,
    at: Math.max(...kept.map((x) => x.t1)),
  };
}

/**
 * Clock-drift guard (OPS-6): measures our clock against the venue's server time, compensating for the round trip
 * (offset = serverTime − (t0 + t1) / 2, several samples, long round trips discarded, the median), and blocks new
 * orders while the drift the samples prove exceeds the limit: a slow request is never called drift. Until a first
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
    const n = Math.max(1, this.options.samples ?? 5);
    const samples: Sample[] = [];
    let error: unknown;
    for (let i = 0; i < n; i++) {
      try {
        const t0 = this.clock.now();
        const server = await this.options.fetchServerTime();
        const t1 = this.clock.now();
        if (!Number.isFinite(server)) throw new Error(`reference returned a non-numeric server time (${server})`);
        samples.push({ server, t0, t1 });
      } catch (err) {
        error = err;
      }
    }
    const maxRtt = this.options.maxRoundTripMs ?? 1_000;
    const m = samples.length > 0 ? summariseSamples(samples, maxRtt, this.options.resolutionMs ?? 0) : undefined;
    if (!m) {
      const message =
        samples.length > 0
          ? `every round trip took longer than ${maxRtt} ms (fastest ${Math.min(...samples.map((x) => x.t1 - x.t0))} ms)`
          : error instanceof Error
            ? error.message
            : String(error);
      if (samples.length === 0) this.options.onError?.(error);
      // Inconclusive: keep the last verdict until it goes stale; without one, trading stays blocked.
      if (!this.last) this.transition(false, `clock drift cannot be measured: ${message}`);
      else this.allowsTrading();
      return undefined;
    }
    this.last = m;
    const uncertainty = ` (±${(m.roundTripMs / 2).toFixed(1)} ms)`;
    if (Math.abs(m.provenDriftMs) > this.maxDriftMs) {
      this.transition(false, `clock drift ${m.driftMs.toFixed(1)} ms${uncertainty} exceeds ${this.maxDriftMs} ms`);
    } else {
      this.transition(true, `clock drift ${m.driftMs.toFixed(1)} ms${uncertainty} is within ${this.maxDriftMs} ms`);
    }
    this.options.onMeasure?.(m, this.allowed);
    return m;
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
