import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Part 9 of issue 6: with no config, the demo paper-trades sma-cross on the built-in simulator and a new user sees
// orders, fills and P&L within a minute — no key, no network.
const ROOT = resolve(import.meta.dirname, '..');

describe('tradeforge demo', () => {
  it('paper-trades sma-cross on the simulator and stops by itself', async () => {
    const port = await freePort();
    const home = mkdtempSync(join(tmpdir(), 'tf-demo-'));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/tradeforge.js'), 'demo', '--duration', '35'], {
        cwd: tmpdir(),
        env: { ...process.env, TRADEFORGE_HOME: join(home, 'home'), TRADEFORGE__SERVER__PORT: String(port) },
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/rows\s+5105 1d bars/); // the sample-data summary still opens the demo
      expect(r.stdout).toMatch(/deployment demo-sma: sma-cross on demo BTC\/USDT \(paper\)/);
      expect(r.stdout).toMatch(/^bar {3}\S+ BTC\/USDT close \d/m);
      // The demo honours server.port through its environment override.
      expect(r.stdout).toContain(`API and metrics: http://127.0.0.1:${port}/api/status`);
      const m =
        /demo finished: (\d+) orders, (\d+) fills, (\d+) closed trades, gross realised P&L (-?[\d.]+) USDT \(before fees\), fees ([\d.]+) USDT, net realised P&L (-?[\d.]+) USDT \(after fees\), equity ([\d.]+) USDT/.exec(
          r.stdout,
        );
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThanOrEqual(1);
      expect(Number(m?.[2])).toBeGreaterThanOrEqual(1);
      // Net P&L is the gross realised P&L less every fee paid (fills always pay a fee on the paper venue).
      expect(Number(m?.[5])).toBeGreaterThan(0);
      expect(Number(m?.[6])).toBeCloseTo(Number(m?.[4]) - Number(m?.[5]), 1);
      expect(r.stdout).toMatch(/^order \S+ demo-sma BUY [\d.]+ BTC\/USDT market/m);
      expect(r.stdout).toMatch(/^fill {2}\S+ demo-sma BUY [\d.]+ BTC\/USDT @ [\d.]+/m);
      // A closed trade names its P&L as net of fees.
      if (Number(m?.[3]) > 0) expect(r.stdout).toMatch(/ closed: net P&L -?[\d.]+ \(-?[\d.]+%, after [\d.]+ fees\) /);
      // The demo's throwaway home is not the user's.
      expect(r.stdout).not.toMatch(new RegExp(join(home, 'home').replace(/[/\\]/g, '.')));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 310_000);

  it('says in one line that a taken port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as AddressInfo).port;
    const home = mkdtempSync(join(tmpdir(), 'tf-demo-'));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/tradeforge.js'), 'demo', '--duration', '5'], {
        cwd: tmpdir(),
        env: { ...process.env, TRADEFORGE_HOME: join(home, 'home'), TRADEFORGE__SERVER__PORT: String(port) },
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines.filter((l) => /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/.test(l))).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for an operator's mistake
    } finally {
      blocker.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 310_000);
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}
