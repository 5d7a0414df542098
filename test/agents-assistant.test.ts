import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assistantService } from '../src/app/assistant-service.js';
import { resolveConfig } from '../src/core/config.js';
import { FakeLlmServer, type FakeStep, type SeenRequest } from './agents-llm-server.js';
import { type ApiFixture, call, login, type Session, startApiFixture } from './server-api-fixture.js';

// The trading assistant over the real API (fastify, SQLite store, vault, sessions) with both LLM protocols served by
// the local fake: context toggles decide what reaches the model, cards are parsed and kept, a confirmed card goes to
// the runtime port's placeOrder (the risk engine's door) and can be refused there, and the arena compares models.
let llm: FakeLlmServer;
let fx: ApiFixture;
let admin: Session;
let viewer: Session;

const cards = (...items: unknown[]) => `Here is my view.\n\`\`\`signals\n${JSON.stringify(items)}\n\`\`\`\n`;
const card = (over: Record<string, unknown> = {}) => ({
  action: 'buy',
  symbol: 'BTC/USDT',
  size: 0.5,
  price: null,
  confidence: 0.6,
  reasoning: 'above the 50-day average',
  ...over,
});

/** Answers by the model asked, so parallel arena requests get their own answer whatever their order. */
const byModel: Record<string, FakeStep> = {};

beforeAll(async () => {
  llm = new FakeLlmServer();
  const url = await llm.start();
  llm.fallback = (req: SeenRequest) => byModel[String(req.body.model)] ?? { status: 500, message: 'unscripted' };
  const config = resolveConfig({
    agents: {
      defaultProvider: 'gpt',
      timeoutSeconds: 120,
      providers: [
        { name: 'gpt', type: 'openai-compatible', model: 'gpt-x', baseUrl: `${url}/v1`, maxRetries: 0 },
        {
          name: 'claude',
          type: 'anthropic',
          model: 'claude-x',
          apiKeySecret: 'llm.anthropic',
          baseUrl: url,
          maxRetries: 0,
        },
      ],
    },
  });
  fx = await startApiFixture(async ({ store, vault, runtime }) => {
    await vault.set('llm.anthropic', 'sk-ant-test-key-0123456789');
    return { loginsPerMinute: 1000, assistant: assistantService({ config, store, vault, port: runtime }) };
  });
  admin = await login(fx, 'admin');
  viewer = await login(fx, 'viewer');
});

afterAll(async () => {
  await fx?.close();
  await llm?.close();
});

const ask = (s: Session, body: unknown) => call(fx, 'POST', '/api/assistant/chat', { headers: s.headers, body });
const question = [{ role: 'user', content: 'Should I add to my BTC position?' }];

describe('trading assistant over the API', () => {
  it('sends the sections that are on and leaves out the ones that are off', async () => {
    const models = await call(fx, 'GET', '/api/assistant/models', { headers: viewer.headers });
    expect(models.json.models).toEqual([
      { provider: 'gpt', type: 'openai-compatible', model: 'gpt-x' },
      { provider: 'claude', type: 'anthropic', model: 'claude-x' },
    ]);
    byModel['gpt-x'] = { answer: 'Hold: the trend is intact.' };
    const all = await ask(admin, { messages: question });
    expect(all.status).toBe(200);
    expect(all.json.contextSent).toEqual(['balance', 'positions', 'orders', 'prices']);
    expect(all.json.text).toBe('Hold: the trend is intact.');
    const sentAll = llm.requests.at(-1) as SeenRequest;
    expect(sentAll.text).toContain('equity 10050 USDT');
    expect(sentAll.text).toContain('BTC/USDT long 0.5 @ 90, mark 100');
    expect(sentAll.text).toContain('Recent orders: none.');
    expect(sentAll.text).toContain('Last prices: BTC/USDT 100.');
    expect(sentAll.text).toContain('Should I add to my BTC position?');

    const some = await ask(admin, { messages: question, context: { balance: false, positions: false } });
    expect(some.json.contextSent).toEqual(['orders', 'prices']);
    const sentSome = llm.requests.at(-1) as SeenRequest;
    expect(sentSome.text).not.toContain('equity');
    expect(sentSome.text).not.toContain('Open positions');
    expect(sentSome.text).toContain('Last prices: BTC/USDT 100.');

    const none = await ask(admin, {
      messages: question,
      context: { balance: false, positions: false, orders: false, prices: false },
    });
    expect(none.json.contextSent).toEqual([]);
    expect((llm.requests.at(-1) as SeenRequest).text).not.toContain("The trader's account");
  });

  it('turns suggestions into cards; a confirmed card goes through the risk check and can be refused there', async () => {
    byModel['gpt-x'] = {
      answer: cards(
        card(),
        card({ size: 20, reasoning: 'go big' }), // 20 x 100 = 2000 > the 1000 notional limit
        card({ action: 'hold' }),
      ),
    };
    const r = await ask(admin, { messages: question });
    expect(r.status).toBe(200);
    const signals = r.json.signals as { id: string; size: number; referencePrice: number; status?: string }[];
    expect(signals.map((s) => [s.size, s.referencePrice])).toEqual([
      [0.5, 100],
      [20, 100],
    ]);
    expect((r.json.problems as { index: number; message: string }[])[0]).toMatchObject({ index: 2 });
    expect((r.json.problems as { message: string }[])[0].message).toMatch(/^action: /);
    const [small, big] = signals;

    const exec = (s: Session, id: string, body: unknown = { confirm: true }) =>
      call(fx, 'POST', `/api/assistant/signals/${id}/execute`, { headers: s.headers, body });

    // No confirmation, a viewer, no session: nothing reaches the runtime.
    const before = fx.runtime.calls.length;
    const unconfirmed = await exec(admin, small.id, {});
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.json.message).toMatch(/^body\.confirm/);
    expect((await exec(viewer, small.id)).status).toBe(403);
    expect(
      (await call(fx, 'POST', `/api/assistant/signals/${small.id}/execute`, { body: { confirm: true } })).status,
    ).toBe(401);
    expect(fx.runtime.calls.length).toBe(before);

    const placed = await exec(admin, small.id);
    expect(placed.status).toBe(200);
    expect(placed.json.decision).toMatchObject({ accepted: true, orderId: 'o-new' });
    expect(placed.json.signal).toMatchObject({ status: 'executed', orderId: 'o-new', actor: 'api:admin' });
    expect(fx.runtime.calls.at(-1)).toBe('order:buy:0.5:api:admin');

    // Placed once: a second confirmation is refused before the risk check.
    const again = await exec(admin, small.id);
    expect(again.status).toBe(409);
    expect(again.json.message).toMatch(/already executed/);
    expect(fx.runtime.calls.at(-1)).toBe('order:buy:0.5:api:admin');

    const refused = await exec(admin, big.id);
    expect(refused.status).toBe(200);
    expect(refused.json.decision).toMatchObject({ accepted: false, code: 'MAX_NOTIONAL' });
    expect(refused.json.signal).toMatchObject({
      status: 'rejected',
      decision: 'MAX_NOTIONAL: order notional 2000 exceeds the limit 1000',
    });

    expect((await exec(admin, 'no-such-card')).status).toBe(404);

    // The confirmation is in the audit log with who confirmed it.
    const auditR = await call(fx, 'GET', '/api/audit?action=assistant.signal.confirmed', { headers: admin.headers });
    const records = auditR.json.records as { actor: string; subject: string }[];
    expect(records.map((x) => x.subject).sort()).toEqual([`signal:${big.id}`, `signal:${small.id}`].sort());
    expect(records.every((x) => x.actor === 'api:admin')).toBe(true);
  });

  it('compares two models on one prompt and tracks each one’s signals', async () => {
    byModel['gpt-x'] = { answer: cards(card({ size: 1 })) };
    byModel['claude-x'] = { answer: cards(card({ action: 'sell', size: 2, reasoning: 'overbought' })) };
    fx.runtime.lastPrice = 100;
    const r = await call(fx, 'POST', '/api/assistant/arena', {
      headers: admin.headers,
      body: { messages: question, providers: ['gpt', 'claude'], context: { orders: false } },
    });
    expect(r.status).toBe(200);
    const answers = r.json.answers as { provider: string; model: string; outcome: string; signals: unknown[] }[];
    expect(answers.map((a) => [a.provider, a.model, a.outcome, a.signals.length])).toEqual([
      ['gpt', 'gpt-x', 'answered', 1],
      ['claude', 'claude-x', 'answered', 1],
    ]);
    // The same prompt and context went to both, each over its own protocol.
    const lastTwo = llm.requests.slice(-2);
    expect(lastTwo.map((q) => q.api).sort()).toEqual(['anthropic', 'openai']);
    expect(lastTwo[0].text).toBe(lastTwo[1].text);
    expect(lastTwo[0].text).not.toContain('Recent orders');

    // The price rises 10: the buys gain, the sell loses.
    fx.runtime.lastPrice = 110;
    const board = await call(fx, 'GET', '/api/assistant/signals', { headers: viewer.headers });
    expect(board.status).toBe(200);
    const models = board.json.models as { provider: string; signals: number; hits: number; pnlIfFollowed: number }[];
    const gpt = models.find((m) => m.provider === 'gpt');
    const claude = models.find((m) => m.provider === 'claude');
    // gpt: 0.5 (executed) + 20 (rejected) + 1, all buys from 100 → +5 +200 +10.
    expect(gpt).toMatchObject({ signals: 3, judged: 3, hits: 3, hitRate: 1, pnlIfFollowed: 215 });
    expect(gpt).toMatchObject({ executed: 1, rejected: 1 });
    expect(claude).toMatchObject({ signals: 1, judged: 1, hits: 0, hitRate: 0, pnlIfFollowed: -20 });
    expect(models[0].provider).toBe('gpt');
  });

  it('one model failing spoils no other answer; bad arena requests are refused with the field', async () => {
    byModel['gpt-x'] = { answer: 'Nothing to do.' };
    byModel['claude-x'] = { status: 500, message: 'overloaded' };
    const r = await call(fx, 'POST', '/api/assistant/arena', {
      headers: admin.headers,
      body: { messages: question, providers: ['gpt', 'claude'] },
    });
    const answers = r.json.answers as { outcome: string; error?: { reason: string } }[];
    expect(answers.map((a) => a.outcome)).toEqual(['answered', 'failed']);
    expect(answers[1].error?.reason).toBe('http');

    const one = await call(fx, 'POST', '/api/assistant/arena', {
      headers: admin.headers,
      body: { messages: question, providers: ['gpt'] },
    });
    expect(one.status).toBe(400);
    expect(one.json.message).toMatch(/^body\.providers/);
    const unknown = await call(fx, 'POST', '/api/assistant/arena', {
      headers: admin.headers,
      body: { messages: question, providers: ['gpt', 'nobody'] },
    });
    expect(unknown.status).toBe(409);
    expect(unknown.json.message).toMatch(/no provider named "nobody"/);
    const lastNotUser = await ask(admin, { messages: [{ role: 'assistant', content: 'hi' }] });
    expect(lastNotUser.status).toBe(400);
    expect(lastNotUser.json.message).toMatch(/^body\.messages/);
    expect((await ask(viewer, { messages: question })).status).toBe(403);
  });

  it('streams the answer as server-sent events and ends with the parsed answer', async () => {
    byModel['gpt-x'] = { answer: cards(card({ size: 0.1 })), chunks: 5 };
    const r = await call(fx, 'POST', '/api/assistant/chat', {
      headers: { ...admin.headers, accept: 'text/event-stream' },
      body: { messages: question },
    });
    expect(r.status).toBe(200);
    expect(String(r.headers['content-type'])).toMatch(/^text\/event-stream/);
    const events = r.text
      .trim()
      .split('\n\n')
      .map((block) => {
        const [ev, data] = block.split('\n');
        return { event: ev.slice('event: '.length), data: JSON.parse(data.slice('data: '.length)) };
      });
    const deltas = events.filter((e) => e.event === 'delta');
    expect(deltas.length).toBe(5);
    const last = events.at(-1) as { event: string; data: { text: string; signals: { size: number }[] } };
    expect(last.event).toBe('answer');
    expect(deltas.map((d) => d.data.text).join('')).toBe(last.data.text);
    expect(last.data.signals.map((s) => s.size)).toEqual([0.1]);
  });

  it('a client that leaves mid-stream cancels the model call, and the run is recorded as cancelled', async () => {
    byModel['gpt-x'] = { stall: 'Let me think' };
    const body = JSON.stringify({ messages: question });
    const closed = new Promise<SeenRequest>((r) => llm.once('closed', r));
    const firstDelta = new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: fx.port,
          method: 'POST',
          path: '/api/assistant/chat',
          headers: {
            ...admin.headers,
            host: `127.0.0.1:${fx.port}`,
            accept: 'text/event-stream',
            'content-type': 'application/json',
          },
        },
        (res) => {
          res.once('data', (chunk: Buffer) => {
            expect(chunk.toString()).toContain('event: delta');
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
      req.end(body);
    });
    await firstDelta;
    // The model's stream stalls forever: only the client's leaving can end it.
    expect((await closed).body.model).toBe('gpt-x');
    let run: { status: string } | undefined;
    while (run?.status !== 'cancelled') {
      const runs = await fx.store.agentRuns.list(50);
      const latest = runs.find((x) => x.agent === 'assistant');
      run = latest ? await fx.store.agentRuns.get(latest.id) : undefined;
      if (run?.status === 'failed' || run?.status === 'done') throw new Error(`run ended ${run.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(run.status).toBe('cancelled');
  });
});
