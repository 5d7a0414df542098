import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BacktestJobs } from '../src/app/backtest-jobs.js';
import { resolveHome } from '../src/app/home.js';
import { importStrategyVersion } from '../src/app/strategy-catalogue.js';
import { strategyTemplate } from '../src/authoring/files/template.js';
import type { ApiBacktestJob } from '../src/server/api/backtest-port.js';
import { openStore, type Store } from '../src/store/index.js';
import { loopingStrategy } from './fixtures/strategy-files.js';

// API backtests of a stored code version run in the job worker under the sandbox's CPU watchdog: a version that
// loops fails its job with the one-line stop, and the next job in the queue still runs (the runtime's API backtests
// are one at a time, so a stuck worker would have blocked them all).
let dir: string;
let store: Store;
let jobs: BacktestJobs;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-backtest-jobs-'));
  store = await openStore({ home: dir });
  jobs = new BacktestJobs(store, resolveHome({}, join(dir, 'home')));
});
afterAll(async () => {
  await jobs?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function stored(id: string, source: string): Promise<string> {
  const file = join(dir, `${id}.ts`);
  writeFileSync(file, source);
  const r = await importStrategyVersion(store, { file, kind: 'ts', id });
  return `${id}@v${r.version}`;
}

const ended = (id: string) =>
  new Promise<ApiBacktestJob>((resolve) => {
    const check = (j: ApiBacktestJob) => {
      if (j.job === id && (j.status === 'done' || j.status === 'failed')) {
        off();
        resolve(j);
      }
    };
    const off = jobs.onChange(check);
    const now = jobs.job(id);
    if (now) check(now);
  });

describe('API backtests of stored code versions', () => {
  it('stop a version that loops on its CPU budget; the queue goes on', async () => {
    const spin = await stored('spin', loopingStrategy('spin'));
    const good = await stored('good', strategyTemplate('good'));
    const a = await jobs.start({ strategy: spin }, 'test');
    const b = await jobs.start({ strategy: good }, 'test');
    const failed = await ended(a.job);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(
      /^spin@v1\.ts: strategy spin@v1 ran past its CPU budget of \d+ ms in onBar at bar \d+/,
    );
    const done = await ended(b.job);
    expect(done.status).toBe('done');
    expect(done.backtestId).toBeDefined();
  });
});
