/** The domain core: types and pure functions every other module builds on. No I/O. */
export * from './bar.js';
export * from './config.js';
export * from './errors.js';
export * from './events.js';
export * from './fill.js';
export * from './ids.js';
export * from './instrument.js';
export * from './order.js';
export * from './position.js';
export * from './queue-bound.js';
export * from './risk-port.js';
export * from './timeframe.js';
export * from './venue.js';
export * from './run-spec.js';
