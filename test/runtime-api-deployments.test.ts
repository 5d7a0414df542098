import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HomePaths, resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { type Config, resolveConfig } from '../src/core/config.js';
import { AuthService, Redactor, Vault } from '../src/security/index.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { call, login, PASSWORD, type Session } from './server-api-fixture.js';

// Deployments created, started and stopped over the API of a real runtime on the exchange simulator (real ccxt on
// loopback, real store, real vault and audit log): each refusal, the stop's cancels and flatten, the kill switch,
// and a restart that resumes an API deployment in the state it had.
const MASTER = randomBytes(32).toString('hex');
const FAST_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

let sim: SimulatorHandle;
let dir: string;
let home: HomePaths;
let config: Config;
let runtime: Runtime | undefined;
let fx: { port: number };
let admin: Session;
let viewer: Session;

const start = async () => {
  runtime = await startRuntime({ config, profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER } });
  fx = { port: Number(new URL(runtime.url).port) };
  admin = await login(fx, 'admin');
  viewer = await login(fx, 'viewer');
};

/** Re-checks `cond` until it holds (the runtime's fills arrive by its order polling). */
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
};

const eth = {
  id: 'api-eth',
  strategy: 'sma-cross',
  params: { fast: 100, slow: 200 },
  venue: 'sim',
  symbols: ['ETH/USDT'],
  stake: '10%',
  risk: { maxOrderNotional: 400 },
  mode: 'paper',
};

const post = (path: string, s: Session | undefined, body?: unknown) =>
  call(fx, 'POST', path, { ...(s ? { headers: s.headers } : {}), ...(body !== undefined ? { body } : {}) });
const dep = (id: string) => runtime?.deployments.find((d) => d.id === id);
const auditOf = async (id: string) =>
  (await (runtime as Runtime).store.audit.bySubjects([`deployment:${id}`])).map((r) => `${r.actor} ${r.action}`);

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, tickIntervalMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-api-deployments-'));
  home = resolveHome({}, join(dir, 'home'));
  const seed = await openStore({ home });
  const vault = await Vault.create(seed, { masterKey: MASTER }, { redactor: new Redactor() });
  const auth = new AuthService(seed, { vault, passwordHash: FAST_HASH });
  await auth.createOwner('admin', PASSWORD);
  await auth.createUser('viewer', PASSWORD, 'viewer', 'test');
  await seed.close();
  config = resolveConfig({
    server: { port: 0 },
    venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
    risk: { maxOrderNotional: 500, orderRate: { perMinute: 100, perSecond: 20 } },
    deployments: [
      {
        id: 'cfg',
        strategy: 'sma-cross',
        params: { fast: 100, slow: 200 },
        venue: 'sim',
        symbols: ['BTC/USDT'],
        stake: '10%',
      },
    ],
    runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, heartbeatSeconds: 1 },
  });
  await start();
}, 180_000);

afterAll(async () => {
  await runtime?.stop('test end');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/deployments', () => {
  it('creates a paper deployment (not started) recorded with its origin and creator, and audited', async () => {
    const r = await post('/api/deployments', admin, eth);
    expect(r.status).toBe(201);
    expect(r.json.deployment).toMatchObject({
      id: 'api-eth',
      status: 'created',
      origin: 'api',
      createdBy: 'api:admin',
      venue: 'sim',
      symbols: ['ETH/USDT'],
      mode: 'paper',
      profile: 'dev',
    });
    expect(dep('api-eth')).toBeUndefined();
    const list = await call(fx, 'GET', '/api/deployments', { headers: viewer.headers });
    expect((list.json.deployments as { id: string; origin: string }[]).map((d) => `${d.id}:${d.origin}`)).toEqual([
      'cfg:config',
      'api-eth:api',
    ]);
    expect(await auditOf('api-eth')).toEqual(['api:admin deployment.create']);
  });

  it('answers 400 naming the field: the config schema, keys in the request, a risk that loosens, an unknown venue', async () => {
    const empty = await post('/api/deployments', admin, { ...eth, id: 'x1', symbols: [] });
    expect(empty.status).toBe(400);
    expect((empty.json.fields as { field: string }[])[0].field).toBe('body.symbols');
    const keys = await post('/api/deployments', admin, { ...eth, id: 'x2', apiKey: 'k', secret: 's' });
    expect(keys.status).toBe(400);
    expect(keys.json.message).toMatch(/apiKey/);
    const loose = await post('/api/deployments', admin, { ...eth, id: 'x3', risk: { maxOrderNotional: 900 } });
    expect(loose.status).toBe(400);
    expect(loose.json.fields).toEqual([
      { field: 'body.risk.maxOrderNotional', message: expect.stringContaining("looser than the account's 500") },
    ]);
    const venue = await post('/api/deployments', admin, { ...eth, id: 'x4', venue: 'binance' });
    expect(venue.status).toBe(400);
    expect(venue.json.message).toBe(
      'body.venue: unknown venue "binance": this runtime is connected to sim (venues are configured in the config file; their keys stay in the vault)',
    );
    const file = await post('/api/deployments', admin, { ...eth, id: 'x5', strategy: './evil.ts' });
    expect((file.json.fields as { field: string }[])[0].field).toBe('body.strategy');
    const params = await post('/api/deployments', admin, { ...eth, id: 'x6', params: { fast: 'x' } });
    expect(params.status).toBe(400);
    expect((params.json.fields as { field: string }[])[0].field).toMatch(/^body\.params/);
    // The refusals the control decides and the ones the schema decides are audited with the user.
    expect(await auditOf('x3')).toEqual(['api:admin deployment.create.refused']);
    expect(await auditOf('x2')).toEqual(['api:admin deployment.create.refused']);
    expect(await (runtime as Runtime).store.deployments.get('x3')).toBeUndefined();
  });

  it('401 without a session, 403 for a viewer (audited)', async () => {
    expect((await post('/api/deployments', undefined, { ...eth, id: 'v1' })).status).toBe(401);
    const v = await post('/api/deployments', viewer, { ...eth, id: 'v1' });
    expect(v.status).toBe(403);
    expect(await auditOf('v1')).toEqual(['api:viewer deployment.create.refused']);
  });

  it('refuses live money without confirmation or promotion, a mode the runtime does not run, a taken id', async () => {
    const unconfirmed = await post('/api/deployments', admin, { ...eth, id: 'l1', mode: 'live' });
    expect(unconfirmed.status).toBe(400);
    expect((unconfirmed.json.fields as { field: string }[])[0].field).toBe('body.confirmLive');
    const unpromoted = await post('/api/deployments', admin, { ...eth, id: 'l1', mode: 'live', confirmLive: true });
    expect(unpromoted.status).toBe(409);
    expect(unpromoted.json).toMatchObject({ error: 'not_promoted' });
    expect(unpromoted.json.message).toContain('it is not a stored strategy version (ID@vN)');
    const stored = await post('/api/deployments', admin, {
      ...eth,
      id: 'l2',
      strategy: 'ghost@v1',
      mode: 'live',
      confirmLive: true,
    });
    expect(stored.json.message).toContain('no such stored version');
    const dry = await post('/api/deployments', admin, { ...eth, id: 'd1', mode: 'dry_run' });
    expect(dry.status).toBe(409);
    expect(dry.json.error).toBe('mode_unavailable');
    expect((await post('/api/deployments', admin, eth)).json.error).toBe('id_taken');
    expect((await post('/api/deployments', admin, { ...eth, id: 'cfg' })).json.error).toBe('id_taken');
    expect(await auditOf('l1')).toEqual(['api:admin deployment.create.refused', 'api:admin deployment.create.refused']);
  });
});

describe('POST /api/deployments/:id/start and /stop on the simulator', () => {
  it('starts the created deployment: it trades its symbol beside the config deployment', async () => {
    expect((await post('/api/deployments/api-eth/start', undefined)).status).toBe(401);
    expect((await post('/api/deployments/api-eth/start', viewer)).status).toBe(403);
    expect((await post('/api/deployments/nope/start', admin)).status).toBe(404);
    const cfg = await post('/api/deployments/cfg/start', admin);
    expect(cfg.status).toBe(409);
    expect(cfg.json.error).toBe('config_deployment');
    const bad = await post(`/api/deployments/${'a'.repeat(65)}/start`, admin);
    expect(bad.status).toBe(400);
    expect((bad.json.fields as { field: string }[])[0].field).toBe('path.id');

    const r = await post('/api/deployments/api-eth/start', admin);
    expect(r.status).toBe(200);
    expect(r.json.deployment).toMatchObject({ id: 'api-eth', status: 'running' });
    expect(dep('api-eth')?.symbols).toEqual(['ETH/USDT']);
    const status = await call(fx, 'GET', '/api/status', { headers: viewer.headers });
    expect((status.json.deployments as { id: string }[]).map((d) => d.id)).toEqual(['cfg', 'api-eth']);
    expect((await post('/api/deployments/api-eth/start', admin)).json.error).toBe('running');
    // Its own risk settings apply: 400 over its tighter 400 limit, under the account's 500.
    const px = dep('api-eth')?.engine.portfolio.last[0] ?? 0;
    await until(() => (dep('api-eth')?.engine.portfolio.last[0] ?? 0) > 0);
    const over = await post('/api/orders/preview', admin, {
      deployment: 'api-eth',
      symbol: 'ETH/USDT',
      side: 'buy',
      type: 'limit',
      price: Math.round((dep('api-eth')?.engine.portfolio.last[0] ?? px) * 0.5),
      quantity: 450 / ((dep('api-eth')?.engine.portfolio.last[0] ?? px) * 0.5),
    });
    expect(over.json).toMatchObject({ accepted: false, code: 'MAX_NOTIONAL' });
  });

  it('refuses a second deployment on the same venue and symbol', async () => {
    await post('/api/deployments', admin, { ...eth, id: 'api-btc', symbols: ['BTC/USDT'] });
    const r = await post('/api/deployments/api-btc/start', admin);
    expect(r.status).toBe(409);
    expect(r.json.message).toContain('deployment cfg already trades BTC/USDT on sim');
    expect(dep('api-btc')).toBeUndefined();
  });

  it('stops keeping the position: resting orders cancelled, the position kept and stated', async () => {
    const d = dep('api-eth');
    if (!d) throw new Error('not running');
    const last = d.engine.portfolio.last[0];
    const buy = await post('/api/orders', admin, {
      deployment: 'api-eth',
      symbol: 'ETH/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.05,
      confirm: true,
    });
    expect(buy.json).toMatchObject({ accepted: true });
    await until(() => d.engine.portfolio.qty[0] > 0);
    const resting = await post('/api/orders', admin, {
      deployment: 'api-eth',
      symbol: 'ETH/USDT',
      side: 'buy',
      type: 'limit',
      price: Math.round(last * 0.8),
      quantity: 0.05,
      confirm: true,
    });
    expect(resting.json).toMatchObject({ accepted: true });
    await until(() => sim.state.orders.some((o) => o.status === 'NEW' && o.symbol === 'ETHUSDT'));

    expect((await post('/api/deployments/api-eth/stop', admin, {})).status).toBe(400);
    expect((await post('/api/deployments/api-eth/stop', viewer, { flatten: false })).status).toBe(403);
    const r = await post('/api/deployments/api-eth/stop', admin, { flatten: false });
    expect(r.status).toBe(200);
    const held = d.engine.portfolio.qty[0];
    expect(r.json.stop).toEqual({
      flatten: false,
      cancelledOrders: 1,
      positionsKept: [{ symbol: 'ETH/USDT', quantity: held }],
      positionsClosed: [],
      protectiveStopsKept: 0,
    });
    expect(r.json.message).toBe(`deployment api-eth stopped: 1 order(s) cancelled; positions kept: ${held} ETH/USDT`);
    expect(r.json.deployment).toMatchObject({ status: 'stopped' });
    expect(dep('api-eth')).toBeUndefined();
    expect(sim.state.orders.filter((o) => o.symbol === 'ETHUSDT' && o.status === 'NEW')).toEqual([]);
    expect((await post('/api/deployments/api-eth/stop', admin, { flatten: false })).json.error).toBe('not_running');
    expect((await auditOf('api-eth')).filter((a) => a.includes(' deployment.'))).toEqual([
      'api:admin deployment.create',
      'api:admin deployment.create.refused',
      'api:viewer deployment.start.refused',
      'api:admin deployment.start',
      'api:admin deployment.start.refused',
      'api:admin deployment.stop.refused',
      'api:viewer deployment.stop.refused',
      'api:admin deployment.stop',
      'api:admin deployment.stop.refused',
    ]);
    // The start reconciled the deployment against the venue, as the runtime's start does.
    expect(await auditOf('api-eth')).toContain('runtime reconcile.done');
  });

  it('the kill switch blocks a start; after recover it starts with its kept position and a flatten stop closes it', async () => {
    const kill = await post('/api/control/kill', admin, { confirm: true });
    expect(kill.status).toBe(200);
    const refused = await post('/api/deployments/api-eth/start', admin);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toBe('kill_switch');
    expect(dep('api-eth')).toBeUndefined();
    expect((await post('/api/control/recover', admin, { confirm: true })).status).toBe(200);

    const r = await post('/api/deployments/api-eth/start', admin);
    expect(r.status).toBe(200);
    const d = dep('api-eth');
    // The book continues from the stored fills.
    expect(d?.engine.portfolio.qty[0]).toBeGreaterThan(0);
    const stop = await post('/api/deployments/api-eth/stop', admin, { flatten: true });
    expect(stop.status).toBe(200);
    expect(stop.json.stop).toMatchObject({ flatten: true, positionsKept: [] });
    expect((stop.json.stop as { positionsClosed: unknown[] }).positionsClosed).toHaveLength(1);
    expect(d?.engine.portfolio.qty[0]).toBe(0);
  });

  it('archives a stopped API deployment; a running one is refused', async () => {
    expect((await call(fx, 'DELETE', '/api/deployments/cfg', { headers: admin.headers })).json.error).toBe(
      'config_deployment',
    );
    const r = await call(fx, 'DELETE', '/api/deployments/api-btc', { headers: admin.headers });
    expect(r.status).toBe(200);
    expect(r.json.deployment).toMatchObject({ status: 'archived' });
    expect((await post('/api/deployments/api-btc/start', admin)).json.error).toBe('archived');
  });

  it('publishes the routes in the OpenAPI document', async () => {
    const docs = await call(fx, 'GET', '/api/docs');
    const paths = Object.keys(docs.json.paths as Record<string, unknown>);
    for (const p of [
      '/api/deployments',
      '/api/deployments/{id}/start',
      '/api/deployments/{id}/stop',
      '/api/deployments/{id}',
    ]) {
      expect(paths).toContain(p);
    }
  });
});

const BIN = resolve(import.meta.dirname, '../bin/tradeforge.js');

/** Runs the CLI against this test's runtime (its run file and token are in the home folder). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TRADEFORGE_HOME: home.root } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    c.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    c.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

describe('tradeforge deployments (the CLI with the runtime token)', () => {
  // Each CLI process starts in tens of seconds on a loaded machine: four calls, a generous guard.
  it('creates from a file, starts and stops; a refusal is one line and exit 1', { timeout: 900_000 }, async () => {
    const file = join(dir, 'cli-dep.yaml');
    writeFileSync(
      file,
      'id: cli-eth\nstrategy: sma-cross\nparams: { fast: 100, slow: 200 }\nvenue: sim\nsymbols: [ETH/USDT]\n',
    );
    const created = await cli('deployments', 'create', file, '--mode', 'paper');
    expect(created.stdout).toBe('deployment cli-eth created (not started)\n');
    const early = await cli('deployments', 'stop', 'cli-eth', '--keep-positions');
    expect(early.status).toBe(1);
    expect(early.stderr.trim().split('\n')).toHaveLength(1);
    expect(early.stderr).toContain('deployment cli-eth is not running (status created)');
    const started = await cli('deployments', 'start', 'cli-eth');
    expect(started.stdout).toBe('deployment cli-eth started\n');
    expect(dep('cli-eth')).toBeDefined();
    const stopped = await cli('deployments', 'stop', 'cli-eth', '--keep-positions');
    expect(stopped.stdout).toBe('deployment cli-eth stopped: 0 order(s) cancelled; no open position\n');
    expect((await auditOf('cli-eth')).filter((a) => a.includes(' deployment.'))).toEqual([
      'api:cli deployment.create',
      'api:cli deployment.stop.refused',
      'api:cli deployment.start',
      'api:cli deployment.stop',
    ]);
  });
});

describe('a restart', () => {
  it('resumes a running API deployment (reconciled like the config ones) and keeps a stopped one stopped', async () => {
    await post('/api/deployments', admin, { ...eth, id: 'api-sol', symbols: ['ETH/USDT'] });
    expect((await post('/api/deployments/api-sol/start', admin)).status).toBe(200);
    await (runtime as Runtime).stop('restart');
    runtime = undefined;
    await start();
    expect((runtime as Runtime | undefined)?.deployments.map((d) => d.id)).toEqual(['cfg', 'api-sol']);
    expect(dep('api-sol')?.reconcile).toBeDefined();
    const list = await call(fx, 'GET', '/api/deployments', { headers: viewer.headers });
    const byId = new Map((list.json.deployments as { id: string; status: string }[]).map((d) => [d.id, d.status]));
    expect(byId.get('api-sol')).toBe('running');
    expect(byId.get('api-eth')).toBe('stopped');
    expect(byId.get('api-btc')).toBe('archived');
    const stop = await post('/api/deployments/api-sol/stop', admin, { flatten: false });
    expect(stop.status).toBe(200);
  });
});
