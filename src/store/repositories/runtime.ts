import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.js';
import type { AgentRunsTable, Database, StrategyStateTable } from '../schema.js';
import { fromExcluded } from './upsert.js';

/** An agent run as the caller provides it. */
export interface AgentRunInput {
  id: string;
  agent: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  input: unknown;
  output?: unknown;
  steps?: unknown[];
  cost?: string;
  startedAt: number;
  finishedAt?: number;
}

/** LLM/authoring agent runs. */
export class AgentRunsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records a run or updates its status, output and steps. */
  async upsert(r: AgentRunInput): Promise<void> {
    const row: AgentRunsTable = {
      id: r.id,
      agent: r.agent,
      status: r.status,
      input: canonicalJson(r.input),
      output: r.output === undefined ? null : canonicalJson(r.output),
      steps: canonicalJson(r.steps ?? []),
      cost: r.cost ?? null,
      started_at: r.startedAt,
      finished_at: r.finishedAt ?? null,
    };
    await this.db
      .insertInto('agent_runs')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet(fromExcluded<AgentRunsTable>(['status', 'output', 'steps', 'cost', 'finished_at'])),
      )
      .execute();
  }

  /** One run. */
  async get(id: string): Promise<AgentRunInput | undefined> {
    const r = await this.db.selectFrom('agent_runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    const run: AgentRunInput = {
      id: r.id,
      agent: r.agent,
      status: r.status as AgentRunInput['status'],
      input: JSON.parse(r.input),
      steps: JSON.parse(r.steps) as unknown[],
      startedAt: Number(r.started_at),
    };
    if (r.output !== null) run.output = JSON.parse(r.output);
    if (r.cost !== null) run.cost = r.cost;
    if (r.finished_at !== null) run.finishedAt = Number(r.finished_at);
    return run;
  }

  /** Runs, newest first. */
  async list(limit = 100): Promise<{ id: string; agent: string; status: string; startedAt: number }[]> {
    const rows = await this.db
      .selectFrom('agent_runs')
      .select(['id', 'agent', 'status', 'started_at'])
      .orderBy('started_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, agent: r.agent, status: r.status, startedAt: Number(r.started_at) }));
  }
}

/** A strategy's state as its row (canonical JSON). */
export function strategyStateToRow(
  deploymentId: string,
  strategyId: string,
  state: unknown,
  time: number,
): StrategyStateTable {
  return { deployment_id: deploymentId, strategy_id: strategyId, state: canonicalJson(state), updated_at: time };
}

/** The strategy state upsert (one home for its semantics): the last save wins. SqliteJournalWriter prepares it. */
export function saveStrategyStateQuery(db: Kysely<Database>, row: StrategyStateTable) {
  return db
    .insertInto('strategy_state')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['deployment_id', 'strategy_id']).doUpdateSet(fromExcluded(['state', 'updated_at'])),
    );
}

/** Strategy state saved by the live runtime and restored on restart. */
export class StrategyStateRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Saves a strategy's state (JSON-serialisable). */
  async save(deploymentId: string, strategyId: string, state: unknown, time: number): Promise<void> {
    await this.saveRow(strategyStateToRow(deploymentId, strategyId, state, time));
  }

  /** Saves a state row (from strategyStateToRow). */
  async saveRow(row: StrategyStateTable): Promise<void> {
    await saveStrategyStateQuery(this.db, row).execute();
  }

  /** The saved state, if any. */
  async load(deploymentId: string, strategyId: string): Promise<{ state: unknown; updatedAt: number } | undefined> {
    const r = await this.db
      .selectFrom('strategy_state')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .where('strategy_id', '=', strategyId)
      .executeTakeFirst();
    return r ? { state: JSON.parse(r.state), updatedAt: Number(r.updated_at) } : undefined;
  }
}

/** Small settings and runtime flags, JSON values by key. */
export class KvRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Sets a key. */
  async set(key: string, value: unknown, time = Date.now()): Promise<void> {
    await this.db
      .insertInto('kv')
      .values({ key, value: canonicalJson(value), updated_at: time })
      .onConflict((oc) => oc.column('key').doUpdateSet(fromExcluded(['value', 'updated_at'])))
      .execute();
  }

  /** Reads a key. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const r = await this.db.selectFrom('kv').select('value').where('key', '=', key).executeTakeFirst();
    return r ? (JSON.parse(r.value) as T) : undefined;
  }

  /** Deletes a key. */
  async delete(key: string): Promise<void> {
    await this.db.deleteFrom('kv').where('key', '=', key).execute();
  }
}
