import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smokeData } from '../src/app/agent-services.js';
import { resolveHome } from '../src/app/home.js';
import { OpenAiProvider } from '../src/authoring/agents/openai-provider.js';
import { DEFAULT_RETRY } from '../src/authoring/agents/retry.js';
import { ConfirmationBook } from '../src/server/mcp/confirmations.js';
import { FakeLlmServer } from './agents-llm-server.js';
import { type ApiFixture, call, PASSWORD, startApiFixture } from './server-api-fixture.js';

const DOCS = resolve(import.meta.dirname, '../docs');
const RULES = 'param fast = 10\nbuy when sma(fast) crosses above sma(30)\nsell when sma(fast) crosses below sma(30)';

let fx: ApiFixture;
let home = '';
const fake = new FakeLlmServer();
let viewerToken = '';

type Text = { content: { type: string; text: string }[]; isError?: boolean };
const text = (r: unknown) => (r as Text).content.map((c) => c.text).join('\n');

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'tradeforge-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${fx.url}/api/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

beforeAll(async () => {
  const llm = await fake.start();
  home = mkdtempSync(join(tmpdir(), 'tf-mcp-http-'));
  fx = await startApiFixture({
    loginsPerMinute: 1000,
    mcp: {
      home: resolveHome({}, home),
      docsDir: DOCS,
      agents: async () => ({
        providers: [
          new OpenAiProvider({
            name: 'gpt',
            model: 'gpt-test',
            baseUrl: `${llm}/v1`,
            apiKey: 'k',
            retry: { ...DEFAULT_RETRY, maxRetries: 0 },
          }),
        ],
        smokeData: smokeData(),
        timeoutMs: 60_000,
        runs: fx.store.agentRuns,
      }),
    },
  });
  const r = await call(fx, 'POST', '/api/auth/login', {
    body: { username: 'viewer', password: PASSWORD, issueTokens: true },
  });
  viewerToken = String((r.json.tokens as { accessToken: string }).accessToken);
});
afterAll(async () => {
  await fx?.close();
  await fake.close();
  rmSync(home, { recursive: true, force: true });
});

describe('MCP over streamable HTTP (the SDK client against /api/mcp)', () => {
  it('an admin token lists the tools; a viewer token sees no trading tool and cannot call one', async () => {
    const admin = await connect(fx.cliToken);
    const names = (await admin.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual([
      'check_strategy',
      'generate_strategy',
      'get_backtest_report',
      'get_risk_state',
      'list_data',
      'list_deployments',
      'list_positions',
      'place_order',
      'run_backtest',
    ]);
    await admin.close();
    const viewer = await connect(viewerToken);
    const seen = (await viewer.listTools()).tools.map((t) => t.name);
    expect(seen).not.toContain('place_order');
    expect(seen).not.toContain('run_backtest');
    expect(seen).not.toContain('generate_strategy');
    expect(seen).toContain('get_risk_state');
    const tried = await viewer
      .callTool({ name: 'place_order', arguments: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1 } })
      .catch((e: unknown) => ({ isError: true, content: [{ type: 'text', text: String(e) }] }));
    expect((tried as Text).isError).toBe(true);
    expect(fx.runtime.calls.filter((c) => c.startsWith('order:'))).toEqual([]);
    await viewer.close();
  });

  it('without a token the endpoint answers 401 and no MCP session starts', async () => {
    const r = await call(fx, 'POST', '/api/mcp', { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    expect(r.status).toBe(401);
    await expect(connect('tfc_wrong')).rejects.toThrow();
  });

  it('runs a backtest, stores it, and reads its report back', async () => {
    const client = await connect(fx.cliToken);
    const r = await client.callTool({ name: 'run_backtest', arguments: { source: RULES, kind: 'rules' } });
    expect((r as Text).isError).toBeFalsy();
    const out = JSON.parse(text(r)) as { id: string; trades: number; report: string };
    expect(out.trades).toBeGreaterThan(0);
    const stored = await fx.store.backtests.get(out.id);
    expect(stored?.status).toBe('done');
    const report = await client.callTool({ name: 'get_backtest_report', arguments: { id: out.id } });
    expect(JSON.parse(text(report)).id).toBe(out.id);
    expect(JSON.parse(readFileSync(out.report, 'utf8')).trades).toHaveLength(out.trades);
    await client.close();
  });

  it('refuses an order without confirmation; places it only with the token the user approved, once', async () => {
    const client = await connect(fx.cliToken);
    const order = { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1 };
    const first = await client.callTool({ name: 'place_order', arguments: order });
    expect((first as Text).isError).toBe(true);
    expect(text(first)).toContain('not placed: an order needs a confirmation token that the user approves');
    expect(fx.runtime.calls.filter((c) => c.startsWith('order:'))).toEqual([]);
    const token = /confirmationToken "([^"]+)"/.exec(text(first))?.[1] ?? '';
    expect(token).toMatch(/^tfo_/);
    // The model cannot approve its own request: the token alone is refused until the user approves.
    const early = await client.callTool({ name: 'place_order', arguments: { ...order, confirmationToken: token } });
    expect(text(early)).toContain('the user has not approved it yet');
    const book = new ConfirmationBook(fx.store.kv);
    await book.approve(token, 'cli:tester');
    const other = await client.callTool({
      name: 'place_order',
      arguments: { ...order, quantity: 2, confirmationToken: token },
    });
    expect(text(other)).toContain('the order differs');
    const placed = await client.callTool({ name: 'place_order', arguments: { ...order, confirmationToken: token } });
    expect((placed as Text).isError).toBeFalsy();
    expect(JSON.parse(text(placed))).toMatchObject({ accepted: true, orderId: 'o-new' });
    expect(fx.runtime.calls.filter((c) => c.startsWith('order:'))).toHaveLength(1);
    const again = await client.callTool({ name: 'place_order', arguments: { ...order, confirmationToken: token } });
    expect(text(again)).toContain('unknown, used or expired');
    expect(fx.runtime.calls.filter((c) => c.startsWith('order:'))).toHaveLength(1);
    await client.close();
  });

  it('an order the risk engine refuses gets no token at all; a malformed one names the field', async () => {
    const client = await connect(fx.cliToken);
    const noPrice = await client.callTool({
      name: 'place_order',
      arguments: { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: 1 },
    });
    expect(text(noPrice)).toBe('not placed: price: required for a limit order');
    const r = await client.callTool({
      name: 'place_order',
      arguments: { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: 100, price: 100 },
    });
    expect(text(r)).toContain('the risk engine refuses it (MAX_NOTIONAL');
    expect(text(r)).not.toContain('tfo_');
    await client.close();
  });

  it('reads positions and risk state from the runtime, and serves the docs as resources', async () => {
    const client = await connect(viewerToken);
    const risk = JSON.parse(text(await client.callTool({ name: 'get_risk_state', arguments: {} })));
    expect(risk.limits.maxOrderNotional).toBe(fx.runtime.maxOrderNotional);
    const positions = JSON.parse(text(await client.callTool({ name: 'list_positions', arguments: {} })));
    expect(positions[0].symbol).toBe('BTC/USDT');
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    expect(uris).toContain('tradeforge://docs/rules');
    expect(uris).toContain('tradeforge://docs/strategy-api');
    const rules = await client.readResource({ uri: 'tradeforge://docs/rules' });
    expect((rules.contents[0] as { text: string }).text).toBe(readFileSync(join(DOCS, 'rules.md'), 'utf8'));
    await client.close();
  });

  it('generates a strategy through the agents and checks one', async () => {
    fake.script({ answer: `\`\`\`rules\n${RULES}\n\`\`\`` });
    const client = await connect(fx.cliToken);
    const g = JSON.parse(
      text(await client.callTool({ name: 'generate_strategy', arguments: { prompt: 'fast cross' } })),
    );
    expect(g.outcome).toBe('generated');
    expect(fake.requests.at(-1)?.text).toContain('fast cross');
    const bad = JSON.parse(
      text(await client.callTool({ name: 'check_strategy', arguments: { source: 'buy when close >', kind: 'rules' } })),
    );
    expect(bad).toMatchObject({ ok: false, stage: 'compile' });
    await client.close();
  });
});
