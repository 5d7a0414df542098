import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Part 9 of issue 6: with no config, the demo paper-trades sma-cross on the built-in simulator and a new user sees
// orders, fills and P&L within a minute — no key, no network.
const ROOT = resolve(import.meta.dirname, '..');

describe('tradeforge demo', () => {
  it('paper-trades sma-cross on the simulator and stops by itself', () => {
    const home = mkdtempSync(join(tmpdir(), 'tf-demo-'));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/tradeforge.js'), 'demo', '--duration', '35'], {
        cwd: tmpdir(),
        env: { ...process.env, TRADEFORGE_HOME: join(home, 'home') },
        encoding: 'utf8',
        timeout: 58_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/rows\s+5105 1d bars/); // the sample-data summary still opens the demo
      expect(r.stdout).toMatch(/deployment demo-sma: sma-cross on demo BTC\/USDT \(paper\)/);
      expect(r.stdout).toMatch(/^bar {3}\S+ BTC\/USDT close \d/m);
      const m =
        /demo finished: (\d+) orders, (\d+) fills, (\d+) closed trades, realised P&L (-?[\d.]+) USDT before ([\d.]+) USDT fees \(net (-?[\d.]+)\), equity ([\d.]+) USDT/.exec(
          r.stdout,
        );
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThanOrEqual(1);
      expect(Number(m?.[2])).toBeGreaterThanOrEqual(1);
      // Net P&L is the realised P&L less every fee paid (fills always pay a fee on the paper venue).
      expect(Number(m?.[5])).toBeGreaterThan(0);
      expect(Number(m?.[6])).toBeCloseTo(Number(m?.[4]) - Number(m?.[5]), 1);
      expect(r.stdout).toMatch(/^order \S+ demo-sma BUY [\d.]+ BTC\/USDT market/m);
      expect(r.stdout).toMatch(/^fill {2}\S+ demo-sma BUY [\d.]+ BTC\/USDT @ [\d.]+/m);
      // The demo's throwaway home is not the user's.
      expect(r.stdout).not.toMatch(new RegExp(join(home, 'home').replace(/[/\\]/g, '.')));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
