import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { connectionFrom, QUEUE_NAME, type QueueSettings } from '../src/scale/connection.js';
import { dropPrefix } from '../src/scale/status.js';
import { openStore, type Store } from '../src/store/store.js';

/** Shared helpers of the scale-out tests: a unique queue prefix and PostgreSQL schema, and worker processes. */
export const ROOT = resolve(import.meta.dirname, '..');
export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A queue prefix and a PostgreSQL schema no other test run uses. */
export function uniqueNames(tag: string): { settings: QueueSettings; schema: string } {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    settings: { url: 'redis://127.0.0.1:6379', prefix: `tftest-${tag}-${suffix}` },
    schema: `tf_${tag}_${suffix}`,
  };
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** A `tradeforge worker` child process and its output so far. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when a line of stdout matches (already printed lines count). */
  waitFor(re: RegExp): Promise<string>;
  /** Resolves when the process has exited. */
  exited(): Promise<number | null>;
}

/** Starts `tradeforge worker` against the test's queue and schema; resolves once it printed "ready". */
export async function startWorker(
  settings: QueueSettings,
  schema: string,
  home: string,
  extra: string[] = [],
  /** Short in the SIGKILL test (a dead worker's job is taken back sooner); long elsewhere, so a busy box never stalls a live job. */
  lockMs = 10_000,
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/tradeforge.js'),
      'worker',
      '--redis',
      settings.url,
      '--queue-prefix',
      settings.prefix,
      '--lock-ms',
      String(lockMs),
      ...extra,
    ],
    {
      cwd: home,
      env: {
        ...process.env,
        TRADEFORGE_HOME: home,
        TRADEFORGE__DATABASE__URL: PG_URL,
        TRADEFORGE__DATABASE__SCHEMA: schema,
        TRADEFORGE_DEBUG: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const waiters: { re: RegExp; done: (line: string) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done(line);
      }
    }
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    check();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const proc: WorkerProcess = {
    child,
    output: () => out,
    waitFor: (re) =>
      new Promise<string>((done, fail) => {
        waiters.push({ re, done });
        check();
        void exit.then((code) => fail(new Error(`worker exited (${code}) before ${re}:\n${out}`)));
      }),
    exited: () => exit,
  };
  await proc.waitFor(/^worker .* ready/);
  return proc;
}

/** Stops a worker politely (SIGTERM) and waits for it. */
export async function stopWorker(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  await w.exited();
}

/** A test file's queue (a unique prefix), PostgreSQL schema, home, store on them and the workers it started. */
export interface ScaleBed {
  readonly settings: QueueSettings;
  readonly schema: string;
  readonly home: string;
  readonly queue: Queue;
  /** The store on the schema (opened by the bed's beforeAll). */
  readonly store: Store;
  /** Every worker `start` started, in order. */
  readonly workers: WorkerProcess[];
  /** `startWorker` on the bed's queue, schema and home; killed when the file ends if still running. */
  start(extra?: string[], lockMs?: number): Promise<WorkerProcess>;
}

/**
 * Registers the hooks of a scale-out test file: the store opened before; after, its workers killed, then the queue's
 * keys, the schema and the home removed.
 */
export function scaleBed(tag: string): ScaleBed {
  const { settings, schema } = uniqueNames(tag);
  const home = mkdtempSync(join(tmpdir(), `tf-scale-${tag}-`));
  const queue = new Queue(QUEUE_NAME, { connection: connectionFrom(settings), prefix: settings.prefix });
  const workers: WorkerProcess[] = [];
  let store: Store | undefined;
  beforeAll(async () => {
    store = await openStore({ home, databaseUrl: PG_URL, pgSchema: schema });
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    // A worker still alive would write keys after the prefix is dropped.
    await Promise.all(workers.map((w) => w.exited()));
    await queue.close();
    await store?.close();
    await dropPrefix(settings);
    await dropSchema(schema);
    rmSync(home, { recursive: true, force: true });
  });
  return {
    settings,
    schema,
    home,
    queue,
    workers,
    get store() {
      if (!store) throw new Error('the scale bed is used before its beforeAll hook ran');
      return store;
    },
    async start(extra = [], lockMs) {
      const w = await startWorker(settings, schema, home, extra, lockMs);
      workers.push(w);
      return w;
    },
  };
}
