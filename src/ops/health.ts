/** A circuit breaker's state for /healthz. */
export interface BreakerHealth {
  name: string;
  tripped: boolean;
  detail?: string;
  /** Epoch ms when it resets by itself, if it does. */
  until?: number;
}

/** What the runtime reports for /healthz; everything but the first three fields optional. */
export interface HealthSnapshot {
  killSwitchActive: boolean;
  breakers: BreakerHealth[];
  positions: { open: number; symbols?: string[]; grossNotional?: number; unrealisedPnl?: number };
  /** Epoch ms of the last heartbeat (from the store or the Heartbeat). */
  lastHeartbeatAt?: number;
  /** True when trading is halted for another reason (shutdown in progress ...). */
  halted?: boolean;
  entriesEnabled?: boolean;
  staleSymbols?: string[];
  clockDrift?: { allowed: boolean; driftMs?: number; reason?: string };
  profile?: string;
  version?: string;
  configHash?: string;
  /** Extra degradation reasons (e.g. `venue binance reconnecting`). */
  degraded?: string[];
}

/** Supplies the runtime's current state to the ops server. */
export interface HealthSource {
  snapshot(): HealthSnapshot | Promise<HealthSnapshot>;
}

/** Overall status: `ok`, `degraded` (trading continues with a problem) or `halted` (no trading). */
export type HealthStatus = 'ok' | 'degraded' | 'halted';

/** The /healthz body. */
export interface HealthReport {
  status: HealthStatus;
  reasons: string[];
  time: string;
  heartbeat: { lastAt: string | null; lagSeconds: number | null; maxAgeSeconds: number };
  positions: HealthSnapshot['positions'];
  breakers: BreakerHealth[];
  killSwitchActive: boolean;
  entriesEnabled?: boolean;
  clockDrift?: HealthSnapshot['clockDrift'];
  staleSymbols?: string[];
  profile?: string;
  version?: string;
  configHash?: string;
}

/**
 * Derives the health status: halted when the kill switch is active or the runtime says it is halted; degraded when
 * a breaker is tripped, the heartbeat is missing or older than `maxHeartbeatAgeMs`, data is stale, the clock-drift
 * guard blocks orders, or the runtime reports another problem; ok otherwise.
 */
export function evaluateHealth(s: HealthSnapshot, now: number, maxHeartbeatAgeMs = 120_000): HealthReport {
  const halted: string[] = [];
  const degraded: string[] = [];
  if (s.killSwitchActive) halted.push('kill switch active');
  if (s.halted) halted.push('trading halted');
  for (const b of s.breakers)
    if (b.tripped) degraded.push(`breaker ${b.name} tripped${b.detail ? `: ${b.detail}` : ''}`);
  const lag = s.lastHeartbeatAt === undefined ? undefined : Math.max(0, now - s.lastHeartbeatAt);
  if (lag === undefined) degraded.push('no heartbeat recorded');
  else if (lag > maxHeartbeatAgeMs) degraded.push(`heartbeat ${Math.round(lag / 1000)} s old`);
  if (s.staleSymbols?.length) degraded.push(`stale data: ${s.staleSymbols.join(', ')}`);
  if (s.clockDrift && !s.clockDrift.allowed) degraded.push(s.clockDrift.reason ?? 'clock drift blocks orders');
  if (s.entriesEnabled === false) degraded.push('new entries stopped');
  if (s.degraded) degraded.push(...s.degraded);
  const status: HealthStatus = halted.length ? 'halted' : degraded.length ? 'degraded' : 'ok';
  return {
    status,
    reasons: [...halted, ...degraded],
    time: new Date(now).toISOString(),
    heartbeat: {
      lastAt: s.lastHeartbeatAt === undefined ? null : new Date(s.lastHeartbeatAt).toISOString(),
      lagSeconds: lag === undefined ? null : lag / 1000,
      maxAgeSeconds: maxHeartbeatAgeMs / 1000,
    },
    positions: s.positions,
    breakers: s.breakers,
    killSwitchActive: s.killSwitchActive,
    entriesEnabled: s.entriesEnabled,
    clockDrift: s.clockDrift,
    staleSymbols: s.staleSymbols,
    profile: s.profile,
    version: s.version,
    configHash: s.configHash,
  };
}
