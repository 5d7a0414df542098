/**
 * The runtime's side of the API port: maps the runtime's control API, status, engines and event bus onto what the
 * HTTP/WebSocket API needs (`server/api/port.ts`), so the server never reaches into runtime internals.
 */
import type { FastifyInstance } from 'fastify';
import type { QueueStatus } from '../scale/status.js';
import type { Config, RiskConfig } from '../core/config.js';
import type { DomainEvent, EventBus, EventName } from '../core/events.js';
import type { QueueGaugeSource } from '../core/queue-bound.js';
import { inSpan } from '../core/tracing.js';
import type { Engine } from '../engine/engine.js';
import type { OrderIntent } from '../core/order.js';
import type { ControlApi } from '../ops/control-port.js';
import { AuthService } from '../security/auth.js';
import type { Vault } from '../security/vault.js';
import { type ApiOptions, registerApi } from '../server/api/index.js';
import { removeCliToken, writeCliToken } from '../server/api/cli-token.js';
import type {
  ApiDeploymentControl,
  ApiPort,
  ApiRiskState,
  ApiVersion,
  EquityPoint,
  ManualOrder,
  OrderDecision,
  StreamEvent,
  StreamTopic,
} from '../server/api/port.js';
import type { Store } from '../store/store.js';
import { BacktestJobs } from './backtest-jobs.js';
import type { HomePaths } from './home.js';
import { type MarketDeployment, publishClosedCandles, runtimeMarketData } from './api-market.js';
import { runtimeVenues } from './api-venues.js';
import { assistantService } from './assistant-service.js';
import type { RuntimeStatus } from './runtime.js';

/** A deployment as the adapter needs it: its id, symbols, kernel and (for market data) its venue. */
export interface ApiDeployment extends MarketDeployment {
  symbols: readonly string[];
}

/** What the runtime hands the adapter. */
export interface RuntimeApiDeps {
  control: ControlApi;
  status: () => Promise<RuntimeStatus>;
  bus: EventBus;
  /** The config file's risk section (the configured limits when `riskInForce` is absent). */
  risk: RiskConfig;
  /** The account's risk config in force (with the defaults and the preferences saved from the API). */
  riskInForce?: () => RiskConfig;
  version: ApiVersion;
  /** Editable risk limits (the account engine's preferences). */
  riskPreferences?: ApiPort['riskPreferences'];
  /** Editable alert channels (the alert router's). */
  alertChannels?: ApiPort['alertChannels'];
  deployments: () => readonly ApiDeployment[];
  /** Equity points kept for the curve (default 10 000, one per second at most). */
  equityPoints?: number;
  /** Creates, starts and stops deployments over the API (absent: those routes answer 501). */
  deploymentControl?: ApiDeploymentControl;
}

/** Which WebSocket topic each bus event feeds, and the key throttled topics conflate on. */
const TOPICS: Partial<Record<EventName, (e: DomainEvent) => { topic: StreamTopic; key?: string }>> = {
  'order.submitted.v1': () => ({ topic: 'orders' }),
  'order.accepted.v1': () => ({ topic: 'orders' }),
  'order.partially_filled.v1': () => ({ topic: 'orders' }),
  'order.filled.v1': () => ({ topic: 'orders' }),
  'order.cancelled.v1': () => ({ topic: 'orders' }),
  'order.rejected.v1': () => ({ topic: 'orders' }),
  'order.expired.v1': () => ({ topic: 'orders' }),
  'fill.executed.v1': () => ({ topic: 'fills' }),
  'trade.closed.v1': () => ({ topic: 'fills' }),
  'position.changed.v1': () => ({ topic: 'positions' }),
  'equity.updated.v1': (e) => ({ topic: 'pnl', key: e.source }),
  'risk.rejected.v1': () => ({ topic: 'risk' }),
  'breaker.tripped.v1': () => ({ topic: 'risk' }),
  'breaker.reset.v1': () => ({ topic: 'risk' }),
  'killswitch.triggered.v1': () => ({ topic: 'risk' }),
  'killswitch.completed.v1': () => ({ topic: 'risk' }),
  'killswitch.recovered.v1': () => ({ topic: 'risk' }),
  'heartbeat.beat.v1': () => ({ topic: 'heartbeat' }),
  'data.stale.v1': () => ({ topic: 'heartbeat' }),
  'data.resumed.v1': () => ({ topic: 'heartbeat' }),
  'agent.step.v1': () => ({ topic: 'agent' }),
};

/** Numeric limits of the risk config, flattened (`maxOrderNotional`, `breakers.dailyLoss` ...). */
export function riskLimits(risk: RiskConfig): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'number') out[`${prefix}${k}`] = v;
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
    }
  };
  walk(risk as Record<string, unknown>, '');
  return out;
}

/** Builds the API port of a runtime; `dispose` stops its bus subscriptions. */
export function runtimeApiPort(deps: RuntimeApiDeps): ApiPort & { dispose(): void } {
  const cap = deps.equityPoints ?? 10_000;
  const equity: EquityPoint[] = [];
  const latest = new Map<string, number>();
  const offEquity = deps.bus.subscribe('equity.updated.v1', (e) => {
    latest.set(e.source, e.payload.equity);
    let total = 0;
    for (const v of latest.values()) total += v;
    const last = equity[equity.length - 1];
    // One point per second: the curve stays small however often equity ticks.
    if (last && Math.floor(last.time / 1000) === Math.floor(e.time / 1000)) last.equity = total;
    else equity.push({ time: e.time, equity: total });
    if (equity.length > cap) equity.splice(0, equity.length - cap);
  });

  /** The deployment an order goes to and its estimated cost, or the refusal when none trades it. */
  const route = (
    order: ManualOrder,
  ): { d: ApiDeployment; cost: { estimatedCost?: number } } | { refused: OrderDecision } => {
    const d = deps
      .deployments()
      .find((x) => (order.deployment ? x.id === order.deployment : x.symbols.includes(order.symbol)));
    if (!d) {
      return {
        refused: {
          accepted: false,
          code: 'INVALID_ORDER',
          detail: order.deployment
            ? `no deployment ${order.deployment}`
            : `no deployment trades ${order.symbol}; name one with "deployment"`,
        },
      };
    }
    const s = d.symbols.indexOf(order.symbol);
    const mark = s >= 0 ? d.engine.portfolio.last[s] : Number.NaN;
    const px = order.price ?? order.stopPrice ?? mark;
    return { d, cost: Number.isFinite(px) ? { estimatedCost: order.quantity * px } : {} };
  };
  const intentOf = (d: ApiDeployment, order: ManualOrder, actor: string): OrderIntent => ({
    strategyId: d.engine.strategyId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    quantity: order.quantity,
    ...(order.price !== undefined ? { price: order.price } : {}),
    ...(order.stopPrice !== undefined ? { stopPrice: order.stopPrice } : {}),
    source: 'manual',
    tag: `manual:${actor}`,
  });

  const preview = async (order: ManualOrder): Promise<OrderDecision> => {
    const r = route(order);
    if ('refused' in r) return r.refused;
    const refusal = r.d.engine.previewIntent(intentOf(r.d, order, 'preview'));
    return refusal === null
      ? { accepted: true, ...r.cost }
      : { accepted: false, code: refusal.code, detail: refusal.detail, ...r.cost };
  };

  const place = async (order: ManualOrder, actor: string): Promise<OrderDecision> => {
    const r = route(order);
    if ('refused' in r) return r.refused;
    const d = r.d;
    let rejection: { code: string; detail: string } | undefined;
    const off = deps.bus.subscribe('risk.rejected.v1', (e) => {
      if (e.payload.intent.symbol === order.symbol) rejection = { code: e.payload.code, detail: e.payload.detail };
    });
    let placed: ReturnType<Engine['submitIntent']>;
    try {
      // The manual order is the signal: its span is the parent of the risk decision and the order's venue calls.
      placed = inSpan('signal', { attributes: { 'signal.source': 'api', 'deployment.id': d.id } }, () =>
        d.engine.submitIntent(intentOf(d, order, actor)),
      );
    } finally {
      off();
    }
    const cost = r.cost;
    if (placed) return { accepted: true, orderId: placed.id, ...cost };
    return {
      accepted: false,
      code: rejection?.code ?? 'REJECTED',
      detail: rejection?.detail ?? 'the order was not placed',
      ...cost,
    };
  };

  return {
    control: deps.control,
    status: async () => (await deps.status()) as unknown as Record<string, unknown>,
    openOrders: async () => (await deps.status()).openOrders,
    equity: async () => equity.slice(),
    async riskState(): Promise<ApiRiskState> {
      const s = await deps.status();
      return {
        killSwitchActive: s.killSwitchActive,
        entriesEnabled: s.entriesEnabled,
        breakers: s.breakers.flatMap((b) =>
          b.active.map((a) => ({
            deployment: b.deployment,
            breaker: a.breaker,
            ...(a.symbol !== undefined ? { symbol: a.symbol } : {}),
            ...(a.until !== undefined ? { until: a.until } : {}),
            ...(a.detail !== undefined ? { detail: a.detail } : {}),
          })),
        ),
        checks: s.risk.map((r) => ({
          deployment: r.deployment,
          checked: r.checked,
          accepted: r.accepted,
          rejected: r.rejected,
          byCode: r.byCode,
        })),
        limits: riskLimits(deps.riskInForce ? deps.riskInForce() : deps.risk),
      };
    },
    version: () => deps.version,
    ...(deps.riskPreferences ? { riskPreferences: deps.riskPreferences } : {}),
    ...(deps.alertChannels ? { alertChannels: deps.alertChannels } : {}),
    previewOrder: preview,
    placeOrder: place,
    async prices() {
      const out: Record<string, number> = {};
      for (const d of deps.deployments()) {
        d.symbols.forEach((sym, i) => {
          const px = d.engine.portfolio.last[i];
          if (Number.isFinite(px) && px > 0) out[sym] = px;
        });
      }
      return out;
    },
    async cancelOrder(orderId, actor) {
      for (const d of deps.deployments()) {
        const o = d.engine.exec.getOrder(orderId);
        if (o) {
          d.engine.cancelOrder(orderId, `cancelled by ${actor}`);
          return { ok: true, message: `cancel requested for order ${orderId}` };
        }
      }
      return { ok: false, message: `no open order ${orderId}` };
    },
    market: runtimeMarketData(deps.deployments),
    ...(deps.deploymentControl ? { deploymentControl: deps.deploymentControl } : {}),
    venues: runtimeVenues(() =>
      deps.deployments().flatMap((d) => {
        const v = d.venue;
        return v?.id !== undefined && v.type !== undefined && v.real !== undefined && v.venue !== undefined
          ? [{ id: v.id, type: v.type, real: v.real, venue: v.venue }]
          : [];
      }),
    ),
    subscribe(listener: (e: StreamEvent) => void) {
      const offCandles = publishClosedCandles(deps.bus, deps.deployments, listener);
      const off = deps.bus.subscribe('*', (e) => {
        const route = TOPICS[e.name];
        if (!route) return;
        const { topic, key } = route(e);
        listener({ topic, ...(key !== undefined ? { key } : {}), time: e.time, data: { event: e.name, ...e.payload } });
      });
      return () => {
        off();
        offCandles();
      };
    },
    dispose: offEquity,
  };
}

/** What {@link attachRuntimeApi} needs from the runtime. */
export interface AttachApiDeps extends RuntimeApiDeps {
  app: FastifyInstance;
  server: Config['server'];
  store: Store;
  vault?: Vault;
  /** The run folder for the CLI token; absent: no token (tests that run several runtimes in one home). */
  runDir?: string;
  /** The scale-out queue (config `queue`), for `GET /api/queue/status`. */
  queue?: Config['queue'];
  /** Mounts the MCP server at /api/mcp (docs/mcp.md). */
  mcp?: ApiOptions['mcp'];
  /** The home folder: API backtests read its data and store their runs there; absent: no API backtests. */
  home?: HomePaths;
  /** Builds the agents' dependencies on demand, for strategy generation over the API. */
  agents?: ApiOptions['agents'];
  /** The config, whose LLM providers serve the trading assistant (absent or none configured: its routes answer 404). */
  config?: Config;
  /** The promotion pipeline behind `/api/strategies/:ref/...` (docs/promotion.md). */
  promotion?: ApiOptions['promotion'];
  /** Publishes the WebSocket fan-out's queue on /metrics. */
  watchQueue?: (q: QueueGaugeSource) => void;
}

/** How long `GET /api/queue/status` waits for Redis before it answers 503. */
const QUEUE_STATUS_TIMEOUT_MS = 5000;

/**
 * Reads the queue's status over its own Redis connection per request (scale/status.ts, loaded on first use). A
 * Redis that does not answer makes the request fail after QUEUE_STATUS_TIMEOUT_MS instead of hanging it.
 */
function queueStatusReader(queue: Config['queue']): () => Promise<QueueStatus> {
  return async () => {
    const { queueStatus } = await import('../scale/status.js');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from ${queue.url} within ${QUEUE_STATUS_TIMEOUT_MS} ms`)),
        QUEUE_STATUS_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([queueStatus({ url: queue.url, prefix: queue.prefix }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Registers the authenticated API on the runtime's server (call before `listen`), writes the CLI token, and
 * returns the function that undoes both on shutdown.
 */
export async function attachRuntimeApi(d: AttachApiDeps): Promise<() => void> {
  const port = runtimeApiPort(d);
  const backtests = d.home ? new BacktestJobs(d.store, d.home) : undefined;
  const cliToken = d.runDir !== undefined ? writeCliToken(d.runDir) : undefined;
  const handle = await registerApi(d.app, {
    port,
    auth: new AuthService(d.store, d.vault ? { vault: d.vault } : {}),
    store: d.store,
    ...(d.vault ? { vault: d.vault } : {}),
    ...(cliToken ? { cliToken } : {}),
    bindHost: d.server.host,
    allowedHosts: d.server.allowedHosts,
    corsOrigins: d.server.corsOrigins,
    ipAllowList: d.server.ipAllowList,
    ...(d.queue ? { queueStatus: queueStatusReader(d.queue) } : {}),
    ...(d.mcp ? { mcp: d.mcp } : {}),
    ...(backtests ? { backtests } : {}),
    ...(d.config ? { alerts: d.config.alerts } : {}),
    ...(d.agents ? { agents: d.agents } : {}),
    ...(d.config && d.config.agents.providers.length > 0
      ? {
          assistant: assistantService({
            config: d.config,
            store: d.store,
            port,
            bus: d.bus,
            ...(d.vault ? { vault: d.vault } : {}),
          }),
        }
      : {}),
    ...(d.promotion ? { promotion: d.promotion } : {}),
  });
  d.watchQueue?.(handle.hub);
  return () => {
    handle.close();
    void backtests?.close();
    port.dispose();
    if (d.runDir !== undefined) removeCliToken(d.runDir);
  };
}
