/**
 * The authenticated REST + WebSocket API (SEC-2, SEC-3, UI-7), registered on the runtime's fastify server. Every
 * route checks, in this order: IP allow-list, Host header, Origin, then the session (cookie + CSRF, session bearer
 * token, or the CLI token) and the role; then zod validates the request, so a 401 always precedes a 400.
 */
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Config } from '../../core/config.js';
import { AuthError, ValidationError } from '../../core/errors.js';
import type { AuthService } from '../../security/auth.js';
import { can } from '../../security/permissions.js';
import type { Vault } from '../../security/vault.js';
import type { Store } from '../../store/store.js';
import { type ApiContext, zodApp } from './context.js';
import { allowedHostSet, hostName, IpAllowList, normaliseOrigin, originAllowed } from './guards.js';
import { DEFAULT_DASHBOARD_DIR, dashboardRoutes } from './dashboard.js';
import type { ApiPort } from './port.js';
import { adminRoutes } from './routes-admin.js';
import type { ApiBacktests } from './backtest-port.js';
import { alertRoutes } from './routes-alerts.js';
import { portfolioRoutes } from './routes-portfolio.js';
import { riskPreferenceRoutes } from './routes-risk-preferences.js';
import { backtestRoutes } from './routes-backtests.js';
import { deploymentRoutes } from './routes-deployments.js';
import { marketRoutes } from './routes-market.js';
import { strategyCatalogueRoutes } from './routes-strategy-catalogue.js';
import { venueRoutes } from './routes-venues.js';
import { type QueueStatusReader, queueRoutes } from './routes-queue.js';
import { sessionRoutes } from './routes-session.js';
import { strategyRoutes } from './routes-strategies.js';
import { tradingRoutes } from './routes-trading.js';
import { traceRequests } from './request-spans.js';
import { SessionGate } from './session.js';
import { StreamHub, type StreamHubOptions } from './stream.js';
import type { McpDeps } from '../mcp/tools.js';
import type { AssistantService } from '../../app/assistant-service.js';
import { assistantRoutes } from './routes-assistant.js';
import { agentRoutes } from './routes-agents.js';
import type { GenerationDeps } from '../../authoring/agents/generate.js';
import type { Promotion } from '../../app/promotion.js';

/** Options of {@link registerApi}. */
export interface ApiOptions {
  port: ApiPort;
  auth: AuthService;
  store: Store;
  /** The unlocked vault (secrets, TOTP); absent: secret writes answer 409. */
  vault?: Vault;
  /** The token written to run/api-token for the local CLI. */
  cliToken?: string;
  /** The address the server binds to (config `server.host`). */
  bindHost: string;
  /** Extra Host names accepted besides loopback and the bind address (config `server.allowedHosts`). */
  allowedHosts?: readonly string[];
  /** Origins allowed to call the API from a browser besides the API's own (config `server.corsOrigins`). */
  corsOrigins?: readonly string[];
  /** Addresses or CIDR ranges allowed to connect besides loopback; empty: everyone (config `server.ipAllowList`). */
  ipAllowList?: readonly string[];
  /** Mark cookies Secure (when served over HTTPS). */
  secureCookies?: boolean;
  /** Requests per minute per user (or per IP before login); default 600. */
  requestsPerMinute?: number;
  /** Login attempts per minute per IP; default 10. */
  loginsPerMinute?: number;
  stream?: StreamHubOptions;
  /** The built dashboard to serve at `/` (default web/dist of this checkout); null serves none. */
  dashboardDir?: string | null;
  /** Reads the scale-out queue's status for `GET /api/queue/status`; absent: the route answers 404. */
  queueStatus?: QueueStatusReader;
  /** The config's alert channels, shown by `GET /api/alerts/channels` (absent: none). */
  alerts?: Config['alerts'];
  /** Runs and reads backtests (`/api/backtests`); absent: those routes answer 501. */
  backtests?: ApiBacktests;
  /** The promotion pipeline for `/api/strategies/:ref/...` and `/api/promotion/policy`; absent: not mounted. */
  promotion?: Promotion;
  /** Mounts the MCP server at /api/mcp (docs/mcp.md) with these; the store and the runtime port are the API's. */
  mcp?: Omit<McpDeps, 'store' | 'trading'>;
  /** Builds the agents' dependencies on demand (strategy generation); absent: generation answers 404. */
  agents?: () => Promise<GenerationDeps>;
  /** The trading assistant (docs/assistant.md); absent: its routes answer 404 `assistant_not_configured`. */
  assistant?: AssistantService;
}

/** The registered API. */
export interface ApiHandle {
  hub: StreamHub;
  /** Stops the stream (the fastify server is closed by its owner). */
  close(): void;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function deny(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).send({ error, message });
}

function authStatus(err: AuthError): number {
  switch (err.code) {
    case 'FORBIDDEN':
      return 403;
    case 'LOCKED':
      return 423;
    case 'VAULT_LOCKED':
      return 409;
    default:
      return 401;
  }
}

const CONTEXT_NAMES: Record<string, string> = { querystring: 'query', params: 'path', headers: 'header' };

/** Registers the API routes, the WebSocket stream and /api/docs on `app` (call before `listen`). */
export async function registerApi(app: FastifyInstance, opts: ApiOptions): Promise<ApiHandle> {
  const hosts = allowedHostSet(opts.bindHost, opts.allowedHosts ?? []);
  const origins = new Set((opts.corsOrigins ?? []).map((o, i) => normaliseOrigin(o, i)));
  const ipAllow = new IpAllowList(opts.ipAllowList ?? []);
  const sessions = new SessionGate({
    auth: opts.auth,
    secureCookies: opts.secureCookies ?? false,
    ...(opts.cliToken ? { cliToken: opts.cliToken } : {}),
  });
  const hub = new StreamHub(opts.stream);
  const offPort = opts.port.subscribe((e) => hub.publish(e));
  const offBacktests = opts.backtests?.onChange((job) =>
    hub.publish({ topic: 'backtest', key: job.job, time: Date.now(), data: job }),
  );
  const unsubscribe = () => {
    offPort();
    offBacktests?.();
  };
  const market = opts.port.market;
  if (market) {
    for (const topic of ['tickers', 'orderbook'] as const) {
      hub.onDemand(topic, () => market.watch(topic, (e) => hub.publish(e)));
    }
  }
  const ctx: ApiContext = {
    port: opts.port,
    auth: opts.auth,
    store: opts.store,
    sessions,
    hub,
    ...(opts.vault ? { vault: opts.vault } : {}),
  };

  await app.register(async (api) => {
    api.setValidatorCompiler(validatorCompiler);
    api.setSerializerCompiler(serializerCompiler);
    await api.register(cookie);
    await api.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          formAction: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: opts.secureCookies ?? false,
    });

    // Before anything else: who may connect at all, and to which name (DNS rebinding), from which page.
    api.addHook('onRequest', async (req, reply) => {
      if (!ipAllow.allows(req.ip)) {
        return deny(reply, 403, 'ip_not_allowed', `${req.ip} is not on server.ipAllowList`);
      }
      const host = req.headers.host;
      if (!host || !hosts.has(hostName(host))) {
        return deny(
          reply,
          403,
          'host_not_allowed',
          `Host "${host ?? ''}" is not served here; add it to server.allowedHosts if it is yours`,
        );
      }
      const origin = req.headers.origin;
      if (origin !== undefined && !originAllowed(origin, host, origins)) {
        return deny(reply, 403, 'origin_not_allowed', `origin ${origin} is not on server.corsOrigins`);
      }
      if (origin === undefined && UNSAFE.has(req.method) && req.headers['sec-fetch-site'] === 'cross-site') {
        return deny(reply, 403, 'origin_not_allowed', 'cross-site requests are refused');
      }
    });
    // A refused WebSocket upgrade answers with plain HTTP on a socket the HTTP server no longer tracks: end it,
    // or it stays open and blocks shutdown.
    api.addHook('onResponse', async (req, reply) => {
      if (req.headers.upgrade !== undefined && reply.statusCode !== 101) req.raw.socket.destroy();
    });
    await api.register(cors, {
      origin: (origin, cb) => cb(null, origin !== undefined && origins.has(origin)),
      credentials: true,
      allowedHeaders: ['content-type', 'x-csrf-token', 'authorization'],
    });

    // Authentication and roles before validation, so an anonymous caller learns nothing about the schema.
    api.addHook('onRequest', async (req, reply) => {
      if (req.method === 'OPTIONS') return;
      const config = req.routeOptions.config;
      const isPublic = config.public === true;
      let principal: Awaited<ReturnType<SessionGate['principal']>>;
      try {
        principal = await sessions.principal(req);
      } catch (err) {
        if (isPublic) return;
        if (err instanceof AuthError) return deny(reply, 401, 'unauthenticated', err.message);
        throw err;
      }
      if (!principal) {
        if (isPublic) return;
        return deny(
          reply,
          401,
          'unauthenticated',
          'log in first (POST /api/auth/login) or send Authorization: Bearer <token>',
        );
      }
      req.principal = principal;
      if (
        principal.via === 'cookie' &&
        UNSAFE.has(req.method) &&
        !sessions.csrfValid(req, principal.accessToken ?? '')
      ) {
        return deny(reply, 403, 'csrf', 'missing or wrong x-csrf-token header (GET /api/auth/me gives it)');
      }
      const action = config.action ?? 'read';
      if (!can(principal.role, action)) {
        return deny(reply, 403, 'forbidden', `role ${principal.role} may not ${action}`);
      }
    });

    await api.register(rateLimit, {
      max: opts.requestsPerMinute ?? 600,
      timeWindow: 60_000,
      keyGenerator: (req) => (req.principal ? `user:${req.principal.id}` : `ip:${req.ip}`),
      errorResponseBuilder: (_req, c) => ({
        statusCode: 429,
        error: 'rate_limited',
        message: `too many requests: at most ${c.max} per ${c.after}; retry in ${c.after}`,
      }),
    });

    await api.register(swagger, {
      openapi: {
        info: {
          title: 'tradeforge API',
          version: opts.port.version().version,
          description:
            'Authenticated REST API of a tradeforge runtime. Log in with POST /api/auth/login (session cookie ' +
            'plus x-csrf-token on state-changing requests) or send Authorization: Bearer <token>. ' +
            'WebSocket: /api/ws, messages {op:"subscribe",topics:[...],resume?:token}.',
        },
        components: {
          securitySchemes: {
            cookie: { type: 'apiKey', in: 'cookie', name: 'tf_access' },
            bearer: { type: 'http', scheme: 'bearer' },
          },
        },
        security: [{ cookie: [] }, { bearer: [] }],
      },
      transform: jsonSchemaTransform,
    });
    await api.register(websocket, { options: { maxPayload: 64 * 1024 } });

    api.setErrorHandler((err: FastifyError, req, reply) => {
      if (hasZodFastifySchemaValidationErrors(err)) {
        const where = CONTEXT_NAMES[err.validationContext ?? ''] ?? err.validationContext ?? 'request';
        const fields = err.validation.map((v) => ({
          field: `${where}${v.instancePath === '/' ? '' : v.instancePath.replace(/\//g, '.')}`,
          message: v.message ?? 'invalid',
        }));
        return reply.code(400).send({
          error: 'validation',
          message: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
          fields,
        });
      }
      if (err.statusCode === 429) return deny(reply, 429, 'rate_limited', err.message);
      if (err instanceof AuthError) {
        return deny(
          reply,
          authStatus(err),
          err.code === 'FORBIDDEN' ? 'forbidden' : err.code.toLowerCase(),
          err.message,
        );
      }
      if (err instanceof ValidationError) {
        const field = err.field ? `body.${err.field}` : 'body';
        return reply.code(400).send({
          error: 'validation',
          message: `${field}: ${err.message}`,
          fields: [{ field, message: err.message }],
        });
      }
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return deny(reply, err.statusCode, 'bad_request', err.message);
      }
      req.log.error({ err }, 'API request failed');
      return deny(reply, 500, 'internal', 'the request failed; see the runtime log');
    });

    traceRequests(api);
    const z = zodApp(api);
    sessionRoutes(z, ctx, { loginPerMinute: opts.loginsPerMinute ?? 10 });
    tradingRoutes(z, ctx);
    adminRoutes(z, ctx);
    queueRoutes(z, opts.queueStatus);
    marketRoutes(z, opts.port.market);
    backtestRoutes(z, opts.backtests);
    strategyCatalogueRoutes(z, opts.store);
    deploymentRoutes(z, opts.store, opts.port.deploymentControl);
    venueRoutes(z, opts.port.venues);
    alertRoutes(z, ctx, opts.alerts, opts.port.alertChannels);
    riskPreferenceRoutes(z, opts.port.riskPreferences);
    portfolioRoutes(z, ctx);
    assistantRoutes(z, opts.assistant);
    agentRoutes(z, opts.store, opts.agents);
    strategyRoutes(z, opts.promotion);
    if (opts.mcp) {
      const { mountMcp } = await import('../mcp/http.js');
      const { tradingFromApiPort } = await import('../mcp/trading-port.js');
      mountMcp(api, { ...opts.mcp, store: opts.store, trading: tradingFromApiPort(opts.port) });
    }

    if (opts.dashboardDir !== null) dashboardRoutes(api, opts.dashboardDir ?? DEFAULT_DASHBOARD_DIR);
    api.get('/api/ws', { websocket: true, schema: { hide: true } }, (socket) => hub.attach(socket));
    api.get('/api/docs', { config: { public: true }, schema: { hide: true } }, () => api.swagger());
  });

  return {
    hub,
    close() {
      unsubscribe();
      hub.close();
    },
  };
}

export type { ApiPort, StreamEvent, StreamTopic } from './port.js';
export { STREAM_TOPICS } from './port.js';
export { cliTokenPath, readCliToken, removeCliToken, writeCliToken } from './cli-token.js';
