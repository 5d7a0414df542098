import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.js';
import type { Database } from '../schema.js';

/** One recorded lifecycle transition of a strategy version. */
export interface StrategyTransition {
  seq: number;
  strategyId: string;
  version: number;
  from: string;
  to: string;
  actor: string;
  reason: string;
  /** What the transition was decided on (gate metrics, the dry run's replay summary...). */
  evidence: unknown;
  time: number;
}

/** A transition to record: the state moves only if the version is still in `from` (compare and set). */
export interface TransitionInput {
  strategyId: string;
  version: number;
  from: string;
  to: string;
  actor: string;
  reason: string;
  evidence?: unknown;
  time: number;
}

/** Lifecycle states of strategy versions and their history (DEPLOY-1). */
export class StrategyLifecycleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The state of one version (undefined when the version does not exist). */
  async state(strategyId: string, version: number): Promise<string | undefined> {
    const r = await this.db
      .selectFrom('strategy_versions')
      .select('state')
      .where('strategy_id', '=', strategyId)
      .where('version', '=', version)
      .executeTakeFirst();
    return r?.state;
  }

  /**
   * Moves a version from `from` to `to` and records the transition, in one transaction; also sets the strategy's
   * own state to it (the state of its most recently moved version). False when the version was not in `from`
   * (moved by someone else meanwhile): nothing is written then.
   */
  async transition(t: TransitionInput): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('strategy_versions')
        .set({ state: t.to })
        .where('strategy_id', '=', t.strategyId)
        .where('version', '=', t.version)
        .where('state', '=', t.from)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await tx
        .insertInto('strategy_transitions')
        .values({
          strategy_id: t.strategyId,
          version: t.version,
          from_state: t.from,
          to_state: t.to,
          actor: t.actor,
          reason: t.reason,
          evidence: canonicalJson(t.evidence ?? {}),
          time: t.time,
        })
        .execute();
      await tx
        .updateTable('strategies')
        .set({ state: t.to, updated_at: t.time })
        .where('id', '=', t.strategyId)
        .execute();
      return true;
    });
  }

  /** The transitions of one version, oldest first. */
  async history(strategyId: string, version: number): Promise<StrategyTransition[]> {
    const rows = await this.db
      .selectFrom('strategy_transitions')
      .selectAll()
      .where('strategy_id', '=', strategyId)
      .where('version', '=', version)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      strategyId: r.strategy_id,
      version: Number(r.version),
      from: r.from_state,
      to: r.to_state,
      actor: r.actor,
      reason: r.reason,
      evidence: JSON.parse(r.evidence) as unknown,
      time: Number(r.time),
    }));
  }

  /** Every version in a state, as `ID@vN` references. */
  async inState(state: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('strategy_versions')
      .select(['strategy_id', 'version'])
      .where('state', '=', state)
      .orderBy('strategy_id')
      .orderBy('version')
      .execute();
    return rows.map((r) => `${r.strategy_id}@v${Number(r.version)}`);
  }
}
