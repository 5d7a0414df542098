/** Young generation (MB) of every process and thread that runs backtests (see young-generation.js). */
export declare const BACKTEST_YOUNG_GENERATION_MB: number;
/** The same size as node's `--max-semi-space-size` (MB), for a process's main thread. */
export declare const BACKTEST_SEMI_SPACE_MB: number;
