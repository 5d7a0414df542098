/** The Strategy API (AUTH-1), built-in strategies (AUTH-2) and the registry. */
export * from './builtins/bollinger-breakout.js';
export * from './builtins/crossover.js';
export * from './builtins/ema-cross.js';
export * from './builtins/grid.js';
export * from './builtins/macd.js';
export * from './builtins/rsi-reversion.js';
export * from './builtins/signals.js';
export * from './builtins/sma-cross.js';
export * from './params.js';
export * from './registry.js';
export * from './types.js';
