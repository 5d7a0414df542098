import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RISK_STATE_KEY } from '../src/app/live/risk-state.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import type { RiskEngineState } from '../src/risk/index.js';
import { Redactor } from '../src/security/redact.js';
import { Vault } from '../src/security/vault.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

// Done-when of issue 9: a tripped drawdown halt survives kill -9 and a restart (a supervisor's restart after a crash
// never lifts a halt), and only an explicit, audited `tradeforge risk reset` lets entries through again.
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/tradeforge.js');

let sim: SimulatorHandle;
let dir: string;
const children: ChildProcess[] = [];
// An unlocked vault lets the runtime and the CLI append to the audit log.
const MASTER = randomBytes(32).toString('hex');

function startChild(cfg: string, home: string): { child: ChildProcess; out: () => string } {
  let text = '';
  const child = spawn(process.execPath, [BIN, 'start', '--config', cfg], {
    cwd: ROOT,
    env: { ...process.env, TRADEFORGE_HOME: home, TRADEFORGE_MASTER_KEY: MASTER },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  children.push(child);
  return { child, out: () => text };
}

function cli(home: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, TRADEFORGE_HOME: home, TRADEFORGE_MASTER_KEY: MASTER },
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    c.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    c.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, log: () => string): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}\n--- runtime output ---\n${log()}`);
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );
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
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
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

    const first = startChild(cfg, home);
    await waitFor(
      'the drawdown halt',
      async () => (await activeBreakers(first.out(), home)).includes('BREAKER_MAX_DRAWDOWN'),
      first.out,
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
      first.out,
    );
    first.child.kill('SIGKILL');
    await exited(first.child);
    const buysAtCrash = buys().length;

    const second = startChild(cfg, home);
    await waitFor('the restarted runtime', () => apiUrl(second.out()) !== undefined, second.out);
    expect(await activeBreakers(second.out(), home)).toContain('BREAKER_MAX_DRAWDOWN');
    // The strategy keeps signalling; every entry is refused by the restored halt.
    await waitFor('a blocked entry', () => /blocked: BREAKER_MAX_DRAWDOWN/.test(second.out()), second.out);
    expect(buys().length).toBe(buysAtCrash);

    // Only an explicit reset lifts it: refused without --yes, then done, audited, and entries resume.
    const refused = await cli(home, 'risk', 'reset', 'BREAKER_MAX_DRAWDOWN');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--yes/);
    const reset = await cli(home, 'risk', 'reset', 'BREAKER_MAX_DRAWDOWN', '--yes');
    expect(reset.status, reset.stderr + reset.stdout).toBe(0);
    expect(reset.stdout).toMatch(/BREAKER_MAX_DRAWDOWN reset/);
    await waitFor('an entry after the reset', () => buys().length > buysAtCrash, second.out);

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
