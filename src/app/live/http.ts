/** The runtime's HTTP server: /healthz, /metrics and the loopback-only control routes. */
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../../core/errors.js';
import type { ClockDriftGuard, ControlApi, OpsMetrics } from '../../ops/index.js';
import type { AccountRisk } from '../../risk/index.js';
import { buildOpsServer } from '../../server/ops-server.js';
import type { Profile } from '../venues.js';
import type { EntriesSwitch } from './gates.js';
import type { DeploymentRuntime, RuntimeStatus } from './runtime-types.js';
import { killSwitchActive } from './status.js';

/** What the runtime's HTTP server shows and controls. */
export interface RuntimeHttpDeps {
  metrics: OpsMetrics;
  deployments: readonly DeploymentRuntime[];
  account: AccountRisk;
  guards: ReadonlyMap<string, ClockDriftGuard>;
  entries: EntriesSwitch;
  control: ControlApi;
  status: () => Promise<RuntimeStatus>;
  profile: Profile;
  version: string;
  configHash: string;
  stopping: () => boolean;
  lastBeat: () => { seq: number; time: number } | undefined;
}

/** Builds the ops server with the health snapshot and the control routes (not listening yet). */
export function buildRuntimeHttp(h: RuntimeHttpDeps): FastifyInstance {
  const app = buildOpsServer({
    metrics: h.metrics,
    health: {
      snapshot: () => {
        const stale = h.deployments.flatMap((d) => [...d.feed.stale]);
        const drift = [...h.guards.values()].find((g) => !g.allowsTrading());
        let open = 0;
        const syms: string[] = [];
        for (const d of h.deployments) {
          for (let s = 0; s < d.symbols.length; s++) {
            if (d.engine.portfolio.qty[s] !== 0) {
              open++;
              syms.push(d.symbols[s]);
            }
          }
        }
        const beat = h.lastBeat();
        return {
          killSwitchActive: killSwitchActive(h.deployments, h.account),
          breakers: h.account.engine
            .status()
            .map((t) => ({ name: t.breaker, tripped: true, ...(t.detail ? { detail: t.detail } : {}) })),
          positions: { open, symbols: syms },
          ...(beat ? { lastHeartbeatAt: beat.time } : {}),
          halted: h.stopping(),
          entriesEnabled: h.entries.enabled,
          staleSymbols: stale,
          clockDrift: drift
            ? {
                allowed: false,
                ...(drift.lastDriftMs !== undefined ? { driftMs: drift.lastDriftMs } : {}),
                ...(drift.blockReason ? { reason: drift.blockReason } : {}),
              }
            : { allowed: true },
          profile: h.profile,
          version: h.version,
          configHash: h.configHash,
        };
      },
    },
  });
  // Loopback only until the API issue adds authentication.
  const loopback = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
  const local =
    <T>(fn: (body: Record<string, unknown>) => Promise<T>) =>
    async (req: { ip: string; body?: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) =>
      loopback.has(req.ip)
        ? fn((req.body ?? {}) as Record<string, unknown>)
        : reply.code(403).send({ error: 'forbidden', message: 'the control API is loopback only' });
  const c = h.control;
  app.get('/api/status', local(h.status));
  app.post(
    '/api/kill',
    local(() => c.kill('api:local')),
  );
  app.post(
    '/api/recover',
    local(() => c.recover('api:local')),
  );
  app.post(
    '/api/stop-entries',
    local(() => c.stopEntries('api:local')),
  );
  app.post(
    '/api/start-entries',
    local(() => c.startEntries('api:local')),
  );
  app.post(
    '/api/risk/reset',
    local(async (body) => {
      const breaker = typeof body.breaker === 'string' ? body.breaker : '';
      const actor = typeof body.actor === 'string' && body.actor ? body.actor : 'api:local';
      return c.resetBreaker ? c.resetBreaker(breaker, actor) : { ok: false, message: 'breaker reset is not available' };
    }),
  );
  return app;
}

/** Listens on host:port (default 127.0.0.1:8080) with a one-line error for a port in use. */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<{ url: string }> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new ConfigError(
        'server.port',
        `cannot listen on ${host}:${port} (${code}); set server.host/server.port or TRADEFORGE__SERVER__PORT`,
      );
    }
    throw err;
  }
  const a = app.server.address();
  const p = typeof a === 'object' && a ? a.port : port;
  const hst = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { url: `http://${hst}:${p}` };
}
