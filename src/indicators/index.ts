/** Technical indicators (AUTH-3): streaming classes (O(1) update, no allocation) and batch functions. */
export * from './adx.js';
export * from './atr.js';
export * from './bbands.js';
export * from './cci.js';
export * from './donchian.js';
export * from './ema.js';
export * from './macd.js';
export * from './obv.js';
export * from './roc.js';
export * from './rma.js';
export * from './rsi.js';
export * from './sma.js';
export * from './spec.js';
export * from './stddev.js';
export * from './stochastic.js';
export * from './vwap.js';
export * from './wma.js';
