import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.js';
import type { BacktestsTable, Database, DeploymentsTable, StrategiesTable, StrategyVersionsTable } from '../schema.js';
import { fromExcluded } from './upsert.js';

/** A strategy as stored. */
export type StrategyRecord = Omit<StrategiesTable, 'state'> & { state: string };
/** A strategy as the caller writes it (the state defaults to `draft`). */
export type StrategyInput = Omit<StrategiesTable, 'state'> & { state?: string };
/** A strategy version as stored (params is canonical JSON; state is its lifecycle state, `draft` when added). */
export type StrategyVersionRecord = Omit<StrategyVersionsTable, 'state'> & { state: string };

/** Strategies and their immutable versions. */
export class StrategiesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates or renames/re-describes a strategy. */
  async upsert(s: StrategyInput): Promise<void> {
    await this.db
      .insertInto('strategies')
      .values(s)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet(fromExcluded<Omit<StrategiesTable, 'state'>>(['name', 'kind', 'description', 'updated_at'])),
      )
      .execute();
  }

  /** One strategy. */
  async get(id: string): Promise<StrategyRecord | undefined> {
    return this.db.selectFrom('strategies').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every strategy by name. */
  async list(): Promise<StrategyRecord[]> {
    return this.db.selectFrom('strategies').selectAll().orderBy('name').execute();
  }

  /** Adds a version (numbered one above the latest); versions are never modified. */
  async addVersion(
    v: Omit<StrategyVersionRecord, 'version' | 'params' | 'source_kind' | 'compiled' | 'gate' | 'state'> & {
      params: unknown;
      source_kind?: string | null;
      compiled?: string | null;
      gate?: unknown;
    },
  ): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const last = await tx
        .selectFrom('strategy_versions')
        .select((eb) => eb.fn.max('version').as('v'))
        .where('strategy_id', '=', v.strategy_id)
        .executeTakeFirst();
      const version = Number(last?.v ?? 0) + 1;
      await tx
        .insertInto('strategy_versions')
        .values({
          ...v,
          version,
          params: canonicalJson(v.params),
          source_kind: v.source_kind ?? null,
          compiled: v.compiled ?? null,
          gate: v.gate === undefined ? null : canonicalJson(v.gate),
        })
        .execute();
      return version;
    });
  }

  /** One version of a strategy by its number. */
  async version(strategyId: string, version: number): Promise<StrategyVersionRecord | undefined> {
    return this.db
      .selectFrom('strategy_versions')
      .selectAll()
      .where('strategy_id', '=', strategyId)
      .where('version', '=', version)
      .executeTakeFirst();
  }

  /** A version by its id. */
  async versionById(id: string): Promise<StrategyVersionRecord | undefined> {
    return this.db.selectFrom('strategy_versions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Versions of one strategy, oldest first. */
  async versions(strategyId: string): Promise<StrategyVersionRecord[]> {
    return this.db
      .selectFrom('strategy_versions')
      .selectAll()
      .where('strategy_id', '=', strategyId)
      .orderBy('version')
      .execute();
  }
}

/** A backtest as the caller provides it (structured values are serialised as canonical JSON). */
export interface BacktestInput {
  id: string;
  strategyId?: string;
  strategyVersionId?: string;
  status: 'running' | 'done' | 'failed';
  config: unknown;
  metrics?: unknown;
  fingerprint?: string;
  artefacts?: Record<string, string>;
  startedAt: number;
  finishedAt?: number;
}

/** Backtests: config, metrics, fingerprint and artefact paths. */
export class BacktestsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records a backtest or updates its status/metrics. */
  async upsert(b: BacktestInput): Promise<void> {
    const row: BacktestsTable = {
      id: b.id,
      strategy_id: b.strategyId ?? null,
      strategy_version_id: b.strategyVersionId ?? null,
      status: b.status,
      config: canonicalJson(b.config),
      metrics: b.metrics === undefined ? null : canonicalJson(b.metrics),
      fingerprint: b.fingerprint ?? null,
      artefacts: canonicalJson(b.artefacts ?? {}),
      started_at: b.startedAt,
      finished_at: b.finishedAt ?? null,
    };
    await this.db
      .insertInto('backtests')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet(fromExcluded<BacktestsTable>(['status', 'metrics', 'fingerprint', 'artefacts', 'finished_at'])),
      )
      .execute();
  }

  /** One backtest (JSON columns parsed). */
  async get(id: string): Promise<BacktestInput | undefined> {
    const r = await this.db.selectFrom('backtests').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? rowToBacktest(r) : undefined;
  }

  /** Backtests, newest first. */
  async list(opts: { strategyId?: string; limit?: number } = {}): Promise<BacktestInput[]> {
    let q = this.db.selectFrom('backtests').selectAll();
    if (opts.strategyId !== undefined) q = q.where('strategy_id', '=', opts.strategyId);
    const rows = await q
      .orderBy('started_at', 'desc')
      .limit(opts.limit ?? 100)
      .execute();
    return rows.map(rowToBacktest);
  }
}

function rowToBacktest(r: BacktestsTable): BacktestInput {
  const b: BacktestInput = {
    id: r.id,
    status: r.status as BacktestInput['status'],
    config: JSON.parse(r.config),
    artefacts: JSON.parse(r.artefacts) as Record<string, string>,
    startedAt: Number(r.started_at),
  };
  if (r.strategy_id !== null) b.strategyId = r.strategy_id;
  if (r.strategy_version_id !== null) b.strategyVersionId = r.strategy_version_id;
  if (r.metrics !== null) b.metrics = JSON.parse(r.metrics);
  if (r.fingerprint !== null) b.fingerprint = r.fingerprint;
  if (r.finished_at !== null) b.finishedAt = Number(r.finished_at);
  return b;
}

/** A deployment as the caller provides it. */
export interface DeploymentInput {
  id: string;
  strategyId: string;
  strategyVersionId?: string;
  venue: string;
  mode: 'paper' | 'live';
  /** The runtime profile (`dev`, `dry_run`, `live`). */
  profile?: string;
  symbols: string[];
  config: unknown;
  configHash: string;
  appVersion: string;
  status: DeploymentStatus;
  createdAt: number;
  updatedAt: number;
  stoppedAt?: number;
  /** Where it came from: the config file (the default) or the API, whose deployments the store carries over restarts. */
  origin?: 'config' | 'api';
  /** Who created it over the API. */
  createdBy?: string;
}

/** A deployment's recorded status (`archived`: a stopped API deployment put away; it never starts again). */
export type DeploymentStatus = 'created' | 'running' | 'stopped' | 'failed' | 'archived';

/** Deployments of strategies to venues. */
export class DeploymentsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a deployment or updates its status. */
  async upsert(d: DeploymentInput): Promise<void> {
    const row: DeploymentsTable = {
      id: d.id,
      strategy_id: d.strategyId,
      strategy_version_id: d.strategyVersionId ?? null,
      venue: d.venue,
      mode: d.mode,
      profile: d.profile ?? null,
      symbols: canonicalJson(d.symbols),
      config: canonicalJson(d.config),
      config_hash: d.configHash,
      app_version: d.appVersion,
      status: d.status,
      created_at: d.createdAt,
      updated_at: d.updatedAt,
      stopped_at: d.stoppedAt ?? null,
      origin: d.origin ?? 'config',
      created_by: d.createdBy ?? null,
    };
    await this.db
      .insertInto('deployments')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet(fromExcluded<DeploymentsTable>(['status', 'profile', 'updated_at', 'stopped_at'])),
      )
      .execute();
  }

  /** One deployment. */
  async get(id: string): Promise<DeploymentInput | undefined> {
    const r = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? rowToDeployment(r) : undefined;
  }

  /** Deployments, optionally by status. */
  async list(status?: DeploymentStatus): Promise<DeploymentInput[]> {
    let q = this.db.selectFrom('deployments').selectAll();
    if (status !== undefined) q = q.where('status', '=', status);
    return (await q.orderBy('created_at').execute()).map(rowToDeployment);
  }
}

function rowToDeployment(r: DeploymentsTable): DeploymentInput {
  const d: DeploymentInput = {
    id: r.id,
    strategyId: r.strategy_id,
    venue: r.venue,
    mode: r.mode as DeploymentInput['mode'],
    symbols: JSON.parse(r.symbols) as string[],
    config: JSON.parse(r.config),
    configHash: r.config_hash,
    appVersion: r.app_version,
    status: r.status as DeploymentInput['status'],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
  if (r.strategy_version_id !== null) d.strategyVersionId = r.strategy_version_id;
  if (r.profile !== null) d.profile = r.profile;
  if (r.stopped_at !== null) d.stoppedAt = Number(r.stopped_at);
  if (r.origin === 'api' || r.origin === 'config') d.origin = r.origin;
  if (r.created_by !== null) d.createdBy = r.created_by;
  return d;
}
