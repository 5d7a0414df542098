/** A real API server (fastify, SQLite store, vault, auth) over a scripted runtime port, for the API tests. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPosition, ControlResult } from '../src/ops/control-port.js';
import { OpsMetrics } from '../src/ops/metrics.js';
import { type ApiHandle, type ApiOptions, registerApi } from '../src/server/api/index.js';
import type { ApiPort, ManualOrder, OrderDecision, StreamEvent } from '../src/server/api/port.js';
import { buildOpsServer } from '../src/server/ops-server.js';
import { AuthService, Vault } from '../src/security/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { runtimeVenues } from '../src/app/api-venues.js';
import { BacktestJobs } from '../src/app/backtest-jobs.js';
import { resolveHome } from '../src/app/home.js';
import { ScriptedMarket } from './server-api-market-fixture.js';

export const PASSWORD = 'Correct-Horse-Battery-Staple-9';
const FAST_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** A runtime stand-in at the port boundary: records every control call, keeps positions in memory. */
export class ScriptedRuntime implements ApiPort {
  readonly calls: string[] = [];
  killActive = false;
  entries = true;
  maxOrderNotional = 1000;
  lastPrice = 100;
  positions: ControlPosition[] = [
    {
      id: 'demo:BTC/USDT',
      symbol: 'BTC/USDT',
      side: 'long',
      quantity: 0.5,
      entryPrice: 90,
      markPrice: 100,
      unrealisedPnl: 5,
    },
  ];
  private listeners = new Set<(e: StreamEvent) => void>();
  /** A real kernel's feed and the runtime's market adapter over a scripted venue (server-api-market-fixture.ts). */
  readonly scriptedMarket = new ScriptedMarket((e) => this.emit(e));
  readonly market = this.scriptedMarket.data;
  /** A venue at the edge whose keys the exchange refuses: the runtime's venue adapter over it. */
  readonly venues = runtimeVenues(() => [
    {
      id: 'sim',
      type: 'simulator',
      real: false,
      venue: {
        fetchBalances: async () => {
          throw new Error('AuthenticationError: invalid API-key, IP, or permissions for action\n    at request');
        },
      },
    },
  ]);

  private result(name: string, actor: string, message: string): ControlResult {
    this.calls.push(`${name}:${actor}`);
    return { ok: true, message };
  }

  readonly control = {
    status: async () => ({
      state: this.killActive ? ('halted' as const) : ('running' as const),
      profile: 'dev',
      entriesEnabled: this.entries,
      killSwitchActive: this.killActive,
      deployments: [],
      openOrders: 0,
      openPositions: this.positions.length,
      breakersTripped: [],
    }),
    profit: async () => ({ currency: 'USDT', realisedPnl: 0, unrealisedPnl: 0, closedTrades: 0, winningTrades: 0 }),
    balance: async () => ({
      currency: 'USDT',
      equity: 10_050,
      assets: [{ asset: 'USDT', free: 10_000, used: 0, total: 10_000 }],
    }),
    positions: async () => this.positions,
    stopEntries: async (actor: string) => {
      this.entries = false;
      return this.result('stopEntries', actor, 'entries stopped');
    },
    startEntries: async (actor: string) => {
      this.entries = true;
      return this.result('startEntries', actor, 'entries allowed');
    },
    forceExit: async (target: string, actor: string) => {
      const n = this.positions.filter((p) => target === 'all' || p.id === target).length;
      this.positions = this.positions.filter((p) => !(target === 'all' || p.id === target));
      this.calls.push(`forceExit:${target}:${actor}`);
      return n ? { ok: true, message: `closing ${n}`, detail: { closing: n } } : { ok: false, message: 'no position' };
    },
    kill: async (actor: string) => {
      const closing = this.positions.length;
      this.positions = [];
      this.killActive = true;
      this.calls.push(`kill:${actor}`);
      return { ok: true, message: `kill switch engaged: ${closing} closing`, detail: { cancelled: 0, closing } };
    },
    resetBreaker: async (breaker: string, actor: string) => this.result(`reset:${breaker}`, actor, `${breaker} reset`),
    recover: async (actor: string) => {
      this.killActive = false;
      return this.result('recover', actor, 'kill switch released');
    },
  };

  async status() {
    return { source: 'runtime', state: this.killActive ? 'halted' : 'running', killSwitchActive: this.killActive };
  }
  async openOrders() {
    return [
      {
        deployment: 'demo',
        id: 'o-1',
        clientOrderId: 'tf-o-1',
        symbol: 'BTC/USDT',
        side: 'sell',
        type: 'stop',
        quantity: 0.5,
        stopPrice: 80,
        status: 'accepted',
      },
    ];
  }
  async equity() {
    return [
      { time: 1_700_000_000_000, equity: 10_000 },
      { time: 1_700_000_060_000, equity: 10_050 },
    ];
  }
  async riskState() {
    return {
      killSwitchActive: this.killActive,
      entriesEnabled: this.entries,
      breakers: [],
      checks: [{ deployment: 'demo', checked: 3, accepted: 2, rejected: 1, byCode: { MAX_NOTIONAL: 1 } }],
      limits: { maxOrderNotional: this.maxOrderNotional },
    };
  }
  version() {
    return { version: '0.1.0', gitSha: 'abc1234', configHash: 'cfg-hash' };
  }
  previewOrder(order: ManualOrder): Promise<OrderDecision> {
    return this.decide(order, false, 'preview');
  }
  placeOrder(order: ManualOrder, actor: string): Promise<OrderDecision> {
    return this.decide(order, true, actor);
  }
  private async decide(order: ManualOrder, place: boolean, actor: string): Promise<OrderDecision> {
    const notional = order.quantity * (order.price ?? this.lastPrice);
    if (notional > this.maxOrderNotional) {
      return {
        accepted: false,
        code: 'MAX_NOTIONAL',
        detail: `order notional ${notional} exceeds the limit ${this.maxOrderNotional}`,
        estimatedCost: notional,
      };
    }
    if (place) this.calls.push(`order:${order.side}:${order.quantity}:${actor}`);
    return { accepted: true, estimatedCost: notional, ...(place ? { orderId: 'o-new' } : {}) };
  }
  async prices() {
    return { 'BTC/USDT': this.lastPrice };
  }
  async cancelOrder(id: string, actor: string) {
    return this.result(`cancel:${id}`, actor, `order ${id} cancelled`);
  }
  subscribe(listener: (e: StreamEvent) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: StreamEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** A running API with an admin and a viewer. */
export interface ApiFixture {
  url: string;
  port: number;
  runtime: ScriptedRuntime;
  store: Store;
  auth: AuthService;
  vault: Vault;
  api: ApiHandle;
  cliToken: string;
  /** The app's backtest jobs over this fixture's home and store. */
  backtests: BacktestJobs;
  close(): Promise<void>;
}

/** What options built from the fixture's own parts can use. */
export interface FixtureParts {
  store: Store;
  vault: Vault;
  runtime: ScriptedRuntime;
}

/**
 * Starts the API on 127.0.0.1:0 over a fresh SQLite store with users `admin` (owner) and `viewer`; `extra` may be
 * built from the fixture's store, vault and runtime.
 */
export async function startApiFixture(
  extra: Partial<ApiOptions> | ((parts: FixtureParts) => Partial<ApiOptions> | Promise<Partial<ApiOptions>>) = {},
): Promise<ApiFixture> {
  const home = mkdtempSync(join(tmpdir(), 'tf-api-'));
  const store = await openStore({ home });
  const vault = await Vault.create(store, { masterKey: randomBytes(32) });
  const auth = new AuthService(store, { vault, passwordHash: FAST_HASH, policy: { maxFailedAttempts: 3 } });
  await auth.createOwner('admin', PASSWORD);
  await auth.createUser('viewer', PASSWORD, 'viewer', 'test');
  const runtime = new ScriptedRuntime();
  const app = buildOpsServer({
    health: {
      snapshot: () => ({ killSwitchActive: runtime.killActive, breakers: [], positions: { open: 0, symbols: [] } }),
    },
    metrics: new OpsMetrics({ processMetrics: false }),
  });
  const backtests = new BacktestJobs(store, resolveHome({}, home));
  const cliToken = `tfc_${randomBytes(32).toString('base64url')}`;
  const api = await registerApi(app, {
    port: runtime,
    auth,
    store,
    vault,
    cliToken,
    bindHost: '127.0.0.1',
    corsOrigins: ['https://dash.example.com'],
    stream: { throttleMs: 50 },
    backtests,
    ...(typeof extra === 'function' ? await extra({ store, vault, runtime }) : extra),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    runtime,
    store,
    auth,
    vault,
    api,
    cliToken,
    backtests,
    async close() {
      await backtests.close();
      api.close();
      await app.close();
      await store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A raw HTTP response. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** One HTTP request with full control of the headers (fetch does not let a test forge Host). */
export function call(
  fx: { port: number },
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<RawResponse> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: fx.port,
        method,
        path,
        headers: {
          host: `127.0.0.1:${fx.port}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON (CSV, HTML)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A logged-in browser-like session: its cookie header and CSRF token. */
export interface Session {
  cookie: string;
  csrf: string;
  headers: Record<string, string>;
}

/** Logs in and returns the cookie and CSRF headers a browser would send. */
export async function login(fx: { port: number }, username: string, password = PASSWORD): Promise<Session> {
  const r = await call(fx, 'POST', '/api/auth/login', { body: { username, password } });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
  const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
  const cookie = set.map((c) => c.split(';')[0]).join('; ');
  const csrf = String(r.json.csrfToken);
  return { cookie, csrf, headers: { cookie, 'x-csrf-token': csrf } };
}
