import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RISK_STATE_KEY } from '../src/app/live/risk-state.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import type { RiskEngineState } from '../src/risk/index.js';
import { Redactor } from '../src/security/redact.js';
import { Vault } from '../src/security/vault.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { runCliAsync } from './fixtures/cli.js';
import { exited, killAll, startRuntimeProcess } from './fixtures/runtime/process.js';
import { waitFor } from './fixtures/wait.js';

// Done-when of issue 9: a tripped drawdown halt survives kill -9 and a restart (a supervisor's restart after a crash
// never lifts a halt), and only an explicit, audited `tradeforge risk reset` lets entries through again.

let sim: SimulatorHandle;
let dir: string;
const children: ChildProcess[] = [];
// An unlocked vault lets the runtime and the CLI append to the audit log.
const MASTER = randomBytes(32).toString('hex');

// The simulator serves this file's one deployment only: every buy on it is an entry of `dd`.
const buys = () => sim.state.orders.filter((o) => o.side === 'BUY');
const apiUrl = (out: string) => /API (http:\/\/\S+)/.exec(out)?.[1];
async function activeBreakers(out: string, home: string): Promise<string[]> {
  const url = apiUrl(out);
  if (!url) return [];
  // The API needs credentials: the CLI token the runtime wrote to its run folder.
  const token = readCliToken(join(home, 'run'));
  const res = await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${token}` } });
  const s = (await res.json()) as { breakers: { active: { breaker: string }[] }[] };
  return s.breakers.flatMap((b) => b.active.map((a) => a.breaker));
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 9, tickIntervalMs: 40 });
  dir = mkdtempSync(join(tmpdir(), 'tf-risk-state-'));
});

afterAll(async () => {
  killAll(children);
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('durable risk state', () => {
  it('a drawdown halt survives kill -9 and a restart; an audited reset lifts it', async () => {
    const home = join(dir, 'home');
    const seed = await openStore({ home });
    await Vault.create(seed, { masterKey: MASTER }, { redactor: new Redactor() });
    await seed.close();
    const cfg = join(dir, 'config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        profile: 'dev',
        server: { port: 0 },
        // A drawdown limit so small that the first round trip's fees trip it.
        risk: { breakers: { maxDrawdown: 0.0003 } },
        venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
        deployments: [
          {
            id: 'dd',
            strategy: 'sma-cross',
            params: { fast: 2, slow: 3 },
            venue: 'sim',
            symbols: ['BTC/USDT'],
            capitalCap: 10_000,
            stake: '40%',
          },
        ],
        runtime: { barSeconds: 0.5, warmupBars: 10, pollMs: 150, staleAfterSeconds: 10, heartbeatSeconds: 2 },
      }),
    );

    const first = startRuntimeProcess(cfg, home, children, { TRADEFORGE_MASTER_KEY: MASTER });
    await waitFor(
      'the drawdown halt',
      async () => (await activeBreakers(first.out(), home)).includes('BREAKER_MAX_DRAWDOWN'),
      { log: first.out },
    );
    // Saved on the change: the state on disk has the halt before the crash.
    await waitFor(
      'the saved halt',
      async () => {
        const store = await openStore({ home, migrate: false });
        try {
          const st = await store.kv.get<RiskEngineState>(RISK_STATE_KEY);
          return st?.breakers.halts.BREAKER_MAX_DRAWDOWN !== undefined;
        } finally {
          await store.close();
        }
      },
      { log: first.out },
    );
    first.child.kill('SIGKILL');
    await exited(first.child);
    const buysAtCrash = buys().length;

    const second = startRuntimeProcess(cfg, home, children, { TRADEFORGE_MASTER_KEY: MASTER });
    await waitFor('the restarted runtime', () => apiUrl(second.out()) !== undefined, { log: second.out });
    expect(await activeBreakers(second.out(), home)).toContain('BREAKER_MAX_DRAWDOWN');
    // The strategy keeps signalling; every entry is refused by the restored halt.
    await waitFor('a blocked entry', () => /blocked: BREAKER_MAX_DRAWDOWN/.test(second.out()), { log: second.out });
    expect(buys().length).toBe(buysAtCrash);

    // Only an explicit reset lifts it: refused without --yes, then done, audited, and entries resume.
    const cliEnv = { home, env: { TRADEFORGE_MASTER_KEY: MASTER } };
    const refused = await runCliAsync(['risk', 'reset', 'BREAKER_MAX_DRAWDOWN'], cliEnv);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/--yes/);
    const reset = await runCliAsync(['risk', 'reset', 'BREAKER_MAX_DRAWDOWN', '--yes'], cliEnv);
    expect(reset.code, reset.err + reset.out).toBe(0);
    expect(reset.out).toMatch(/BREAKER_MAX_DRAWDOWN reset/);
    await waitFor('an entry after the reset', () => buys().length > buysAtCrash, { log: second.out });

    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    const store = await openStore({ home });
    try {
      const records: { action: string; details: string }[] = [];
      for await (const r of store.audit.iterate({})) records.push(r as { action: string; details: string });
      const resets = records.filter((r) => r.action === 'control.risk_reset');
      expect(resets).toHaveLength(1);
      expect(JSON.parse(resets[0].details)).toMatchObject({ breaker: 'BREAKER_MAX_DRAWDOWN', wasActive: true });
    } finally {
      await store.close();
    }
  }, 600_000);
});
