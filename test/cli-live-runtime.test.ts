import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliAsync } from './fixtures/cli.js';

// The commands that act on the running runtime (callLiveRuntime) refuse in one line when none is running: in a home
// that never ran one, and in a home whose run file a crashed runtime left behind (its pid no longer alive).
const dir = mkdtempSync(join(tmpdir(), 'tf-live-call-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COMMANDS = [['kill'], ['pause', 'g1'], ['deployments', 'start', 'x']];

function staleHome(): string {
  const home = join(dir, 'stale');
  mkdirSync(join(home, 'run'), { recursive: true });
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  const run = { pid: gone, url: 'http://127.0.0.1:9', startedAt: Date.now(), profile: 'dev', configFile: null };
  writeFileSync(join(home, 'run', 'runtime.json'), JSON.stringify(run));
  return home;
}

describe('CLI commands calling the live runtime', () => {
  it.each([
    ['a home that never ran one', () => join(dir, 'empty')],
    ['a home with a stale run file', staleHome],
  ])('say no runtime is running in %s', async (_, makeHome) => {
    const home = makeHome();
    const results = await Promise.all(COMMANDS.map((args) => runCliAsync(args, { home })));
    for (const [i, r] of results.entries()) {
      const what = COMMANDS[i].join(' ');
      expect(r.code, `${what}: ${r.err}`).toBe(1);
      expect(r.err, what).toBe('error: no runtime is running: start it with `tradeforge start`\n');
      expect(r.out, what).toBe('');
    }
  });
});
