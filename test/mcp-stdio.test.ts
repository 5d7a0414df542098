import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCliAsync } from './fixtures/cli.js';

let home = '';

type Text = { content: { type: string; text: string }[]; isError?: boolean };
const text = (r: unknown) => (r as Text).content.map((c) => c.text).join('\n');

async function spawnMcp(args: string[] = []): Promise<Client> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.TRADEFORGE_HOME = home;
  const client = new Client({ name: 'tradeforge-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], env, stderr: 'pipe' }),
  );
  return client;
}

/** Runs a CLI command without blocking this process. */
const cli = (args: string[]) => runCliAsync(args, { home });

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'tf-mcp-stdio-'));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

// Each case spawns `tradeforge mcp` (seconds on a loaded machine); the limit is generous, nothing waits on time.
describe('tradeforge mcp over stdio (the SDK client)', { timeout: 240_000 }, () => {
  it('lists the tools, runs a backtest on the bundled data, and is refused an order without confirmation', async () => {
    const client = await spawnMcp();
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining(['list_data', 'run_backtest', 'get_backtest_report', 'place_order']),
      );
      const run = await client.callTool({ name: 'run_backtest', arguments: { strategy: 'bollinger-breakout' } });
      expect((run as Text).isError).toBeFalsy();
      const out = JSON.parse(text(run)) as { id: string; strategy: string };
      expect(out.strategy).toBe('bollinger-breakout');
      const report = JSON.parse(
        text(await client.callTool({ name: 'get_backtest_report', arguments: { id: out.id } })),
      );
      expect(report.id).toBe(out.id);
      const order = await client.callTool({
        name: 'place_order',
        arguments: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1 },
      });
      expect((order as Text).isError).toBe(true);
      expect(text(order)).toContain('not placed: an order needs a confirmation token that the user approves');
      // With a token but no runtime there is nothing to place it on: still refused.
      const token = /confirmationToken "([^"]+)"/.exec(text(order))?.[1] ?? '';
      const again = await client.callTool({
        name: 'place_order',
        arguments: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1, confirmationToken: token },
      });
      expect((again as Text).isError).toBe(true);
      expect(text(again)).toContain('no runtime is running');
      // The person approves from a terminal; not in one, only with --yes.
      const refused = await cli(['mcp', 'approve', token]);
      expect(refused.code).toBe(2);
      expect(refused.err).toContain('pass --yes');
      const approved = await cli(['mcp', 'approve', token, '--yes']);
      expect(approved.code).toBe(0);
      expect(approved.out).toContain('approved: buy 1 BTC/USDT market');
      const unknown = await cli(['mcp', 'approve', 'tfo_nope', '--yes']);
      expect(unknown.err).toContain('no pending order confirmation tfo_nope');
    } finally {
      await client.close();
    }
  });

  it('--read-only offers no trading tool', async () => {
    const client = await spawnMcp(['--read-only']);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('list_data');
      expect(names).not.toContain('place_order');
      expect(names).not.toContain('run_backtest');
    } finally {
      await client.close();
    }
  });
});
