import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';

// The durability the live journal promises (docs/live.md, "Durability of the journal"): with fsync batched off the
// order path, every order the venue received is in the journal after kill -9 — its write-ahead reached the OS first.
const ROOT = resolve(import.meta.dirname, '..');
const CHILD = join(ROOT, 'test/fixtures/runtime/journal-crash-child.ts');
const SENT_BEFORE_KILL = 200;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-journal-crash-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('live journal, kill -9', () => {
  it('every order the venue received is in the journal after kill -9, with no fsync since the start', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sent: string[] = [];
    let err = '';
    let rest = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.stdout.on('data', (b: Buffer) => {
      const lines = (rest + b.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('SENT ')) sent.push(l.slice(5));
      // Killed mid-run: the child is placing orders as fast as it can.
      if (sent.length >= SENT_BEFORE_KILL && child.signalCode === null && child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });
    const exit = await new Promise<NodeJS.Signals | number | null>((r) =>
      child.once('exit', (code, signal) => r(signal ?? code)),
    );
    expect(exit, err).toBe('SIGKILL');
    expect(sent.length).toBeGreaterThanOrEqual(SENT_BEFORE_KILL);

    const store = await openStore({ home: dir });
    try {
      const stored = new Set((await store.orders.list({ strategyId: 'kit', limit: 1_000_000 })).map((o) => o.id));
      const missing = sent.filter((cid) => !stored.has(cid));
      expect(missing).toEqual([]);
    } finally {
      await store.close();
    }
  }, 300_000);
});
