import { parentPort, workerData } from 'node:worker_threads';
import { toWireError, type WorkerMessage } from './pool.js';
import type { TrialModule, TrialRequest } from './types.js';

/** What a pool worker receives once at start: which trial module to load and its setup (data included). */
export interface TrialWorkerData {
  /** URL of a module exporting `createTrialRunner` (see TrialModule). */
  readonly module: string;
  readonly setup: unknown;
  /** The pool's guard data for this worker (WorkerGuard.data), handed to `createTrialRunner`. */
  readonly guard?: unknown;
}

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const post = (m: WorkerMessage) => port.postMessage(m);

try {
  const init = workerData as TrialWorkerData;
  const mod = (await import(init.module)) as TrialModule;
  const run = await mod.createTrialRunner(init.setup, init.guard);
  port.on('message', (m: { id: number; msg: TrialRequest }) => {
    try {
      post({ type: 'result', id: m.id, ok: true, value: run(m.msg) });
    } catch (err) {
      post({ type: 'result', id: m.id, ok: false, error: toWireError(err) });
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'init-error', error: toWireError(err) });
}
