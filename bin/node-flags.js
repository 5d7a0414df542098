// Plain JavaScript (typed by node-flags.d.ts): bin/tradeforge.js reads it before tsx is loaded, and the benches
// start their measuring process with the same flags as the command they measure.
import { BACKTEST_SEMI_SPACE_MB } from '../src/backtest/young-generation.js';

/** Commands that run backtests in the CLI's own main thread. */
const BACKTESTING_COMMANDS = new Set(['backtest', 'replay']);

/**
 * The node flags a command's process runs with (V8 reads GC flags only at start-up, so bin/tradeforge.js re-runs
 * itself with the ones missing). `optimize` runs one worker thread per core and V8's background GC threads would
 * compete with them for the cores (measured on 2 cores: 1.54x speed-up with them, 1.87x without); its trial
 * threads get their young generation from the pool. Commands that backtest in the main thread get the backtest
 * young generation (src/backtest/young-generation.js).
 */
export function nodeFlagsFor(command) {
  if (command === 'optimize') return ['--single-threaded-gc'];
  if (command !== undefined && BACKTESTING_COMMANDS.has(command))
    return [`--max-semi-space-size=${BACKTEST_SEMI_SPACE_MB}`];
  return [];
}

/** The flags of `nodeFlagsFor(command)` that `execArgv` (a process's node flags) does not already have. */
export function missingNodeFlags(command, execArgv) {
  return nodeFlagsFor(command).filter((flag) => !execArgv.includes(flag));
}
