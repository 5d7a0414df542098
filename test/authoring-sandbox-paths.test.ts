import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';

// Every path that runs a strategy file other than `backtest` (authoring-sandbox-backtest.test.ts) holds the same
// CPU budget per callback: the optimiser's trial threads (a file and a stored version), check-warmup and the MCP
// server's run_backtest. A file stuck in onBar ends each with one line naming the strategy and the budget.
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'tradeforge.js');
const SAMPLE = join(ROOT, 'data', 'sample', 'sp500_2000.csv');
const dir = mkdtempSync(join(tmpdir(), 'tf-sandbox-paths-'));
const home = join(dir, 'home');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI without blocking this process; the kill is a hang guard only (nothing depends on how fast it is). */
function cli(...args: string[]): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, TRADEFORGE_HOME: home, TRADEFORGE_DEBUG: '' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      done({ code, signal, out, err });
    });
  });
}

/** A strategy file with a parameter `n` whose onBar never returns from bar 50 on. */
const LOOP = `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: 'spin',
  description: 'never returns from onBar at bar 50',
  params: [{ name: 'n', type: 'int', default: 1, min: 1, max: 10 }],
  create(p) {
    return {
      onBar(ctx: StrategyContext) {
        if (ctx.bar.index === 50) { let i = 0; while (i >= 0) i += Number(p.n); }
      },
    };
  },
});
`;
writeFileSync(join(dir, 'spin.ts'), LOOP);

const STOP =
  /spin\.ts: strategy spin ran past its CPU budget of 1000 ms in onBar at bar 50 \(\d{4}-[^)]+\); the sandbox stopped it/;

describe('the CPU budget on every path that runs a strategy file', { timeout: 400_000 }, () => {
  it('optimize: the trial thread is stopped and the command ends with one line, not a hang', async () => {
    const r = await cli('optimize', '--strategy', 'spin.ts', '--data', SAMPLE, '--param', 'n=1..2', '--workers', '1');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    const lines = r.err.split('\n').filter((l) => l.startsWith('error:') || l.startsWith('internal'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: ${STOP.source}$`));
  });

  it('optimize on a stored version (ID@vN): the same stop, named by the version', async () => {
    const imported = await cli('strategy', 'import', 'spin.ts');
    expect(imported.out).toMatch(/^stored spin@v1 \(ts, /);
    const r = await cli('optimize', '--strategy', 'spin@v1', '--data', SAMPLE, '--param', 'n=1..2', '--workers', '1');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: spin@v1\.ts: strategy spin ran past its CPU budget of 1000 ms in onBar at bar 50 /m);
  });

  it('check-warmup: the window run is stopped with one line', async () => {
    const r = await cli('check-warmup', '--strategy', 'spin.ts', '--data', SAMPLE, '--history', '0,100');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^error: ${STOP.source}\\n$`));
    expect(r.out).toBe('');
  });

  it('MCP run_backtest and check_strategy: the tools refuse with the stop, and the server keeps answering', async () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.TRADEFORGE_HOME = home;
    const client = new Client({ name: 'tradeforge-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env, stderr: 'pipe', cwd: dir }),
    );
    type Text = { content: { text: string }[]; isError?: boolean };
    const text = (r: unknown) => (r as Text).content.map((c) => c.text).join('\n');
    try {
      for (const args of [{ strategy: join(dir, 'spin.ts') }, { source: LOOP, kind: 'ts' }]) {
        const r = await client.callTool({ name: 'run_backtest', arguments: args }, undefined, { timeout: 240_000 });
        expect((r as Text).isError).toBe(true);
        expect(text(r)).toMatch(/ran past its CPU budget of 1000 ms in onBar at bar 50 /);
        expect(text(r)).toMatch(/strategy spin /);
      }
      // check_strategy's smoke backtest runs the same way: the candidate is refused with the stop.
      const checked = JSON.parse(
        text(
          await client.callTool({ name: 'check_strategy', arguments: { source: LOOP, kind: 'ts' } }, undefined, {
            timeout: 240_000,
          }),
        ),
      ) as { ok: boolean; stage: string; problems: string[] };
      expect(checked).toMatchObject({ ok: false, stage: 'backtest' });
      expect(checked.problems.join('\n')).toMatch(
        /strategy spin ran past its CPU budget of 1000 ms in onBar at bar 50 /,
      );
      // The server is alive and still runs backtests.
      const ok = await client.callTool({ name: 'run_backtest', arguments: { strategy: 'sma-cross' } });
      expect((ok as Text).isError).toBeFalsy();
      expect(JSON.parse(text(ok)).strategy).toBe('sma-cross');
    } finally {
      await client.close();
    }
  });
});
