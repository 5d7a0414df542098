import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { strategyTemplate } from '../src/authoring/files/template.js';
import { resolveStrategy } from '../src/authoring/resolve.js';
import { runBacktest } from '../src/backtest/runner.js';
import { importFile } from '../src/data/index.js';
import { Sweep } from '../src/scale/sweep.js';
import { dropPrefix } from '../src/scale/status.js';
import { dropSchema, PG_URL, ROOT, startWorker, stopWorker, uniqueNames, type WorkerProcess } from './scale-helpers.js';

const { settings, schema } = uniqueNames('cli');
const home = mkdtempSync(join(tmpdir(), 'tf-scale-cli-'));
const SAMPLE = join(ROOT, 'data/sample/sp500_2000.csv');
const workers: WorkerProcess[] = [];
const q = ['--redis', settings.url, '--queue-prefix', settings.prefix];

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  // A worker still alive would write keys after the prefix is dropped.
  await Promise.all(workers.map((w) => w.exited()));
  await dropPrefix(settings);
  await dropSchema(schema);
  rmSync(home, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tradeforge.js'), ...args], {
      cwd: home,
      env: {
        ...process.env,
        TRADEFORGE_HOME: home,
        TRADEFORGE__DATABASE__URL: PG_URL,
        TRADEFORGE__DATABASE__SCHEMA: schema,
        TRADEFORGE_DEBUG: '',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('tradeforge optimize/backtest --distributed, queue status/cancel (CLI end to end)', () => {
  it('optimize --distributed ranks like the local optimiser, with the same fingerprints', async () => {
    workers.push(await startWorker(settings, schema, home), await startWorker(settings, schema, home));
    const args = [
      'optimize',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5..15:5',
      '--param',
      'slow=40..60:10',
      '--trading-days',
      '252',
    ];
    const [dist, local] = await Promise.all([
      cli([...args, '--distributed', ...q, '--json', join(home, 'dist.json')]),
      cli([...args, '--workers', '1', '--json', join(home, 'local.json')]),
    ]);
    expect(dist.code, dist.stderr).toBe(0);
    expect(local.code, local.stderr).toBe(0);
    expect(dist.stdout).toMatch(/^9 trials \(grid\) on the queue in/);
    expect(dist.stderr).toMatch(/sweep sw-[0-9a-f]+: jobs on queue/);
    const ranked = (f: string) =>
      JSON.parse(readFileSync(join(home, f), 'utf8')).ranked.map(
        (t: { params: unknown; fingerprint: string; score: number }) => [t.params, t.fingerprint, t.score],
      );
    expect(ranked('dist.json')).toEqual(ranked('local.json'));
  }, 300_000);

  it('backtest --distributed --symbols runs one job per symbol and matches direct runs', async () => {
    const out = join(home, 'multi.json');
    const halves = ['2000-01-01', '2000-07-01'];
    const r = await cli([
      'backtest',
      '--distributed',
      ...q,
      '--symbols',
      `${SAMPLE},${SAMPLE}`,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=10',
      '--param',
      'slow=30',
      '--from',
      halves[0],
      '--json',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 symbols: 2 ok, 0 failed/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const bars = importFile(SAMPLE).columns;
    const direct = runBacktest({
      data: { symbol: 'sp500_2000', timeframe: '1d', columns: bars },
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
      from: Date.parse(halves[0]),
    });
    for (const row of doc.results) {
      expect(row.status).toBe('ok');
      expect(row.fingerprint).toBe(direct.fingerprint);
    }
  }, 300_000);

  it('backtest --distributed runs a stored version ID@vN on every symbol, hash-checked, as a local run does', async () => {
    const file = join(home, 'mine.ts');
    writeFileSync(file, strategyTemplate('mine'));
    const imp = await cli(['strategy', 'import', file]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/^stored mine@v1 /);
    const out = join(home, 'stored.json');
    const r = await cli([
      'backtest',
      '--distributed',
      ...q,
      '--symbols',
      `${SAMPLE},${SAMPLE}`,
      '--strategy',
      'mine@v1',
      '--param',
      'fast=7',
      '--param',
      'slow=25',
      '--json',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^backtest mine@v1 on 2 symbols/);
    expect(r.stdout).toMatch(/2 symbols: 2 ok, 0 failed/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.strategy).toBe('mine@v1');
    const direct = runBacktest({
      data: { symbol: 'sp500_2000', timeframe: '1d', columns: importFile(SAMPLE).columns },
      strategy: resolveStrategy(file),
      params: { fast: 7, slow: 25 },
    });
    expect(direct.trades.length).toBeGreaterThan(0);
    for (const row of doc.results) expect(row.fingerprint).toBe(direct.fingerprint);
    // A version that is not stored is refused before any job is queued.
    const missing = await cli(['backtest', '--distributed', ...q, '--symbols', SAMPLE, '--strategy', 'mine@v9']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/mine@v9/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);

  it("queue status shows both workers and their throughput; queue cancel removes a sweep's waiting jobs", async () => {
    const st = await cli(['queue', 'status', ...q, '--json']);
    expect(st.code, st.stderr).toBe(0);
    const s = JSON.parse(st.stdout);
    expect(s.workers.filter((w: { connected: boolean }) => w.connected)).toHaveLength(2);
    // Runs, not jobs: a job whose lock lapsed on a starved machine may run twice (its stored result does not double).
    expect(s.workers.reduce((n: number, w: { completed: number }) => n + w.completed, 0)).toBeGreaterThanOrEqual(13);
    expect(s.completed).toBe(13);
    const text = await cli(['queue', 'status', ...q]);
    expect(text.stdout).toMatch(/^queue tftest-cli-\S+: 0 waiting, 0 active, 0 delayed, 0 failed, 13 completed/);
    expect(text.stdout).toMatch(/connected\s+\d+ done/);

    await Promise.all(workers.map(stopWorker));
    const sweep = await Sweep.open(settings);
    try {
      const dataHash = await sweep.publish(importFile(SAMPLE).columns);
      const base = { dataHash, symbol: 'X', timeframe: '1d', strategy: 'sma-cross', options: {} };
      for (let i = 0; i < 3; i++) sweep.submit({ ...base, params: { fast: 5 + i }, index: i }).catch(() => undefined);
      while ((await sweep.counts()).total < 3) await new Promise((r) => setImmediate(r));
      const { Queue } = await import('bullmq');
      const { connectionFrom, QUEUE_NAME } = await import('../src/scale/connection.js');
      const queue = new Queue(QUEUE_NAME, { connection: connectionFrom(settings), prefix: settings.prefix });
      while ((await queue.getWaitingCount()) < 3) await new Promise((r) => setImmediate(r));
      const c = await cli(['queue', 'cancel', sweep.id, ...q]);
      expect(c.stdout).toBe(`sweep ${sweep.id}: 3 waiting jobs removed\n`);
      expect(await queue.getWaitingCount()).toBe(0);
      await queue.close();
    } finally {
      await sweep.close();
    }
  }, 300_000);
});
