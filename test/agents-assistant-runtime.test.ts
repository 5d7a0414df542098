import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { FakeLlmServer } from './agents-llm-server.js';
import { waitFor } from './fixtures/wait.js';

// The assistant in a real runtime: its cards become orders through the deployment's real risk engine and reach the
// exchange simulator over ccxt; the risk engine refuses a card that breaks the capital cap, and the refusal names
// its rule. The model sees the runtime's real balance and last price.
let sim: SimulatorHandle;
let llm: FakeLlmServer;
let dir: string;
let runtime: Runtime | undefined;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 3,
    tickIntervalMs: 50,
    markets: [{ ...DEFAULT_MARKETS[0], volatility: 0 }], // BTCUSDT at 30 000
  });
  llm = new FakeLlmServer();
  await llm.start();
  dir = mkdtempSync(join(tmpdir(), 'tf-assistant-runtime-'));
});

afterAll(async () => {
  await runtime?.stop('test end');
  await llm?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('assistant cards in a running runtime', () => {
  it('a confirmed card fills on the venue; one over the capital cap is refused by the risk engine', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [
        {
          id: 'btc',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 }, // never signals: only the assistant's cards trade
          venue: 'sim',
          symbols: ['BTC/USDT'],
          capitalCap: 5_000,
          stake: '10%',
        },
      ],
      agents: { providers: [{ name: 'local', type: 'openai-compatible', model: 'm1', baseUrl: `${llm.url}/v1` }] },
      runtime: { barSeconds: 1, warmupBars: 3, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
    const d = runtime.deployments[0];
    await waitFor('a live price', () => d.engine.portfolio.last[0] > 0);
    const token = readCliToken(home.run);
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${runtime?.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };

    llm.script({
      answer: [
        'Two ideas.',
        '```signals',
        JSON.stringify([
          { action: 'buy', symbol: 'BTC/USDT', size: 0.05, price: null, confidence: 0.6, reasoning: 'small probe' },
          { action: 'buy', symbol: 'BTC/USDT', size: 1, price: null, confidence: 0.9, reasoning: 'all in' },
        ]),
        '```',
      ].join('\n'),
    });
    const chat = await api('POST', '/api/assistant/chat', {
      messages: [{ role: 'user', content: 'What should I buy?' }],
    });
    expect(chat.status).toBe(200);
    const sent = llm.requests.at(-1)?.text ?? '';
    expect(sent).toMatch(/Balance: equity \d+/);
    expect(sent).toMatch(/Last prices: BTC\/USDT 3\d{4}/);
    const [probe, allIn] = chat.json.signals as { id: string; referencePrice: number }[];
    expect(probe.referencePrice).toBeGreaterThan(29_000);

    const fillsBefore = d.engine.fills;
    const placed = await api('POST', `/api/assistant/signals/${probe.id}/execute`, { confirm: true });
    expect(placed.status).toBe(200);
    expect(placed.json.decision).toMatchObject({ accepted: true });
    await waitFor('the probe filled', () => d.engine.fills > fillsBefore && d.engine.portfolio.qty[0] > 0);
    const buys = sim.state.orders.filter((o) => o.side === 'BUY');
    expect(buys).toHaveLength(1);
    expect(buys[0].origQty).toBe(0.05);
    // The simulator charges its fee in the base asset: the holding is the card's size less that fee.
    expect(d.engine.portfolio.qty[0]).toBeCloseTo(0.05 * (1 - 0.001), 8);

    // 1 BTC at ~30 000 is far over the 5 000 capital cap: the deployment's risk engine refuses it.
    const rejectedBefore = d.engine.riskEvents.length;
    const refused = await api('POST', `/api/assistant/signals/${allIn.id}/execute`, { confirm: true });
    expect(refused.status).toBe(200);
    expect(refused.json.decision).toMatchObject({ accepted: false, code: 'CAPITAL_CAP' });
    expect(d.engine.riskEvents.length).toBe(rejectedBefore + 1);
    expect(sim.state.orders.filter((o) => o.side === 'BUY')).toHaveLength(1);
    const stored = await runtime.store.assistantSignals.get(allIn.id);
    expect(stored?.status).toBe('rejected');
    expect(stored?.decision).toMatch(/^CAPITAL_CAP: /);
  });
});
