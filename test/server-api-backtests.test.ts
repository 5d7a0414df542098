import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SAMPLE_DATA_FILE } from '../src/app/home.js';
import { runBacktest } from '../src/backtest/runner.js';
import { resolveConfig } from '../src/core/config.js';
import { loadBars } from '../src/data/load.js';
import { type ApiFixture, call, login, type Session, startApiFixture } from './server-api-fixture.js';

let fx: ApiFixture;
let admin: Session;
let viewer: Session;

beforeAll(async () => {
  const { alerts } = resolveConfig({
    alerts: {
      telegram: { chatIds: [11, 22], minSeverity: 'warning' },
      email: { host: 'smtp.example.com', from: 'tf@example.com', to: ['ops@example.com'] },
    },
  });
  fx = await startApiFixture({ loginsPerMinute: 1000, alerts });
  admin = await login(fx, 'admin');
  viewer = await login(fx, 'viewer');
});
afterAll(async () => {
  await fx?.close();
});

interface Job {
  job: string;
  status: string;
  phase: string;
  progress: number;
  backtestId?: string;
  error?: string;
  field?: string;
}

/** Subscribes to the backtest topic and resolves with every event of one job up to its end. */
async function watchJobs() {
  const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/api/ws`, { headers: { cookie: viewer.cookie } });
  const events: Job[] = [];
  const waiters: { job: string; resolve: (list: Job[]) => void }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as { type: string; topic?: string; data?: Job };
    if (m.type === 'subscribed') for (const w of waiters.filter((x) => x.job === '')) w.resolve([]);
    if (m.type !== 'event' || m.topic !== 'backtest' || !m.data) return;
    events.push(m.data);
    const j = m.data;
    if (j.status === 'done' || j.status === 'failed') {
      for (const w of waiters.filter((x) => x.job === j.job)) w.resolve(events.filter((e) => e.job === j.job));
    }
  });
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  const subscribed = new Promise<Job[]>((resolve) => waiters.push({ job: '', resolve }));
  ws.send(JSON.stringify({ op: 'subscribe', topics: ['backtest'] }));
  await subscribed;
  return {
    until: (job: string) => new Promise<Job[]>((resolve) => waiters.push({ job, resolve })),
    close: () => ws.close(),
  };
}

describe('backtests over the API', () => {
  it('runs a built-in strategy off the main thread, reports progress, and stores the same run as a direct one', async () => {
    const w = await watchJobs();
    const start = await call(fx, 'POST', '/api/backtests', {
      headers: admin.headers,
      body: { strategy: 'sma-cross', params: { fast: 10, slow: 30 } },
    });
    expect(start.status).toBe(202);
    const job = start.json as unknown as Job;
    expect(job.status).toBe('queued');
    const events = await w.until(job.job);
    w.close();
    const end = events[events.length - 1];
    expect(end.error).toBeUndefined();
    expect(end.status).toBe('done');
    const progress = events.filter((e) => e.phase === 'running').map((e) => e.progress);
    expect(progress.length).toBeGreaterThan(5);
    // The phase change comes first (at 0), then bars run over bars to run, rising, below 1 until stored.
    expect(progress[0]).toBe(0);
    expect(progress.slice(1).every((p, i) => p > progress[i] && p < 1)).toBe(true);
    expect(events.map((e) => e.phase)).toEqual(expect.arrayContaining(['loading', 'running', 'storing', 'done']));

    const id = String(end.backtestId);
    const run = await call(fx, 'GET', `/api/backtests/${id}?trades=5`, { headers: viewer.headers });
    expect(run.status).toBe(200);
    const loaded = loadBars(SAMPLE_DATA_FILE);
    const direct = runBacktest({
      data: { symbol: loaded.symbol, columns: loaded.columns, timeframe: loaded.timeframe ?? '1d' },
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
    });
    expect(run.json.fingerprint).toBe(direct.fingerprint);
    expect(run.json.tradeCount).toBe(direct.trades.length);
    expect((run.json.trades as unknown[]).length).toBe(Math.min(5, direct.trades.length));
    const equity = run.json.equity as { time: number[]; value: number[] };
    expect(equity.value[equity.value.length - 1]).toBeCloseTo(direct.finalEquity, 6);
    expect((run.json.metrics as { trades: number }).trades).toBe(direct.metrics.trades);

    const list = await call(fx, 'GET', '/api/backtests', { headers: viewer.headers });
    expect((list.json.runs as { id: string; data: string }[]).map((r) => r.id)).toContain(id);
    const report = await call(fx, 'GET', `/api/backtests/${id}/report`, { headers: viewer.headers });
    expect(report.status).toBe(200);
    expect(report.headers['content-disposition']).toContain(`${id}.json`);
    expect(JSON.parse(report.text).fingerprint).toBe(direct.fingerprint);
    const jobView = await call(fx, 'GET', `/api/backtests/jobs/${job.job}`, { headers: viewer.headers });
    expect(jobView.json).toMatchObject({ status: 'done', progress: 1, backtestId: id });
  });

  it('reports a run that fails in the worker with its one-line reason (a bad parameter)', async () => {
    const w = await watchJobs();
    const start = await call(fx, 'POST', '/api/backtests', {
      headers: admin.headers,
      body: { strategy: 'sma-cross', params: { fast: 50, slow: 10 } },
    });
    expect(start.status).toBe(202);
    const events = await w.until(String(start.json.job));
    w.close();
    const end = events[events.length - 1];
    expect(end.status).toBe('failed');
    expect(end.error).toMatch(/fast/);
    expect(end.error).not.toMatch(/\n\s+at /);
  });

  it('refuses bad requests with the field named (400)', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ strategy: 'no-such-strategy' }, 'body.strategy', /unknown strategy "no-such-strategy"/],
      [{ strategy: '../../etc/passwd' }, 'body.strategy', /built-in strategy name or a stored version/],
      [{ strategy: 'ghost@v3' }, 'body.strategy', /no stored strategy version ghost@v3/],
      [{ strategy: 'sma-cross', data: '/etc/passwd' }, 'body.data', /files are not read through the API/],
      [{ strategy: 'sma-cross', from: 5, to: 1 }, 'body.from', /after to/],
      [{ strategy: 'sma-cross', timeframe: '7m' }, 'body.timeframe', /./],
      [{ strategy: 'sma-cross', cash: -1 }, 'body.cash', /./],
      [{ strategy: 'sma-cross', surprise: 1 }, 'body', /surprise/],
    ];
    for (const [body, field, message] of cases) {
      const r = await call(fx, 'POST', '/api/backtests', { headers: admin.headers, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      const fields = r.json.fields as { field: string; message: string }[];
      expect(fields[0].field, JSON.stringify(body)).toBe(field);
      expect(String(r.json.message), JSON.stringify(body)).toMatch(message);
    }
    const unknown = await call(fx, 'GET', '/api/backtests/bt-0000000000', { headers: viewer.headers });
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toMatch(/^path\.id: no stored backtest with id "bt-0000000000"/);
    const badId = await call(fx, 'GET', '/api/backtests/a..b', { headers: viewer.headers });
    expect(badId.status).toBe(400);
    expect((badId.json.fields as { field: string }[])[0].field).toBe('path.id');
    expect((await call(fx, 'GET', '/api/backtests/jobs/job-x', { headers: viewer.headers })).status).toBe(404);
  });

  it('needs a session for every route (401) and the backtest.run permission to start one (403)', async () => {
    for (const [method, path] of [
      ['POST', '/api/backtests'],
      ['GET', '/api/backtests'],
      ['GET', '/api/backtests/jobs'],
      ['GET', '/api/backtests/jobs/job-1'],
      ['GET', '/api/backtests/bt-1'],
      ['GET', '/api/backtests/bt-1/report'],
      ['GET', '/api/strategies'],
      ['GET', '/api/strategies/x/versions'],
    ] as const) {
      const r = await call(fx, method, path, method === 'POST' ? { body: { strategy: 'sma-cross' } } : {});
      expect(r.status, `${method} ${path}`).toBe(401);
    }
    const r = await call(fx, 'POST', '/api/backtests', { headers: viewer.headers, body: { strategy: 'sma-cross' } });
    expect(r.status).toBe(403);
    expect(r.json.message).toBe('role viewer may not backtest.run');
  });
});

describe('strategy catalogue', () => {
  it('lists the built-ins with their parameters and the stored strategies with their versions', async () => {
    const now = Date.now();
    await fx.store.strategies.upsert({
      id: 'trend',
      name: 'trend',
      kind: 'rules',
      description: 'a test strategy',
      created_at: now,
      updated_at: now,
    });
    await fx.store.strategies.addVersion({
      id: 'trend-v1',
      strategy_id: 'trend',
      source: 'entry: close > sma(20)',
      params: { a: 1 },
      source_hash: 'h1',
      note: 'first',
      source_kind: 'rules',
      gate: { ok: true, findings: [] },
      created_at: now,
    });
    const r = await call(fx, 'GET', '/api/strategies', { headers: viewer.headers });
    expect(r.status).toBe(200);
    const builtins = r.json.builtins as { name: string; params: { name: string; default: unknown }[] }[];
    expect(builtins.find((b) => b.name === 'sma-cross')?.params.map((p) => p.name)).toEqual([
      'fast',
      'slow',
      'allowShort',
    ]);
    expect(r.json.stored).toEqual([
      expect.objectContaining({ id: 'trend', state: 'draft', versions: 1, latest: 'trend@v1' }),
    ]);
    const v = await call(fx, 'GET', '/api/strategies/trend/versions', { headers: viewer.headers });
    expect(v.json.versions).toEqual([
      expect.objectContaining({ ref: 'trend@v1', sourceHash: 'h1', note: 'first', gate: { ok: true, findings: [] } }),
    ]);
    expect(JSON.stringify(v.json)).not.toContain('close > sma');
  });

  it('answers 404 for an unknown strategy and 400 naming a malformed id', async () => {
    expect((await call(fx, 'GET', '/api/strategies/nobody/versions', { headers: viewer.headers })).status).toBe(404);
    const r = await call(fx, 'GET', '/api/strategies/9lives/versions', { headers: viewer.headers });
    expect(r.status).toBe(400);
    expect((r.json.fields as { field: string }[])[0].field).toBe('path.id');
  });
});

describe('deployments', () => {
  it('lists the recorded deployments, filtered by status; 400 naming a bad status; 401 without a session', async () => {
    const now = Date.now();
    const base = {
      strategyId: 'sma-cross',
      venue: 'sim',
      mode: 'paper' as const,
      symbols: ['BTC/USDT'],
      config: { stake: '10%' },
      configHash: 'cfg1',
      appVersion: '0.1.0',
      createdAt: now,
      updatedAt: now,
    };
    await fx.store.deployments.upsert({ ...base, id: 'dep-a', status: 'running' });
    await fx.store.deployments.upsert({ ...base, id: 'dep-b', status: 'stopped', stoppedAt: now });
    const all = await call(fx, 'GET', '/api/deployments', { headers: viewer.headers });
    expect(all.status).toBe(200);
    expect((all.json.deployments as { id: string }[]).map((d) => d.id).sort()).toEqual(['dep-a', 'dep-b']);
    const running = await call(fx, 'GET', '/api/deployments?status=running', { headers: viewer.headers });
    expect(running.json.deployments).toEqual([
      expect.objectContaining({ id: 'dep-a', symbols: ['BTC/USDT'], configHash: 'cfg1', stoppedAt: null }),
    ]);
    const bad = await call(fx, 'GET', '/api/deployments?status=paused', { headers: viewer.headers });
    expect(bad.status).toBe(400);
    expect((bad.json.fields as { field: string }[])[0].field).toBe('query.status');
    expect((await call(fx, 'GET', '/api/deployments')).status).toBe(401);
  });
});

describe('venues', () => {
  it("lists the deployments' venues and tests one: the venue's refusal in one line; 400, 401, 403, 404", async () => {
    const list = await call(fx, 'GET', '/api/venues', { headers: viewer.headers });
    expect(list.json.venues).toEqual([{ id: 'sim', type: 'simulator', real: false }]);
    const t = await call(fx, 'POST', '/api/venues/sim/test', { headers: admin.headers });
    expect(t.status).toBe(200);
    expect(t.json).toMatchObject({
      ok: false,
      message: 'sim: AuthenticationError: invalid API-key, IP, or permissions for action',
    });
    expect((await call(fx, 'POST', '/api/venues/nowhere/test', { headers: admin.headers })).status).toBe(404);
    const bad = await call(fx, 'POST', '/api/venues/a%20b/test', { headers: admin.headers });
    expect(bad.status).toBe(400);
    expect((bad.json.fields as { field: string }[])[0].field).toBe('path.id');
    expect((await call(fx, 'POST', '/api/venues/sim/test', { headers: viewer.headers })).status).toBe(403);
    expect((await call(fx, 'POST', '/api/venues/sim/test')).status).toBe(401);
    expect((await call(fx, 'GET', '/api/venues')).status).toBe(401);
  });
});

describe('alert channels', () => {
  it("shows the config's channels with recipients and whether their secret is set (admins only)", async () => {
    await fx.vault.set('telegram.token', '123:abc', 'test');
    const r = await call(fx, 'GET', '/api/alerts/channels', { headers: admin.headers });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      channels: [
        {
          channel: 'telegram',
          minSeverity: 'warning',
          target: '2 chat id(s)',
          secret: 'telegram.token',
          secretSet: true,
          settings: expect.objectContaining({ tokenSecret: 'telegram.token', minSeverity: 'warning' }),
          source: 'file',
          active: null,
        },
        {
          channel: 'email',
          minSeverity: 'critical',
          target: 'ops@example.com',
          secret: 'smtp.password',
          secretSet: false,
          settings: expect.objectContaining({ to: ['ops@example.com'], passwordSecret: 'smtp.password' }),
          source: 'file',
          active: null,
        },
      ],
      ratePerMinute: 20,
      dedupSeconds: 300,
      editable: false,
    });
    // Without a runtime to apply them, channels are the config file's: editing answers 501.
    const put = await call(fx, 'PUT', '/api/alerts/channels/discord', {
      headers: admin.headers,
      body: { settings: {} },
    });
    expect(put.status).toBe(501);
    expect(JSON.stringify(r.json)).not.toContain('123:abc');
    expect((await call(fx, 'GET', '/api/alerts/channels', { headers: viewer.headers })).status).toBe(403);
    expect((await call(fx, 'GET', '/api/alerts/channels')).status).toBe(401);
  });
});
