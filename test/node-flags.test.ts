import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingNodeFlags, nodeFlagsFor } from '../bin/node-flags.js';
import { BACKTEST_SEMI_SPACE_MB, BACKTEST_YOUNG_GENERATION_MB } from '../src/backtest/young-generation.js';
import { BIN, runCli } from './fixtures/cli.js';
import { waitFor } from './fixtures/wait.js';

const home = mkdtempSync(join(tmpdir(), 'tf-node-flags-'));
// The records live outside the home: the CLI would tighten the permissions of files it finds in its home.
const records = mkdtempSync(join(tmpdir(), 'tf-node-flags-records-'));
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(records, { recursive: true, force: true });
});
const RECORDER = resolve(import.meta.dirname, 'fixtures/record-node-flags.mjs');
const SAMPLE = resolve(import.meta.dirname, '../data/sample/sp500_2000.csv');

function readRecords(file: string): { pid: number; execArgv: string[] }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { pid: number; execArgv: string[] });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Runs the CLI with every node process it starts recording its flags; returns the result and the records.
function runRecorded(name: string, args: string[]) {
  const file = join(records, `${name}.jsonl`);
  const r = runCli(args, {
    home,
    env: { NODE_OPTIONS: `--import=${RECORDER}`, TF_TEST_NODE_FLAGS_FILE: file },
  });
  return { r, records: readRecords(file) };
}

describe('node flags of the CLI commands (bin/node-flags.js)', () => {
  it('runs a backtest in a process with the backtest young generation, re-run once by the one the user started', () => {
    const { r, records } = runRecorded('backtest', ['backtest', '--data', SAMPLE, '--strategy', 'sma-cross']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/trades/i);
    // The process the user started, then the one it re-ran with the flag (and no third: the flag was then present).
    expect(records).toHaveLength(2);
    expect(records[0].execArgv).not.toContain(`--max-semi-space-size=${BACKTEST_SEMI_SPACE_MB}`);
    expect(records[1].execArgv).toContain(`--max-semi-space-size=${BACKTEST_SEMI_SPACE_MB}`);
  });

  it('starts optimize with single-threaded GC and leaves other commands in the process the user started', () => {
    const opt = runRecorded('optimize', ['optimize', '--help']);
    expect(opt.r.code).toBe(0);
    expect(opt.records).toHaveLength(2);
    expect(opt.records[1].execArgv).toContain('--single-threaded-gc');
    const list = runRecorded('strategies', ['strategies']);
    expect(list.r.code).toBe(0);
    expect(list.r.out).toContain('sma-cross');
    expect(list.records).toHaveLength(1);
  });

  it('asks only for the flags a process lacks, and sizes the semi-space as a third of the young generation', () => {
    expect(nodeFlagsFor('replay')).toEqual(nodeFlagsFor('backtest'));
    expect(missingNodeFlags('backtest', nodeFlagsFor('backtest'))).toEqual([]);
    expect(missingNodeFlags('backtest', ['--import', 'tsx'])).toEqual(nodeFlagsFor('backtest'));
    expect(missingNodeFlags(undefined, [])).toEqual([]);
    expect(BACKTEST_SEMI_SPACE_MB * 3).toBe(BACKTEST_YOUNG_GENERATION_MB);
  });

  it('passes a signal sent to the process the user started on to the re-run one, and ends as it did', async () => {
    const file = join(records, 'signal.jsonl');
    const flag = nodeFlagsFor('backtest')[0];
    const parent = spawn(process.execPath, [BIN, 'backtest', '--data', SAMPLE, '--strategy', 'sma-cross'], {
      env: {
        ...process.env,
        TRADEFORGE_HOME: home,
        NODE_OPTIONS: `--import=${RECORDER}`,
        TF_TEST_NODE_FLAGS_FILE: file,
        TF_TEST_NODE_FLAGS_HOLD: flag,
      },
      stdio: 'ignore',
    });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      parent.on('exit', (code, signal) => done({ code, signal })),
    );
    await waitFor('the re-run process to start', () => readRecords(file).length === 2);
    const child = readRecords(file)[1];
    expect(child.execArgv).toContain(flag);
    expect(alive(child.pid)).toBe(true);
    try {
      // As `timeout` or a supervisor would: SIGTERM to the process the user started, and to it alone.
      parent.kill('SIGTERM');
      expect(await ended).toEqual({ code: null, signal: 'SIGTERM' });
      await waitFor('the re-run process to end', () => !alive(child.pid));
    } finally {
      // A held process left behind by a failure here must not outlive the test.
      if (alive(child.pid)) process.kill(child.pid, 'SIGKILL');
    }
  });
});
