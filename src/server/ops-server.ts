import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ConfigError } from '../core/errors.js';
import type { OpsClock } from '../ops/clock.js';
import { systemClock } from '../ops/clock.js';
import { evaluateHealth, type HealthSource } from '../ops/health.js';
import type { OpsMetrics } from '../ops/metrics.js';

/** Options of {@link buildOpsServer} / {@link startOpsServer}; host and port come from config `server`. */
export interface OpsServerOptions {
  /** Default 127.0.0.1: the runtime is reachable from this machine only unless configured otherwise. */
  host?: string;
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
  health: HealthSource;
  metrics: OpsMetrics;
  /** Heartbeat age beyond which /healthz reports degraded; default 120 000 ms. */
  maxHeartbeatAgeMs?: number;
  /** A pino logger for fastify (request logging stays off: scrapers would flood it). */
  logger?: FastifyBaseLogger;
  clock?: OpsClock;
}

/** A listening ops server. */
export interface OpsServer {
  /** The fastify instance, so the API can add its routes to the same server. */
  app: FastifyInstance;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Security headers on every response (SEC-3); the ops endpoints serve no HTML, so everything is denied. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'cache-control': 'no-store',
};

/** Builds (without listening) the fastify app with `GET /healthz` and `GET /metrics`. */
export function buildOpsServer(options: OpsServerOptions): FastifyInstance {
  const clock = options.clock ?? systemClock;
  const app = options.logger
    ? Fastify({ loggerInstance: options.logger, disableRequestLogging: true })
    : Fastify({ logger: false });
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) reply.header(k, v);
    return payload;
  });

  app.get('/healthz', async (_req, reply) => {
    const now = clock.now();
    try {
      const report = evaluateHealth(await options.health.snapshot(), now, options.maxHeartbeatAgeMs);
      // Halted answers 503 so an orchestrator or uptime check sees it; degraded still serves 200.
      return reply.code(report.status === 'halted' ? 503 : 200).send(report);
    } catch (err) {
      app.log.error({ err }, 'health snapshot failed');
      return reply.code(503).send({
        status: 'degraded',
        reasons: [`health source failed: ${err instanceof Error ? err.message : String(err)}`],
        time: new Date(now).toISOString(),
      });
    }
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await options.metrics.metrics();
    return reply.type(options.metrics.contentType).send(text);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  return app;
}

/** Builds the ops server and listens on `host:port` (default 127.0.0.1:8080). */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const app = buildOpsServer(options);
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port ?? 8080 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new ConfigError(
        'server.port',
        `cannot listen on ${host}:${options.port ?? 8080} (${code}); set server.host/server.port or TRADEFORGE__SERVER__PORT`,
      );
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { app, url: `http://${urlHost}:${port}`, port, close: () => app.close() };
}
