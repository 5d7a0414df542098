import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HomePaths, resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { AuthService } from '../src/security/auth.js';
import { Vault } from '../src/security/vault.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { FakeTelegramServer } from './ops-fakes.js';
import { waitFor } from './fixtures/wait.js';
import { call, login, PASSWORD, type Session } from './server-api-fixture.js';

// Risk preferences, alert channels and portfolio figures through the live runtime's own API on the exchange
// simulator (real ccxt on loopback), with a local Telegram Bot API at the edge. No scripted port.
const MASTER_KEY = randomBytes(32).toString('hex');
const TOKEN = '777000:runtime-settings-token';
let sim: SimulatorHandle;
let telegram: FakeTelegramServer;
let dir: string;
let home: HomePaths;
let runtime: Runtime | undefined;
let fx: { port: number };
let cli: Record<string, string>;
let viewer: Session;

const config = () =>
  resolveConfig({
    server: { port: 0 },
    venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
    risk: { maxOrderNotional: 5000 },
    deployments: [
      { id: 'rs', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'sim', symbols: ['BTC/USDT'] },
    ],
    runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, heartbeatSeconds: 5 },
  });

async function start(): Promise<void> {
  runtime = await startRuntime({ config: config(), profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER_KEY } });
  fx = { port: Number(new URL(runtime.url).port) };
  cli = { authorization: `Bearer ${readCliToken(home.run) ?? ''}` };
  viewer = await login(fx, 'watcher');
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, tickIntervalMs: 50 });
  telegram = new FakeTelegramServer(TOKEN);
  await telegram.start();
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-settings-'));
  home = resolveHome({}, join(dir, 'home'));
  const store = await openStore({ home });
  await Vault.create(store, { masterKey: MASTER_KEY });
  const auth = new AuthService(store, { passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
  await auth.createOwner('boss', PASSWORD);
  await auth.createUser('watcher', PASSWORD, 'viewer', 'test');
  await store.close();
  await start();
}, 120_000);

afterAll(async () => {
  await runtime?.stop('test end');
  await telegram?.stop();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (method: string, path: string, body?: unknown, headers = cli) =>
  call(fx, method, path, { headers, ...(body !== undefined ? { body } : {}) });

const fieldsOf = (r: { json: Record<string, unknown> }) =>
  ((r.json.fields ?? []) as { field: string }[]).map((f) => f.field);

/** A market buy of `quantity` BTC through the API, placed through the account risk engine. */
const buy = (quantity: number, side: 'buy' | 'sell' = 'buy') =>
  api('POST', '/api/orders', { symbol: 'BTC/USDT', side, type: 'market', quantity, confirm: true });

describe('risk preferences on the live runtime', () => {
  it('tightening applies at once: an order the old limit allowed is refused with the new limit', async () => {
    const before = await api('GET', '/api/risk/preferences');
    expect(before.status).toBe(200);
    expect(before.json.effective).toMatchObject({ maxOrderNotional: 5000, 'breakers.dailyLoss': 0.05 });
    expect(before.json.saved).toEqual({});
    const dep = runtime!.deployments[0];
    await waitFor('a price', () => dep.engine.portfolio.last[0] > 0);
    const qty = Math.ceil((1000 / dep.engine.portfolio.last[0]) * 1000) / 1000; // about 1 000 of notional
    expect(
      (await api('POST', '/api/orders/preview', { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: qty }))
        .json,
    ).toMatchObject({ accepted: true });

    const r = await api('PATCH', '/api/risk/preferences', { maxOrderNotional: 500 });
    expect(r.status).toBe(200);
    expect(r.json.effective).toMatchObject({ maxOrderNotional: 500 });
    expect(r.json.loosened).toEqual([]);
    expect(dep.risk.stats().rejected).toBe(0);
    const refused = await api('POST', '/api/orders/preview', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: qty,
    });
    expect(refused.json).toMatchObject({ accepted: false, code: 'MAX_NOTIONAL' });
    expect(String(refused.json.detail)).toContain('500');
    const risk = await api('GET', '/api/risk');
    expect((risk.json.limits as Record<string, number>).maxOrderNotional).toBe(500);
    const audit = await api('GET', '/api/audit?action=risk.preferences.changed');
    expect(JSON.stringify(audit.json)).toContain('api:cli');
  });

  it('loosening needs confirmLoosening (400 naming it, nothing changed), then applies', async () => {
    const r = await api('PATCH', '/api/risk/preferences', { maxOrderNotional: 2000, 'breakers.dailyLoss': 0.03 });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['body.confirmLoosening']);
    expect(String(r.json.message)).toContain('maxOrderNotional 500 -> 2000');
    expect(
      ((await api('GET', '/api/risk/preferences')).json.effective as Record<string, number>).maxOrderNotional,
    ).toBe(500);
    const ok = await api('PATCH', '/api/risk/preferences', {
      maxOrderNotional: 2000,
      'breakers.dailyLoss': 0.03,
      confirmLoosening: true,
    });
    expect(ok.status).toBe(200);
    expect(ok.json.loosened).toEqual([{ key: 'maxOrderNotional', from: 500, to: 2000 }]);
    expect(runtime!.deployments[0].risk.config.maxOrderNotional).toBe(2000);
  });

  it('bad values get field-level 400s; anonymous 401; a viewer 403', async () => {
    const bad = await api('PATCH', '/api/risk/preferences', { maxOrderNotional: -1, 'breakers.dailyLoss': 3, x: 1 });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toEqual(expect.arrayContaining(['body.maxOrderNotional', 'body.breakers.dailyLoss', 'body']));
    expect((await api('GET', '/api/risk/preferences', undefined, {})).status).toBe(401);
    expect((await api('PATCH', '/api/risk/preferences', { maxOrderNotional: 1 }, {})).status).toBe(401);
    expect((await api('GET', '/api/risk/preferences', undefined, viewer.headers)).status).toBe(200);
    const forbidden = await api('PATCH', '/api/risk/preferences', { maxOrderNotional: 1 }, viewer.headers);
    expect(forbidden.status).toBe(403);
    expect(
      ((await api('GET', '/api/risk/preferences')).json.effective as Record<string, number>).maxOrderNotional,
    ).toBe(2000);
  });
});

describe('alert channels on the live runtime', () => {
  it('sets a Telegram channel with its token in the vault (never echoed), test-sends, and routes later alerts to it', async () => {
    const put = await api('PUT', '/api/alerts/channels/telegram', {
      settings: { tokenSecret: 'tg.settings', chatIds: [4242], apiRoot: telegram.url, minSeverity: 'warning' },
      secretValue: TOKEN,
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      channel: 'telegram',
      secret: 'tg.settings',
      secretSet: true,
      source: 'saved',
      active: true,
    });
    expect(put.text).not.toContain(TOKEN);
    const list = await api('GET', '/api/alerts/channels');
    expect(list.text).not.toContain(TOKEN);
    expect(list.json.editable).toBe(true);

    const test = await api('POST', '/api/alerts/channels/telegram/test');
    expect(test.json).toEqual({ ok: true, message: 'test alert sent on telegram' });
    expect(telegram.sent().some((c) => c.token === TOKEN && String(c.params.text).includes('Test alert'))).toBe(true);

    runtime!.bus.publish({
      name: 'alert.raised.v1',
      time: Date.now(),
      correlationId: 'settings-test',
      source: 'test',
      payload: { severity: 'critical', title: 'After the edit', message: 'routed to the new channel', key: 'k1' },
    });
    await waitFor('the alert on the new channel', () =>
      telegram
        .sent()
        .some((c) => String(c.params.text).includes('After the edit') && Number(c.params.chat_id) === 4242),
    );
    const audit = await api('GET', '/api/audit?action=alerts.channel.set');
    expect(audit.text).toContain('tg.settings');
    expect(audit.text).not.toContain(TOKEN);
  });

  it('field-level 400s from the config schema, 401, 403 for a viewer, and removal', async () => {
    const bad = await api('PUT', '/api/alerts/channels/email', {
      settings: { host: 'h', to: [], minSeverity: 'loud' },
    });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toEqual(
      expect.arrayContaining(['body.settings.to', 'body.settings.from', 'body.settings.minSeverity']),
    );
    expect((await api('PUT', '/api/alerts/channels/pager', { settings: {} })).status).toBe(400);
    expect((await api('PUT', '/api/alerts/channels/discord', { settings: {} }, {})).status).toBe(401);
    for (const [m, p] of [
      ['GET', '/api/alerts/channels'],
      ['PUT', '/api/alerts/channels/discord'],
      ['DELETE', '/api/alerts/channels/telegram'],
      ['POST', '/api/alerts/channels/telegram/test'],
    ] as const) {
      const r = await api(m, p, m === 'PUT' ? { settings: {} } : undefined, viewer.headers);
      expect(r.status, `${m} ${p}`).toBe(403);
    }
    const test = await api('POST', '/api/alerts/channels/discord/test');
    expect(test.json).toEqual({ ok: false, message: 'no discord channel is configured' });
    expect((await api('DELETE', '/api/alerts/channels/telegram')).status).toBe(200);
    expect((await api('DELETE', '/api/alerts/channels/telegram')).status).toBe(404);
    expect((await api('GET', '/api/alerts/channels')).json.channels).toEqual([]);
  });
});

describe('portfolio figures from real trades', () => {
  it('P&L by period and the portfolio from trades placed through the runtime', async () => {
    const dep = runtime!.deployments[0];
    const qty = 0.01;
    expect((await buy(qty)).json).toMatchObject({ accepted: true });
    await waitFor('the buy to fill', () => dep.engine.portfolio.qty[0] > 0);
    const mid = await api('GET', '/api/portfolio');
    expect(mid.status).toBe(200);
    const bySymbol = (mid.json.allocation as { bySymbol: { key: string; gross: number }[] }).bySymbol;
    expect(bySymbol[0].key).toBe('BTC/USDT');
    expect(bySymbol[0].gross).toBeCloseTo(dep.engine.portfolio.qty[0] * dep.engine.portfolio.last[0], 0);
    expect((mid.json.allocation as { byVenue: { key: string }[] }).byVenue[0].key).toBe('sim');
    expect((await buy(dep.engine.portfolio.qty[0], 'sell')).json).toMatchObject({ accepted: true });
    await waitFor('the sell to fill', () => dep.engine.portfolio.qty[0] === 0);
    const store = runtime!.store;
    // The trade is written by the runtime's batched persister: read until it is there (a hang guard, not a budget).
    let trades = await store.trades.list();
    for (let i = 0; trades.length === 0; i++) {
      if (i > 1200) throw new Error('the closed trade never reached the store');
      await new Promise((r) => setTimeout(r, 50));
      trades = await store.trades.list();
    }
    const pnl = await api('GET', '/api/pnl?period=week&tz=Europe/Berlin');
    expect(pnl.status).toBe(200);
    const rows = pnl.json.rows as { pnl: number; trades: number }[];
    expect(rows.reduce((s, r) => s + r.trades, 0)).toBe(trades.length);
    expect(rows.reduce((s, r) => s + r.pnl, 0)).toBeCloseTo(
      trades.reduce((s, t) => s + t.pnl, 0),
      9,
    );
    expect(fieldsOf(await api('GET', '/api/pnl?tz=Mars/Olympus'))).toEqual(['query.tz']);
    expect((await api('GET', '/api/portfolio', undefined, {})).status).toBe(401);
    // The curve's points come from the engine's equity at each bar close: with the user-data stream both fills can
    // land inside the first bar, so wait for a bar to close rather than assume one did.
    let after = await api('GET', '/api/portfolio', undefined, viewer.headers);
    await waitFor('an equity point on the curve', async () => {
      after = await api('GET', '/api/portfolio', undefined, viewer.headers);
      return (after.json.curve as unknown[]).length > 0;
    });
    expect(after.status).toBe(200);
    expect(typeof after.json.maxDrawdownPct).toBe('number');
  });
});

describe('a restart keeps the saved preferences over the config file', () => {
  it('restores them into the new engine', async () => {
    await runtime?.stop('restart');
    runtime = undefined;
    await start();
    const r = await api('GET', '/api/risk/preferences');
    expect(r.json.file).toMatchObject({ maxOrderNotional: 5000 });
    expect(r.json.saved).toEqual({ maxOrderNotional: 2000, 'breakers.dailyLoss': 0.03 });
    expect(r.json.effective).toMatchObject({ maxOrderNotional: 2000, 'breakers.dailyLoss': 0.03 });
    expect(runtime!.deployments[0].risk.config.maxOrderNotional).toBe(2000);
  });
});
