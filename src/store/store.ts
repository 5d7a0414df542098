import { join, resolve } from 'node:path';
import { Migrator, type Kysely } from 'kysely';
import type { EventBus } from '../core/events.js';
import { AuditLog } from './audit-log.js';
import { type Connection, connect } from './db.js';
import { EventAuditor, type EventAuditorOptions } from './event-auditor.js';
import { EventPersister, type EventPersisterOptions } from './event-persister.js';
import { DEFAULT_AUDIT_OWNER_ROLE, grantAppRole, InCodeMigrationProvider } from './migrations.js';
import { applyRowSecurity, auditReadRole } from './row-security.js';
import { lookupOrderStory, type OrderLookup, type OrderStory, reconstructOrder } from './order-story.js';
import { AssistantSignalsRepository } from './repositories/assistant.js';
import { AgentRunsRepository, KvRepository, StrategyStateRepository } from './repositories/runtime.js';
import { SessionsRepository, UsersRepository } from './repositories/auth.js';
import { StrategyLifecycleRepository } from './repositories/lifecycle.js';
import { BacktestsRepository, DeploymentsRepository, StrategiesRepository } from './repositories/catalogue.js';
import {
  BalanceSnapshotsRepository,
  BreakerStatesRepository,
  HeartbeatsRepository,
  RiskEventsRepository,
} from './repositories/risk.js';
import { FundingPaymentsRepository } from './repositories/funding.js';
import { SecretsRepository, VaultMetaRepository } from './repositories/secrets.js';
import { FillsRepository, OrdersRepository, PositionsRepository, TradesRepository } from './repositories/trading.js';
import type { Database, Dialect } from './schema.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WalSyncer } from './wal-syncer.js';

/** Every repository, bound to one handle (the store, or a transaction). */
export interface Repositories {
  strategies: StrategiesRepository;
  lifecycle: StrategyLifecycleRepository;
  backtests: BacktestsRepository;
  deployments: DeploymentsRepository;
  orders: OrdersRepository;
  fills: FillsRepository;
  trades: TradesRepository;
  positions: PositionsRepository;
  balances: BalanceSnapshotsRepository;
  riskEvents: RiskEventsRepository;
  breakers: BreakerStatesRepository;
  heartbeats: HeartbeatsRepository;
  agentRuns: AgentRunsRepository;
  assistantSignals: AssistantSignalsRepository;
  strategyState: StrategyStateRepository;
  kv: KvRepository;
  funding: FundingPaymentsRepository;
  users: UsersRepository;
  sessions: SessionsRepository;
  secrets: SecretsRepository;
  vaultMeta: VaultMetaRepository;
}

/** Builds the repositories over a Kysely handle (pass a transaction to group writes). */
export function createRepositories(db: Kysely<Database>): Repositories {
  return {
    strategies: new StrategiesRepository(db),
    lifecycle: new StrategyLifecycleRepository(db),
    backtests: new BacktestsRepository(db),
    deployments: new DeploymentsRepository(db),
    orders: new OrdersRepository(db),
    fills: new FillsRepository(db),
    trades: new TradesRepository(db),
    positions: new PositionsRepository(db),
    balances: new BalanceSnapshotsRepository(db),
    riskEvents: new RiskEventsRepository(db),
    breakers: new BreakerStatesRepository(db),
    heartbeats: new HeartbeatsRepository(db),
    agentRuns: new AgentRunsRepository(db),
    assistantSignals: new AssistantSignalsRepository(db),
    strategyState: new StrategyStateRepository(db),
    kv: new KvRepository(db),
    funding: new FundingPaymentsRepository(db),
    users: new UsersRepository(db),
    sessions: new SessionsRepository(db),
    secrets: new SecretsRepository(db),
    vaultMeta: new VaultMetaRepository(db),
  };
}

/** One migration and whether it has run. */
export interface MigrationStatus {
  name: string;
  executedAt?: Date;
}

/** Migration control (`tradeforge db migrate|status`). */
export interface Migrations {
  status(): Promise<MigrationStatus[]>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
}

/** Options of openStore. */
export interface OpenStoreOptions {
  /** Home folder: its path, or the resolved paths (app/home.ts); the SQLite file is `<home>/tradeforge.db`. */
  home: string | { database: string };
  /** `postgres://...` selects PostgreSQL (config key database.url / TRADEFORGE__DATABASE__URL). */
  databaseUrl?: string;
  /** PostgreSQL schema (created when missing). */
  pgSchema?: string;
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
  /** PostgreSQL: the role that owns the audit table (config `database.auditOwnerRole`). */
  pgAuditOwnerRole?: string;
  /**
   * PostgreSQL: the role the application connects as (config `database.appRole`). When set, opening the store as an
   * administrator grants it read/write on every table but only SELECT and INSERT on the audit table.
   */
  pgAppRole?: string;
  /**
   * PostgreSQL, with `pgAppRole`: row-level security (config `database.rowSecurity`, store/row-security.ts) — the
   * administrator's open creates `<app>_admin`/`<app>_viewer` and the policies. The application's own open detects
   * it and reads the audit history as `<app>_admin`.
   */
  pgRowSecurity?: boolean;
  /** SQLite commit durability (see ConnectOptions.sqliteSync); default `full`. */
  sqliteSync?: 'full' | 'batched';
  /** `batched`: the longest a commit waits for its fsync to start, in ms (default 50). */
  syncWindowMs?: number;
  /** `batched`: a background fsync failed (the next round tries again). */
  onSyncError?: (err: unknown) => void;
}

/** The open store: repositories, the audit log, migrations, event subscribers. */
export interface Store extends Repositories {
  readonly dialect: Dialect;
  /** File path or URL (password masked). */
  readonly location: string;
  readonly db: Kysely<Database>;
  readonly connection: Connection;
  readonly audit: AuditLog;
  readonly migrations: Migrations;
  /**
   * What a commit's return means: `fsync` (on disk; SQLite FULL, PostgreSQL), or `os` with `windowMs` (in the OS,
   * survives a process crash; on disk within the window: SQLite batched).
   */
  readonly durability:
    | { commit: 'fsync' }
    | { commit: 'os'; windowMs: number; syncs: WalSyncer['stats']; checkpoints: WalCheckpointer['stats'] };
  /** Resolves once every commit made before the call is on disk (at once when each commit is fsynced already). */
  syncToDisk(): Promise<void>;
  /** Runs `fn` in one transaction with repositories bound to it. */
  transaction<T>(fn: (repos: Repositories) => Promise<T>): Promise<T>;
  /** Subscribes the batched persister to a bus (orders, fills, trades, positions, risk, breakers, heartbeats). */
  persistEvents(bus: EventBus, opts?: EventPersisterOptions): EventPersister;
  /** Subscribes the audit log to a bus (needs an unlocked vault to append). */
  auditEvents(bus: EventBus, opts?: EventAuditorOptions): EventAuditor;
  /** STORE-4: the whole story of one order. */
  orderStory(orderId: string): Promise<OrderStory | undefined>;
  /** The story of the order a person means by a client, venue or engine id, or a prefix of one (several: a list). */
  lookupOrder(key: string): Promise<OrderLookup>;
  /** Flushes subscribers it created and closes the connection. */
  close(): Promise<void>;
}

/** Opens (and by default migrates) the store: SQLite at `$TRADEFORGE_HOME/tradeforge.db`, or PostgreSQL. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const home = typeof opts.home === 'string' ? { database: join(resolve(opts.home), 'tradeforge.db') } : opts.home;
  const conn = await connect({
    sqliteFile: home.database,
    databaseUrl: opts.databaseUrl,
    pgSchema: opts.pgSchema,
    ...(opts.sqliteSync ? { sqliteSync: opts.sqliteSync } : {}),
  });
  const syncer =
    conn.walFile === undefined
      ? undefined
      : new WalSyncer(conn.walFile, {
          ...(opts.syncWindowMs !== undefined ? { intervalMs: opts.syncWindowMs } : {}),
          ...(opts.onSyncError ? { onError: opts.onSyncError } : {}),
        });
  const migrator = new Migrator({
    db: conn.db,
    provider: new InCodeMigrationProvider(conn.dialect, { auditOwnerRole: opts.pgAuditOwnerRole }),
    // Kysely looks its bookkeeping tables up in every schema unless told which one; name ours explicitly.
    ...(conn.dialect === 'postgres' ? { migrationTableSchema: opts.pgSchema ?? 'public' } : {}),
  });
  const migrations: Migrations = {
    async status() {
      const list = await migrator.getMigrations();
      return list.map((m) => (m.executedAt ? { name: m.name, executedAt: m.executedAt } : { name: m.name }));
    },
    async migrate() {
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
        const msg = error instanceof Error ? error.message : String(error);
        throw new Error(`migration ${failed} failed: ${msg}`, { cause: error });
      }
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
  };
  try {
    if (opts.migrate !== false) await migrations.migrate();
    if (opts.pgAppRole && conn.dialect === 'postgres') {
      await grantAppRole(conn.db as unknown as Kysely<unknown>, opts.pgAppRole);
      if (opts.pgRowSecurity) {
        await applyRowSecurity(
          conn.db as unknown as Kysely<unknown>,
          opts.pgAppRole,
          opts.pgAuditOwnerRole ?? DEFAULT_AUDIT_OWNER_ROLE,
        );
      }
    }
  } catch (err) {
    await conn.db.destroy();
    throw err;
  }
  syncer?.start();
  // Batched SQLite: checkpoints off the event loop (db.ts turns SQLite's in-commit checkpoint down to a far bound).
  const checkpointer =
    conn.walFile === undefined
      ? undefined
      : new WalCheckpointer(home.database, opts.onSyncError ? { onError: opts.onSyncError } : {});
  checkpointer?.start();
  const audit = new AuditLog(conn, conn.dialect === 'postgres' ? await auditReadRole(conn.db) : undefined);
  const subscribers: { close(): Promise<void> }[] = [];
  const repos = createRepositories(conn.db);
  let closed = false;
  const store: Store = {
    ...repos,
    dialect: conn.dialect,
    location: conn.location,
    db: conn.db,
    connection: conn,
    audit,
    migrations,
    durability:
      syncer === undefined || checkpointer === undefined
        ? { commit: 'fsync' }
        : { commit: 'os', windowMs: syncer.windowMs, syncs: syncer.stats, checkpoints: checkpointer.stats },
    syncToDisk: () => (syncer === undefined ? Promise.resolve() : syncer.sync()),
    transaction: (fn) => conn.db.transaction().execute((tx) => fn(createRepositories(tx))),
    persistEvents(bus, o) {
      const p = new EventPersister(conn.db, o).attach(bus);
      subscribers.push(p);
      return p;
    },
    auditEvents(bus, o) {
      const a = new EventAuditor(audit, o).attach(bus);
      subscribers.push(a);
      return a;
    },
    orderStory: (id) => reconstructOrder({ ...repos, audit }, id),
    lookupOrder: (key) => lookupOrderStory({ ...repos, audit }, key),
    async close() {
      if (closed) return;
      closed = true;
      for (const s of subscribers) await s.close();
      audit.setKey(undefined);
      await checkpointer?.close();
      await syncer?.close();
      await conn.db.destroy();
    },
  };
  return store;
}
