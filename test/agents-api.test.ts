import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smokeData, storeVersionSink } from '../src/app/agent-services.js';
import { OpenAiProvider } from '../src/authoring/agents/openai-provider.js';
import { DEFAULT_RETRY } from '../src/authoring/agents/retry.js';
import { FakeLlmServer } from './agents-llm-server.js';
import { type ApiFixture, call, login, type Session, startApiFixture } from './server-api-fixture.js';
import { loopingStrategy } from './fixtures/strategy-files.js';

// Strategy generation and checking over the real API (fastify, SQLite store, sessions) with the local LLM server:
// a generation answers 202 with its run id at once and its run holds the outcome and the stored version when done.
const GOOD_RULES = ['buy when sma(10) crosses above sma(30)', 'sell when sma(10) crosses below sma(30)'].join('\n');
const LOOPING_TS = loopingStrategy('spin');

let llm: FakeLlmServer;
let fx: ApiFixture;
let admin: Session;
let viewer: Session;

beforeAll(async () => {
  llm = new FakeLlmServer();
  const url = await llm.start();
  fx = await startApiFixture(({ store }) => ({
    loginsPerMinute: 1000,
    agents: async () => ({
      providers: [
        new OpenAiProvider({
          name: 'local',
          model: 'm',
          baseUrl: `${url}/v1`,
          retry: { ...DEFAULT_RETRY, maxRetries: 0, baseDelayMs: 1 },
        }),
      ],
      smokeData: smokeData(),
      timeoutMs: 60_000,
      runs: store.agentRuns,
      versions: storeVersionSink(store),
    }),
  }));
  admin = await login(fx, 'admin');
  viewer = await login(fx, 'viewer');
});

afterAll(async () => {
  await fx?.close();
  await llm?.close();
});

async function finished(id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const r = await call(fx, 'GET', `/api/agents/runs/${id}`, { headers: viewer.headers });
    if (r.status === 200 && r.json.status !== 'running') return r.json;
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('strategy generation over the API', () => {
  it('answers 202 with the run id; the run ends with the stored version', async () => {
    llm.script({ answer: `Here.\n\`\`\`rules\n${GOOD_RULES}\n\`\`\`\n` });
    const r = await call(fx, 'POST', '/api/agents/generate', {
      headers: admin.headers,
      body: { prompt: 'trend following on two averages', name: 'api-trend' },
    });
    expect(r.status).toBe(202);
    const runId = String(r.json.runId);
    const run = await finished(runId);
    expect(run.status).toBe('done');
    expect(run.agent).toBe('generate');
    const output = run.output as { outcome: string; version: { strategyId: string; version: number } };
    expect(output.outcome).toBe('generated');
    expect(output.version).toMatchObject({ strategyId: 'api-trend', version: 1 });
    expect((await fx.store.strategies.get('api-trend'))?.kind).toBe('rules');
    const list = await call(fx, 'GET', '/api/agents/runs', { headers: viewer.headers });
    expect((list.json.runs as { id: string }[]).map((x) => x.id)).toContain(runId);
  });

  it('refuses a viewer, a request with two inputs, and an unknown run', async () => {
    const asViewer = await call(fx, 'POST', '/api/agents/generate', {
      headers: viewer.headers,
      body: { prompt: 'x' },
    });
    expect(asViewer.status).toBe(403);
    const two = await call(fx, 'POST', '/api/agents/generate', {
      headers: admin.headers,
      body: { prompt: 'x', rules: 'buy when close > open' },
    });
    expect(two.status).toBe(400);
    expect(two.json.message).toMatch(/exactly one of prompt, rules or pine/);
    expect((await call(fx, 'GET', '/api/agents/runs/nope', { headers: viewer.headers })).status).toBe(404);
    expect((await call(fx, 'POST', '/api/agents/generate', { body: { prompt: 'x' } })).status).toBe(401);
  });

  it('checks sources: valid rules pass with smoke figures, a typo names its place, a loop is stopped', async () => {
    const check = (source: string, kind: string) =>
      call(fx, 'POST', '/api/strategies/check', { headers: admin.headers, body: { source, kind } });
    const good = await check(GOOD_RULES, 'rules');
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({ ok: true });
    expect((good.json.smoke as { bars: number }).bars).toBeGreaterThan(100);
    const typo = await check('buy when sma(10) crossez above close', 'rules');
    expect(typo.json).toMatchObject({ ok: false, stage: 'compile' });
    expect((typo.json.problems as string[])[0]).toMatch(/^strategy.rules:1:18: unexpected "crossez"/);
    const loop = await check(LOOPING_TS, 'ts');
    expect(loop.json).toMatchObject({ ok: false, stage: 'backtest' });
    expect((loop.json.problems as string[])[0]).toMatch(/ran past its CPU budget of \d+ ms in onBar/);
    expect(
      (
        await call(fx, 'POST', '/api/strategies/check', {
          headers: viewer.headers,
          body: { source: GOOD_RULES, kind: 'rules' },
        })
      ).status,
    ).toBe(403);
  });
});

describe('storing a version from the API', () => {
  it('stores a draft version, refuses a typo naming its line, and refuses viewers and anonymous callers', async () => {
    const save = (s: Session | undefined, body: unknown) =>
      call(fx, 'POST', '/api/strategies/versions', { ...(s ? { headers: s.headers } : {}), body });
    const ok = await save(admin, { source: GOOD_RULES, kind: 'rules', id: 'api-saved' });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ ref: 'api-saved@v1', kind: 'rules', added: true });
    expect((await fx.store.strategies.version('api-saved', 1))?.state).toBe('draft');
    const again = await save(admin, { source: GOOD_RULES, kind: 'rules', id: 'api-saved' });
    expect(again.json).toMatchObject({ ref: 'api-saved@v1', added: false });
    const typo = await save(admin, { source: 'buy when sma(10) crossez above close', kind: 'rules', id: 'api-bad' });
    expect(typo.status).toBe(400);
    expect(typo.json.message).toMatch(/workspace\.rules:1:18: unexpected "crossez"/);
    expect(await fx.store.strategies.get('api-bad')).toBeUndefined();
    expect((await save(viewer, { source: GOOD_RULES, kind: 'rules' })).status).toBe(403);
    expect((await save(undefined, { source: GOOD_RULES, kind: 'rules' })).status).toBe(401);
  });
});

describe('generation without a provider', () => {
  it('answers 404 agents_not_configured', async () => {
    const bare = await startApiFixture({ loginsPerMinute: 1000 });
    try {
      const a = await login(bare, 'admin');
      const r = await call(bare, 'POST', '/api/agents/generate', { headers: a.headers, body: { prompt: 'x' } });
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ error: 'agents_not_configured' });
    } finally {
      await bare.close();
    }
  });
});
