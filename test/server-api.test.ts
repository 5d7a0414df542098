import { statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../src/core/order.js';
import { readCliToken, writeCliToken } from '../src/server/api/cli-token.js';
import { totp, base32Decode } from '../src/security/index.js';
import { type ApiFixture, call, login, PASSWORD, type Session, startApiFixture } from './server-api-fixture.js';

let fx: ApiFixture;
let admin: Session;
let viewer: Session;

beforeAll(async () => {
  fx = await startApiFixture({ loginsPerMinute: 1000 });
  admin = await login(fx, 'admin');
  viewer = await login(fx, 'viewer');
  const order: Order = {
    id: 'o-story',
    clientOrderId: 'tf-o-story',
    strategyId: 'demo',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'market',
    quantity: 1,
    timeInForce: 'GTC',
    reduceOnly: false,
    status: 'filled',
    filledQuantity: 1,
    averageFillPrice: 100,
    fees: 0.1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    source: 'strategy',
    correlationId: 'corr-1',
  };
  await fx.store.orders.upsert(order, 'demo');
  await fx.store.trades.insert({
    strategyId: 'demo',
    symbol: 'BTC/USDT',
    side: 'long',
    entryTime: Date.UTC(2026, 0, 5, 10),
    entryPrice: 100,
    exitTime: Date.UTC(2026, 0, 6, 10),
    exitPrice: 110,
    quantity: 1,
    fees: 0.2,
    pnl: 9.8,
    pnlPct: 0.098,
    exitReason: 'signal',
    entryTag: '=cmd',
  });
  await fx.store.trades.insert({
    strategyId: 'demo',
    symbol: 'ETH/USDT',
    side: 'short',
    entryTime: Date.UTC(2026, 0, 12, 10),
    entryPrice: 50,
    exitTime: Date.UTC(2026, 0, 13, 10),
    exitPrice: 55,
    quantity: 2,
    fees: 0.1,
    pnl: -10.1,
    pnlPct: -0.1,
    exitReason: 'stop_loss',
  });
});
afterAll(async () => {
  await fx?.close();
});

interface Row {
  method: string;
  path: string;
  body?: unknown;
  /** A bad request and the field its 400 must name. */
  bad?: { path?: string; body?: unknown; field: string };
  /** True when a viewer must get 403. */
  adminOnly?: boolean;
  check(json: Record<string, unknown>, text: string): void;
}

const confirm = { confirm: true };
const rows: Row[] = [
  { method: 'GET', path: '/api/status', check: (j) => expect(j.source).toBe('runtime') },
  {
    method: 'GET',
    path: '/api/positions',
    check: (j) => expect(j.positions).toEqual([expect.objectContaining({ id: 'demo:BTC/USDT', quantity: 0.5 })]),
  },
  {
    method: 'GET',
    path: '/api/orders?status=open',
    bad: { path: '/api/orders?status=weird', field: 'query.status' },
    check: (j) => expect(j.orders).toEqual([expect.objectContaining({ id: 'o-1', stopPrice: 80 })]),
  },
  {
    method: 'GET',
    path: '/api/orders?status=all&limit=10',
    bad: { path: '/api/orders?status=all&limit=0', field: 'query.limit' },
    check: (j) => expect(j.orders).toEqual([expect.objectContaining({ id: 'o-story', status: 'filled' })]),
  },
  {
    method: 'POST',
    path: '/api/orders/preview',
    body: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 20 },
    bad: { body: { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: 1 }, field: 'body.price' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ accepted: false, code: 'MAX_NOTIONAL' }),
  },
  {
    method: 'POST',
    path: '/api/orders',
    body: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1, confirm: true },
    bad: { body: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1 }, field: 'body.confirm' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ accepted: true, orderId: 'o-new' }),
  },
  {
    method: 'DELETE',
    path: '/api/orders/o-1',
    bad: { path: '/api/orders/o%201', field: 'path.id' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true, message: 'order o-1 cancelled' }),
  },
  {
    method: 'GET',
    path: '/api/balances',
    check: (j) => expect(j).toMatchObject({ equity: 10_050, assets: [expect.objectContaining({ asset: 'USDT' })] }),
  },
  {
    method: 'GET',
    path: '/api/trades?symbol=BTC/USDT',
    bad: { path: '/api/trades?from=yesterday', field: 'query.from' },
    check: (j) =>
      expect(j.trades).toEqual([
        expect.objectContaining({
          symbol: 'BTC/USDT',
          pnl: 9.8,
          // The store's text as exact decimals beside the numbers (docs/money.md).
          exact: { entryPrice: '100', exitPrice: '110', quantity: '1', fees: '0.2', pnl: '9.8' },
        }),
      ]),
  },
  {
    method: 'GET',
    path: '/api/trades.csv',
    bad: { path: '/api/trades.csv?colour=red', field: 'query' },
    check: (_j, text) => {
      const lines = text.trim().split('\n');
      expect(lines[0]).toBe(
        'strategyId,symbol,side,entryTime,entryPrice,exitTime,exitPrice,quantity,fees,pnl,pnlPct,exitReason,entryTag',
      );
      expect(lines).toHaveLength(3);
      // A tag starting with = must not run as a spreadsheet formula.
      expect(lines[1]).toContain(",'=cmd");
      expect(lines[1]).toContain('2026-01-06T10:00:00.000Z');
      // The exact text of a negative P&L is written as a number, not guarded as a formula.
      expect(lines[2]).toContain(',2,0.1,-10.1,-0.1,stop_loss');
    },
  },
  {
    method: 'GET',
    path: '/api/pnl?period=week',
    bad: { path: '/api/pnl?period=year', field: 'query.period' },
    check: (j) =>
      expect(j.rows).toEqual([
        // Stored trades read back with their text, so each period is also summed in decimals.
        { start: '2026-01-05', pnl: 9.8, trades: 1, fees: 0.2, exact: { pnl: '9.8', fees: '0.2' } },
        { start: '2026-01-12', pnl: -10.1, trades: 1, fees: 0.1, exact: { pnl: '-10.1', fees: '0.1' } },
      ]),
  },
  {
    method: 'GET',
    path: '/api/pnl?period=day&tz=Pacific/Kiritimati',
    bad: { path: '/api/pnl?period=day&tz=Nowhere/Else', field: 'query.tz' },
    // UTC+14: the 10:00 UTC exits fall on the next calendar day there.
    check: (j) => expect((j.rows as { start: string }[]).map((r) => r.start)).toEqual(['2026-01-07', '2026-01-14']),
  },
  {
    method: 'GET',
    path: '/api/portfolio',
    check: (j) => {
      // Equity 10 000 -> 10 050: no drawdown; one long BTC/USDT position of 0.5 at mark 100.
      expect(j.maxDrawdownPct).toBe(0);
      expect((j.curve as { drawdownPct: number }[]).map((p) => p.drawdownPct)).toEqual([0, 0]);
      const bySymbol = (j.allocation as { bySymbol: { key: string; long: number; grossShare: number }[] }).bySymbol;
      expect(bySymbol[0]).toMatchObject({ key: 'BTC/USDT', long: 50 });
      expect(bySymbol[0].grossShare).toBeCloseTo(50 / 10_050, 12);
    },
  },
  { method: 'GET', path: '/api/equity', check: (j) => expect(j.points).toHaveLength(2) },
  {
    method: 'GET',
    path: '/api/risk',
    check: (j) => expect(j).toMatchObject({ limits: { maxOrderNotional: 1000 }, killSwitchActive: false }),
  },
  {
    method: 'POST',
    path: '/api/control/stop-entries',
    body: confirm,
    bad: { body: {}, field: 'body.confirm' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true, message: 'entries stopped' }),
  },
  {
    method: 'POST',
    path: '/api/control/start-entries',
    body: confirm,
    bad: { body: { confirm: 'yes' }, field: 'body.confirm' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true }),
  },
  {
    method: 'POST',
    path: '/api/risk/reset',
    body: { breaker: 'dailyLoss', confirm: true },
    bad: { body: { confirm: true }, field: 'body.breaker' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true, message: 'dailyLoss reset' }),
  },
  {
    method: 'POST',
    path: '/api/control/force-exit',
    body: { target: 'demo:BTC/USDT', confirm: true },
    bad: { body: { target: '', confirm: true }, field: 'body.target' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true, detail: { closing: 1 } }),
  },
  {
    method: 'POST',
    path: '/api/control/kill',
    body: confirm,
    bad: { body: { confirm: false }, field: 'body.confirm' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true, detail: { cancelled: 0 } }),
  },
  {
    method: 'POST',
    path: '/api/control/recover',
    body: confirm,
    bad: { body: { confirm: true, extra: 1 }, field: 'body' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true, message: 'kill switch released' }),
  },
  {
    method: 'GET',
    path: '/api/audit?action=control.kill&limit=5',
    bad: { path: '/api/audit?limit=0', field: 'query.limit' },
    check: (j) => expect(Array.isArray(j.records)).toBe(true),
  },
  {
    method: 'GET',
    path: '/api/audit/verify',
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true, hmacChecked: true }),
  },
  {
    method: 'GET',
    path: '/api/orders/o-story/story',
    bad: { path: '/api/orders/%3Cscript%3E/story', field: 'path.id' },
    check: (j) => expect(j).toMatchObject({ orderId: 'o-story', correlationId: 'corr-1', order: { status: 'filled' } }),
  },
  {
    method: 'PUT',
    path: '/api/secrets/binance.apiKey',
    body: { value: 'k-123456' },
    bad: { path: '/api/secrets/bad%20name!', body: { value: 'x' }, field: 'path.name' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true }),
  },
  {
    method: 'GET',
    path: '/api/secrets',
    adminOnly: true,
    check: (j, text) => {
      expect(j.vault).toBe('unlocked');
      expect(j.secrets).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'binance.apiKey' })]));
      expect(text).not.toContain('k-123456');
    },
  },
  {
    method: 'DELETE',
    path: '/api/secrets/binance.apiKey',
    bad: { path: '/api/secrets/.hidden', field: 'path.name' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ ok: true }),
  },
  {
    method: 'GET',
    path: '/api/users',
    adminOnly: true,
    check: (j) =>
      expect((j.users as { username: string }[]).map((u) => u.username).sort()).toEqual(['admin', 'viewer']),
  },
  {
    method: 'POST',
    path: '/api/users',
    body: { username: 'analyst', password: PASSWORD, role: 'viewer' },
    bad: { body: { username: 'analyst2', password: PASSWORD, role: 'root' }, field: 'body.role' },
    adminOnly: true,
    check: (j) => expect(j).toMatchObject({ username: 'analyst', role: 'viewer', isOwner: false }),
  },
  {
    method: 'GET',
    path: '/api/version',
    check: (j) => expect(j).toEqual({ version: '0.1.0', gitSha: 'abc1234', configHash: 'cfg-hash' }),
  },
  {
    method: 'GET',
    path: '/api/auth/me',
    check: (j) => expect(j).toMatchObject({ user: { username: 'admin', role: 'admin', via: 'cookie' } }),
  },
];

describe('API endpoints: happy path, 400 with the field, 401, 403 for viewers', () => {
  for (const row of rows) {
    const name = `${row.method} ${row.path.split('?')[0]}`;
    it(`${name}: 401 without a session`, async () => {
      const r = await call(fx, row.method, row.path, { body: row.body });
      expect(r.status).toBe(401);
      expect(r.json.error).toBe('unauthenticated');
    });
    if (row.adminOnly) {
      it(`${name}: 403 for a viewer, and nothing happens`, async () => {
        const before = fx.runtime.calls.length;
        const r = await call(fx, row.method, row.path, { body: row.body, headers: viewer.headers });
        expect(r.status).toBe(403);
        expect(r.json).toMatchObject({ error: 'forbidden' });
        expect(fx.runtime.calls.length).toBe(before);
      });
    }
    if (row.bad) {
      const bad = row.bad;
      it(`${name}: 400 naming ${bad.field}`, async () => {
        const r = await call(fx, row.method, bad.path ?? row.path, {
          body: bad.body ?? row.body,
          headers: admin.headers,
        });
        expect(r.status).toBe(400);
        expect(r.json.error).toBe('validation');
        const fields = (r.json.fields as { field: string; message: string }[]).map((f) => f.field);
        expect(fields).toContain(bad.field);
        expect(String(r.json.message)).toContain(bad.field);
      });
    }
    it(`${name}: happy path`, async () => {
      const r = await call(fx, row.method, row.path, { body: row.body, headers: admin.headers });
      expect(r.status, r.text).toBe(200);
      row.check(r.json, r.text);
    });
  }

  it('finds an order story by client id, venue id or prefix; several matches answer 409 with the list', async () => {
    const base = (await fx.store.orders.get('o-story')) as Order;
    for (const [id, vid] of [
      ['o-pfx-1', 'v-7001'],
      ['o-pfx-2', 'v-7002'],
    ] as const) {
      await fx.store.orders.upsert({ ...base, id, clientOrderId: `tf-${id}`, venueOrderId: vid }, 'demo');
    }
    const byVenue = await call(fx, 'GET', '/api/orders/v-7002/story', { headers: viewer.headers });
    expect(byVenue.status, byVenue.text).toBe(200);
    expect(byVenue.json).toMatchObject({ order: { id: 'o-pfx-2', venueOrderId: 'v-7002' } });
    const many = await call(fx, 'GET', '/api/orders/tf-o-pfx/story', { headers: viewer.headers });
    expect(many.status, many.text).toBe(409);
    expect(many.json.error).toBe('ambiguous');
    expect((many.json.matches as { clientOrderId: string }[]).map((m) => m.clientOrderId).sort()).toEqual([
      'tf-o-pfx-1',
      'tf-o-pfx-2',
    ]);
    const one = await call(fx, 'GET', '/api/orders/tf-o-pfx-1/story', { headers: viewer.headers });
    expect(one.status).toBe(200);
  });

  it('control actions are audited under the API user', async () => {
    const r = await call(fx, 'GET', '/api/audit?limit=50', { headers: viewer.headers });
    expect(r.status).toBe(200);
    const actions = (r.json.records as { action: string; actor: string }[]).map((x) => `${x.action}:${x.actor}`);
    expect(actions).toContain('user.create:api:admin');
    expect(fx.runtime.calls).toContain('kill:api:admin');
  });
});

describe('sessions', () => {
  it('sets HttpOnly SameSite=Strict cookies and no token in the body unless asked', async () => {
    const r = await call(fx, 'POST', '/api/auth/login', { body: { username: 'viewer', password: PASSWORD } });
    expect(r.status).toBe(200);
    const cookies = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
    expect(cookies).toHaveLength(2);
    for (const c of cookies) {
      expect(c).toMatch(/HttpOnly/);
      expect(c).toMatch(/SameSite=Strict/);
    }
    expect(r.json.tokens).toBeUndefined();
    expect(r.json.user).toMatchObject({ username: 'viewer', role: 'viewer' });
  });

  it('answers 401 for a wrong password and 423 once locked out, naming the time', async () => {
    await fx.auth.createUser('locky', PASSWORD, 'viewer', 'test');
    for (let i = 0; i < 3; i++) {
      const r = await call(fx, 'POST', '/api/auth/login', { body: { username: 'locky', password: 'wrong-password' } });
      expect(r.status).toBe(401);
    }
    const r = await call(fx, 'POST', '/api/auth/login', { body: { username: 'locky', password: PASSWORD } });
    expect(r.status).toBe(423);
    expect(String(r.json.message)).toMatch(/too many failed logins; try again after \d{4}-/);
  });

  it('asks for the TOTP code when enabled and accepts the right one', async () => {
    await fx.auth.createUser('totpuser', PASSWORD, 'viewer', 'test');
    const user = await fx.store.users.byUsername('totpuser');
    if (!user) throw new Error('no user');
    const { secret } = await fx.auth.beginTotp(user.id);
    await fx.auth.confirmTotp(user.id, totp(base32Decode(secret), Date.now()));
    let r = await call(fx, 'POST', '/api/auth/login', { body: { username: 'totpuser', password: PASSWORD } });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('totp_required');
    r = await call(fx, 'POST', '/api/auth/login', {
      body: { username: 'totpuser', password: PASSWORD, totp: 'abc' },
    });
    expect(r.status).toBe(400);
    expect(r.json.fields).toEqual([expect.objectContaining({ field: 'body.totp' })]);
    // Enrolment used this time step's code and each step works once: the next step's code (inside the
    // accepted clock-skew window) logs in.
    r = await call(fx, 'POST', '/api/auth/login', {
      body: { username: 'totpuser', password: PASSWORD, totp: totp(base32Decode(secret), Date.now() + 30_000) },
    });
    expect(r.status).toBe(200);
  });

  it('bearer tokens work without CSRF; refresh rotates and reuse revokes; logout ends the session', async () => {
    const r = await call(fx, 'POST', '/api/auth/login', {
      body: { username: 'admin', password: PASSWORD, issueTokens: true },
    });
    const tokens = r.json.tokens as { accessToken: string; refreshToken: string };
    const bearer = { authorization: `Bearer ${tokens.accessToken}` };
    expect((await call(fx, 'POST', '/api/control/start-entries', { body: confirm, headers: bearer })).status).toBe(200);
    const refreshed = await call(fx, 'POST', '/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect((await call(fx, 'GET', '/api/status', { headers: bearer })).status).toBe(401);
    const reuse = await call(fx, 'POST', '/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
    expect(reuse.status).toBe(401);
    const next = refreshed.json.tokens as { accessToken: string };
    expect(
      (await call(fx, 'GET', '/api/status', { headers: { authorization: `Bearer ${next.accessToken}` } })).status,
    ).toBe(401);

    const s = await login(fx, 'viewer');
    expect((await call(fx, 'POST', '/api/auth/logout', { headers: s.headers })).status).toBe(200);
    expect((await call(fx, 'GET', '/api/status', { headers: s.headers })).status).toBe(401);
  });
});

describe('cross-site and foreign requests are refused', () => {
  it('a cross-site POST to the kill switch with the session cookie does nothing', async () => {
    const before = fx.runtime.calls.length;
    // A form or fetch from another site: the browser attaches Origin; a forged one cannot know the CSRF token.
    let r = await call(fx, 'POST', '/api/control/kill', {
      body: confirm,
      headers: { cookie: admin.cookie, origin: 'https://evil.example' },
    });
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('origin_not_allowed');
    r = await call(fx, 'POST', '/api/control/kill', {
      body: confirm,
      headers: { cookie: admin.cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(r.status).toBe(403);
    r = await call(fx, 'POST', '/api/control/kill', { body: confirm, headers: { cookie: admin.cookie } });
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('csrf');
    r = await call(fx, 'POST', '/api/control/kill', {
      body: confirm,
      headers: { cookie: admin.cookie, 'x-csrf-token': viewer.csrf },
    });
    expect(r.status).toBe(403);
    expect(fx.runtime.calls.length).toBe(before);
  });

  it('a foreign Host header is refused (DNS rebinding), even with a valid session', async () => {
    const r = await call(fx, 'GET', '/api/status', {
      headers: { ...admin.headers, host: `rebind.attacker.example:${fx.port}` },
    });
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('host_not_allowed');
    expect(String(r.json.message)).toContain('server.allowedHosts');
    expect(
      (await call(fx, 'GET', '/api/status', { headers: { ...admin.headers, host: `localhost:${fx.port}` } })).status,
    ).toBe(200);
  });

  it('a non-allow-listed origin is refused; an allow-listed one gets CORS headers', async () => {
    let r = await call(fx, 'GET', '/api/status', { headers: { ...admin.headers, origin: 'https://other.example' } });
    expect(r.status).toBe(403);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    r = await call(fx, 'GET', '/api/status', { headers: { ...admin.headers, origin: 'https://dash.example.com' } });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('https://dash.example.com');
    expect(r.headers['access-control-allow-credentials']).toBe('true');
    r = await call(fx, 'OPTIONS', '/api/control/kill', {
      headers: { origin: 'https://other.example', 'access-control-request-method': 'POST' },
    });
    expect(r.status).toBe(403);
  });

  it('sends security headers with the API responses', async () => {
    const r = await call(fx, 'GET', '/api/version', { headers: admin.headers });
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('the CLI token', () => {
  it('is written with mode 0600 and authenticates as an admin; a wrong one is 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-run-'));
    try {
      const token = writeCliToken(join(dir, 'run'));
      expect(statSync(join(dir, 'run', 'api-token')).mode & 0o777).toBe(0o600);
      expect(readCliToken(join(dir, 'run'))).toBe(token);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const ok = await call(fx, 'POST', '/api/control/start-entries', {
      body: confirm,
      headers: { authorization: `Bearer ${fx.cliToken}` },
    });
    expect(ok.status).toBe(200);
    expect(fx.runtime.calls.at(-1)).toBe('startEntries:api:cli');
    const bad = await call(fx, 'GET', '/api/status', { headers: { authorization: 'Bearer tfc_wrong' } });
    expect(bad.status).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('publishes every route with its zod schemas at /api/docs', async () => {
    const r = await call(fx, 'GET', '/api/docs');
    expect(r.status).toBe(200);
    const doc = r.json as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const row of rows) {
      const p = row.path
        .split('?')[0]
        .replace('o-story', '{id}')
        .replace('o-1', '{id}')
        .replace('binance.apiKey', '{name}');
      expect(doc.paths[p], p).toBeDefined();
      expect(doc.paths[p][row.method.toLowerCase()], `${row.method} ${p}`).toBeDefined();
    }
    const loginSchema = JSON.stringify(doc.paths['/api/auth/login'].post.requestBody);
    expect(loginSchema).toContain('"username"');
    expect(loginSchema).toContain('"totp"');
  });
});

describe('the assistant without a provider', () => {
  it('answers 404 assistant_not_configured and lists no models', async () => {
    const v = await login(fx, 'viewer');
    const board = await call(fx, 'GET', '/api/assistant/signals', { headers: v.headers });
    expect(board.status).toBe(404);
    expect(board.json).toMatchObject({ error: 'assistant_not_configured' });
    const a = await login(fx, 'admin');
    const chat = await call(fx, 'POST', '/api/assistant/chat', {
      headers: a.headers,
      body: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(chat.status).toBe(404);
    expect((await call(fx, 'GET', '/api/assistant/models', { headers: v.headers })).json).toEqual({ models: [] });
  });
});

describe('rate limits', () => {
  it('answers 429 past the per-user limit and limits logins per IP', async () => {
    const small = await startApiFixture({ requestsPerMinute: 3, loginsPerMinute: 2 });
    try {
      const s = await login(small, 'viewer');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await call(small, 'GET', '/api/version', { headers: s.headers })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const r = await call(small, 'GET', '/api/version', { headers: s.headers });
      expect(r.json.error).toBe('rate_limited');
      // One login above; the second is allowed (and fails), the third is over the per-IP limit.
      const logins: number[] = [];
      for (let i = 0; i < 2; i++) {
        logins.push(
          (await call(small, 'POST', '/api/auth/login', { body: { username: 'viewer', password: 'x' } })).status,
        );
      }
      expect(logins).toEqual([401, 429]);
    } finally {
      await small.close();
    }
  });
});
