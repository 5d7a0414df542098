import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { startTelemetry } from '../src/app/telemetry.js';
import { buildMcpServer } from '../src/server/mcp/tools.js';
import { openStore } from '../src/store/index.js';

// Issue 18, item 2: a backtest job (the MCP tool the API serves at /api/mcp) is one span with its strategy and symbol.
const dir = mkdtempSync(join(tmpdir(), 'tf-trace-bt-'));
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ exporter });
afterAll(async () => {
  await telemetry.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('backtest job spans', () => {
  it('records a backtest.job span for a run_backtest call', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    const store = await openStore({ home });
    const server = buildMcpServer(
      { store, home, docsDir: resolve(import.meta.dirname, '../docs') },
      { role: 'admin', actor: 'test' },
    );
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(b);
    try {
      const run = await client.callTool({ name: 'run_backtest', arguments: { strategy: 'sma-cross' } });
      expect(run.isError ?? false).toBe(false);
      const job = exporter.getFinishedSpans().filter((s) => s.name === 'backtest.job');
      expect(job).toHaveLength(1);
      expect(job[0].attributes).toMatchObject({ 'backtest.strategy': 'sma-cross', 'backtest.source': 'mcp' });
      expect(job[0].status.code).not.toBe(2);
    } finally {
      await client.close();
      await store.close();
    }
  }, 120_000);
});
