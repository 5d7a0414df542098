/** Limits on failed logins that do not depend on the account: per source address and across the whole service. */
export interface LoginLimitPolicy {
  /** Failures from one source before it must back off (default 10). */
  perSourceFailures: number;
  /** First back-off; each further strike doubles it (default 1 minute). */
  baseBackoffMs: number;
  /** Longest back-off (default 1 hour). */
  maxBackoffMs: number;
  /** Failed logins per minute across all sources before every login waits for the next minute (default 300). */
  globalFailuresPerMinute: number;
}

/** Default limits. */
export const DEFAULT_LOGIN_LIMITS: LoginLimitPolicy = {
  perSourceFailures: 10,
  baseBackoffMs: 60_000,
  maxBackoffMs: 3_600_000,
  globalFailuresPerMinute: 300,
};

interface SourceState {
  failures: number;
  strikes: number;
  blockedUntil: number;
}

const MAX_TRACKED = 10_000;

/**
 * In-memory failed-login limiter. A source (IP address, or `user:<name>` for names that do not exist) that keeps
 * failing backs off exponentially; a flood from many sources trips a global per-minute limit. Lockout of the
 * account itself stays in the database (AuthService); this keeps one stranger from burning everyone's attempts.
 */
export class LoginLimiter {
  private readonly sources = new Map<string, SourceState>();
  private minute = -1;
  private minuteFailures = 0;

  constructor(private readonly policy: LoginLimitPolicy = DEFAULT_LOGIN_LIMITS) {}

  /** When logins from this source are refused now: the time they may resume; undefined when allowed. */
  blockedUntil(source: string | undefined, time: number): number | undefined {
    const minute = Math.floor(time / 60_000);
    if (minute === this.minute && this.minuteFailures >= this.policy.globalFailuresPerMinute) {
      return (minute + 1) * 60_000;
    }
    if (source === undefined) return undefined;
    const s = this.sources.get(source);
    return s && s.blockedUntil > time ? s.blockedUntil : undefined;
  }

  /** Records a failure from a source; returns its failure count since its last back-off. */
  fail(source: string | undefined, time: number): number {
    const minute = Math.floor(time / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.minuteFailures = 0;
    }
    this.minuteFailures++;
    if (source === undefined) return 0;
    const s = this.sources.get(source) ?? { failures: 0, strikes: 0, blockedUntil: 0 };
    this.sources.delete(source);
    s.failures++;
    if (s.failures >= this.policy.perSourceFailures) {
      s.strikes++;
      s.failures = 0;
      s.blockedUntil = time + Math.min(this.policy.baseBackoffMs * 2 ** (s.strikes - 1), this.policy.maxBackoffMs);
    }
    this.sources.set(source, s);
    if (this.sources.size > MAX_TRACKED) {
      const oldest = this.sources.keys().next().value;
      if (oldest !== undefined) this.sources.delete(oldest);
    }
    return s.failures;
  }

  /** Forgets a source's failures (after a successful login from it). */
  succeed(source: string | undefined): void {
    if (source !== undefined) this.sources.delete(source);
  }
}
