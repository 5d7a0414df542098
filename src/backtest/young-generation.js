// Plain JavaScript (typed by young-generation.d.ts) so bin/tradeforge.js can read it before tsx is loaded.

/**
 * Young generation (MB) of every process and thread that runs backtests: the `backtest` and `replay` commands
 * (bin/node-flags.js), optimizer trial threads (backtest/optimizer/pool.ts) and the server's backtest jobs
 * (app/backtest-jobs.ts). A backtest allocates short-lived objects at a steady rate (about 640 bytes per order);
 * V8's default young generation of 48 MB collects inside nearly every 1M-bar run, and 96 MB mostly does not
 * (figures: docs/backtesting.md "Speed", docs/scale-out.md). Memory is committed only as it is used. Sandboxed
 * backtests of code we did not write keep their own, smaller limits (authoring/sandbox).
 */
export const BACKTEST_YOUNG_GENERATION_MB = 96;

/**
 * The same size as node's `--max-semi-space-size` (MB) for a process's main thread: V8 sizes a young generation
 * as three semi-spaces (two for copying, one's worth for new large objects), so 96 MB is 32 MB semi-spaces.
 */
export const BACKTEST_SEMI_SPACE_MB = BACKTEST_YOUNG_GENERATION_MB / 3;
