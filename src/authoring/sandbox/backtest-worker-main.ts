/**
 * The thread a sandboxed backtest runs in: evaluates the strategy file's code (gated and transpiled by the host) in the in-thread realm (realm.ts),
 * marks every strategy callback for the host's watchdog (backtest-worker-marks.ts), runs the whole backtest and
 * posts the result back. The thread runs under `resourceLimits` (the heap cap); the host terminates it when one
 * callback overruns its CPU budget.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ValidationError } from '../../core/errors.js';
import { runBacktest } from '../../backtest/runner.js';
import { loadTranspiledStrategy } from '../files/code-definition.js';
import { CallbackMarks, markedDefinition } from './backtest-worker-marks.js';
import type { BacktestWorkerData, BacktestWorkerPost } from './backtest-worker-protocol.js';
import { adoptSdkBundle } from './sdk-bundle.js';

const data = workerData as BacktestWorkerData;
const port = parentPort;
if (port === null) throw new Error('backtest-worker-main.ts runs only as a worker thread');
const post = (m: BacktestWorkerPost) => port.postMessage(m);
adoptSdkBundle(data.sdkBundle);
const marks = new CallbackMarks(data.marks);

try {
  const def = marks.around('load', () => loadTranspiledStrategy(data.js, data.file));
  post({ kind: 'loaded', name: def.name });
  const result = runBacktest({
    ...data.options,
    strategy: markedDefinition(def, marks),
    log: (level, message, time) => post({ kind: 'log', level, message, time }),
  });
  post({ kind: 'result', result });
} catch (err) {
  const e = err as { name?: unknown; message?: unknown; field?: unknown } | null;
  post({
    kind: 'error',
    error: {
      name: err instanceof ValidationError ? 'ValidationError' : typeof e?.name === 'string' ? e.name : 'Error',
      message: typeof e?.message === 'string' ? e.message : String(err),
      ...(typeof e?.field === 'string' ? { field: e.field } : {}),
    },
  });
}
