import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/app/load-config.js';

// `tradeforge init` writes the starter config the README's first session starts from; it must run as is.
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/tradeforge.js');
const dir = mkdtempSync(join(tmpdir(), 'tf-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, TRADEFORGE_HOME: join(dir, 'home') },
    encoding: 'utf8',
    timeout: 180_000,
  });

describe('tradeforge init', () => {
  it('writes a valid, commented starter config and refuses to overwrite it', () => {
    const r = run('init', '--out', 'my-deployment.yaml');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote my-deployment\.yaml/);
    const text = readFileSync(join(dir, 'my-deployment.yaml'), 'utf8');
    expect(text).toMatch(/^# tradeforge starter config/);
    const config = loadConfig(join(dir, 'my-deployment.yaml'), {});
    expect(config.deployments[0]).toMatchObject({ strategy: 'sma-cross', venue: 'sim', stake: '40%' });
    expect(config.deployments[0].exits?.stopLoss).toBe(0.03);
    const again = run('init', '--out', 'my-deployment.yaml');
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('starts as is on the simulator and stops cleanly', async () => {
    expect(run('init', '--out', 'as-is.yaml').status).toBe(0);
    const child = spawn(process.execPath, [BIN, 'start', '--config', 'as-is.yaml'], {
      cwd: dir,
      env: { ...process.env, TRADEFORGE_HOME: join(dir, 'home'), TRADEFORGE__SERVER__PORT: '0' },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    await new Promise<void>((ok, fail) => {
      const check = () => (/runtime up \(dev\)/.test(out) ? ok() : undefined);
      child.stdout.on('data', check);
      child.on('exit', () => fail(new Error(`start exited early:\n${out}`)));
    });
    expect(out).toMatch(/deployment sma-btc: sma-cross on sim BTC\/USDT \(paper\)/);
    // The API it printed answers: the runtime serves what the config says.
    const url = /API (http:\/\/\S+)/.exec(out)?.[1];
    const health = (await (await fetch(`${url}/healthz`)).json()) as { profile: string };
    expect(health.profile).toBe('dev');
    child.kill('SIGTERM');
    const code = await exited;
    expect(`${code}\n${out}`).toBe(`0\n${out}`);
  }, 300_000);
});
