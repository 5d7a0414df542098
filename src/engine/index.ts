/** The kernel: clock, event bus, execution engine, portfolio, market data views and the Engine itself. */
export * from './clock.js';
export * from './context.js';
export * from './engine.js';
export * from './event-bus.js';
export * from './execution-engine.js';
export * from './execution-venue.js';
export * from './market-data.js';
export * from './portfolio.js';
export * from './risk-view.js';
export * from './kernel.js';
