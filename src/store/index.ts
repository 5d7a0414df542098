/** Public surface of the store: open it, its repositories, the audit log and the event subscribers. */
export * from './audit-log.js';
export * from './audit-subjects.js';
export * from './canonical-json.js';
export { connect, redactUrl, type Connection, type ConnectOptions } from './db.js';
export * from './event-auditor.js';
export * from './event-persister.js';
export * from './group-commit.js';
export * from './money.js';
export * from './order-story.js';
export * from './repositories/auth.js';
export * from './repositories/catalogue.js';
export * from './repositories/risk.js';
export * from './repositories/runtime.js';
export * from './repositories/secrets.js';
export * from './repositories/trading.js';
export type * from './schema.js';
export * from './store.js';
export * from './wal-syncer.js';
