/**
 * The promotion pipeline (DEPLOY-1..4) over the store: a stored version `ID@vN` moves
 * `draft → backtested → gated → dry_run → live → retired`; each move, and each refusal, is recorded in the
 * tamper-evident audit log with who and why. The judgements are pure (`authoring/promotion/`); this module gathers
 * their evidence (walk-forward backtests, the dry run's recorded bars and fills replayed) and writes the outcome.
 */
import {
  illegalTransition,
  isLifecycleState,
  type LifecycleState,
  nextState,
} from '../authoring/promotion/lifecycle.js';
import { dryRunRefusals } from '../authoring/promotion/dry-run.js';
import {
  evaluateWalkForward,
  evaluateWalkForwardWith,
  type GateEvaluation,
  judgeGate,
  type WalkForwardSplit,
} from '../authoring/promotion/gate.js';
import {
  DEFAULT_PROMOTION_POLICY,
  type PromotionPolicy,
  policyChangeRefusal,
  withChanges,
} from '../authoring/promotion/policy.js';
import {
  checkedVersionSource,
  compileStoredVersion,
  findStrategyVersion,
  parseVersionRef,
} from '../authoring/versions.js';
import { isCodeSource } from '../authoring/resolve.js';
import { viewColumns } from '../backtest/optimizer/warmup.js';
import { SandboxStoppedError } from '../authoring/sandbox/limits.js';
import type { DivergenceReport } from '../backtest/divergence.js';
import type { BacktestData, BacktestOptions } from '../backtest/runner.js';
import type { Config } from '../core/config.js';
import { TradeforgeError, ValidationError } from '../core/errors.js';
import type { ParamValues } from '../strategy/types.js';
import { can } from '../security/permissions.js';
import type { Store } from '../store/store.js';
import { replayDeployment } from './replay.js';
import { SAMPLE_DATA_FILE } from './home.js';
import { existsSync } from 'node:fs';
import { loadBars } from '../data/load.js';
import { MarketDataStore } from '../data/store.js';
import { parseTimeframe } from '../core/timeframe.js';

/** Who asks for a move: a name for the audit log and a role (`admin` or `viewer`). */
export interface Actor {
  readonly name: string;
  readonly role: string;
}

/** A move or a policy change was refused; `reasons` says why, one sentence each (also in the audit log). */
export class PromotionRefusedError extends TradeforgeError {
  constructor(
    readonly subject: string,
    readonly reasons: readonly string[],
  ) {
    super('PROMOTION_REFUSED', `${subject}: refused: ${reasons.join('; ')}`);
  }
}

/** What the pipeline needs. */
export interface PromotionDeps {
  readonly store: Store;
  /** `<home>/data`: the dry run's recorded bars live under `live/` in it. */
  readonly dataDir: string;
  /** The clock (injectable: tests simulate the dry run's days). Default Date.now. */
  readonly now?: () => number;
  /** The account's `risk` section, as the runtime ran the dry run with it (the replay uses it too). */
  readonly accountRisk?: Config['risk'];
}

/** The outcome of a move. */
export interface TransitionResult {
  readonly ref: string;
  readonly from: LifecycleState;
  readonly to: LifecycleState;
}

/** The gate's outcome: the moves made and what the backtests showed. */
export interface GateResult {
  readonly ref: string;
  readonly state: LifecycleState;
  readonly evaluation: GateEvaluation;
}

const POLICY_KEY = 'promotion.policy';
const DAY = 86_400_000;

/** The promotion pipeline of one store. */
export class Promotion {
  private readonly now: () => number;

  constructor(private readonly deps: PromotionDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The policy in force: the stored one, or the defaults. */
  async policy(): Promise<PromotionPolicy> {
    const stored = await this.deps.store.kv.get<PromotionPolicy>(POLICY_KEY);
    return stored ?? DEFAULT_PROMOTION_POLICY;
  }

  /** Changes the policy: only an admin, and only stricter. A refusal is audited and thrown. */
  async setPolicy(actor: Actor, changes: Parameters<typeof withChanges>[1], reason: string): Promise<PromotionPolicy> {
    const current = await this.policy();
    const proposed = withChanges(current, changes);
    const refusal = policyChangeRefusal(current, proposed, actor.role);
    if (refusal !== undefined) {
      await this.audit(actor, 'promotion.policy.refused', 'promotion:policy', { reason, changes, refusal });
      throw new PromotionRefusedError('promotion policy', [refusal]);
    }
    this.requireAudit();
    await this.audit(actor, 'promotion.policy.changed', 'promotion:policy', { reason, from: current, to: proposed });
    await this.deps.store.kv.set(POLICY_KEY, proposed);
    return proposed;
  }

  /** The state of a stored version. */
  async state(ref: string): Promise<LifecycleState> {
    const r = parseRef(ref);
    const s = await this.deps.store.lifecycle.state(r.id, r.version);
    if (s === undefined) throw new ValidationError(`no stored strategy version ${ref}`, 'strategy');
    if (!isLifecycleState(s)) throw new ValidationError(`strategy ${ref} has an unknown state "${s}"`, 'strategy');
    return s;
  }

  /** The transitions of a stored version, oldest first. */
  async history(ref: string) {
    const r = parseRef(ref);
    await this.state(ref);
    return this.deps.store.lifecycle.history(r.id, r.version);
  }

  /**
   * The gate on data this installation holds (the API's gate): `sample` (the bundled file) or a stored symbol
   * (`SYMBOL`, `SYMBOL@1d`). A path is refused: an API caller must not make the runtime read any file.
   */
  async gateOn(actor: Actor, ref: string, source: string, timeframe?: string): Promise<GateResult> {
    if (source !== 'sample' && existsSync(source)) {
      throw new ValidationError(
        'files are not read through the API: import the data (`tradeforge data import`) and name its symbol',
        'data',
      );
    }
    const tf = timeframe !== undefined ? parseTimeframe(timeframe) : undefined;
    const bars = loadBars(source === 'sample' ? SAMPLE_DATA_FILE : source, {
      store: new MarketDataStore(this.deps.dataDir),
      ...(tf ? { timeframe: tf } : {}),
    });
    const resolved = bars.timeframe ?? tf;
    if (resolved === undefined) {
      throw new ValidationError(`the timeframe of ${source} could not be detected; give one (e.g. 1d)`, 'timeframe');
    }
    return this.gate(actor, ref, {
      data: { symbol: bars.symbol, columns: bars.columns, timeframe: resolved },
      label: source,
    });
  }

  /**
   * The gate (DEPLOY-2): the safety gate and a walk-forward backtest of the version with its stored parameters on
   * `data`. A draft becomes `backtested` (the backtest ran); it becomes `gated` only when the verdict passes.
   */
  async gate(
    actor: Actor,
    ref: string,
    input: {
      data: BacktestData;
      /** Where the data came from (recorded with the evidence). */
      label: string;
      split?: WalkForwardSplit;
      run?: Omit<BacktestOptions, 'data' | 'strategy' | 'params' | 'from' | 'to'>;
    },
  ): Promise<GateResult> {
    await this.checkGateable(actor, ref);
    await findStrategyVersion(this.deps.store.strategies, ref);
    const r = parseRef(ref);
    const v = await this.deps.store.strategies.version(r.id, r.version);
    if (v === undefined) throw new ValidationError(`no stored strategy version ${ref}`, 'strategy');
    const stored = v.gate === null ? null : (JSON.parse(v.gate) as { ok: boolean; findings: { message?: string }[] });
    let evaluation: GateEvaluation;
    try {
      // Compiling runs the safety gate again on code (a refusal throws its findings) and checks the stored hash.
      const def = compileStoredVersion(v);
      const params = JSON.parse(v.params) as ParamValues;
      const safetyOk = stored === null || stored.ok;
      const findings = stored?.findings.map((f) => f.message ?? JSON.stringify(f)) ?? [];
      const code = checkedVersionSource(v);
      evaluation = {
        safety: { ok: safetyOk, findings },
        folds: !safetyOk
          ? []
          : isCodeSource(code)
            ? // Code runs each window in the sandbox backtest worker: a version that loops is stopped on its budget.
              await evaluateWalkForwardWith(input.data.columns.length, input.split ?? {}, async (from, to) => {
                const { runSandboxedBacktest } = await import('../authoring/sandbox/backtest-worker.js');
                const window = { ...input.data, columns: viewColumns(input.data.columns, from, to) };
                const r = await runSandboxedBacktest({
                  source: code.source,
                  file: code.file,
                  options: { ...input.run, data: window, params },
                });
                return r.metrics;
              })
            : evaluateWalkForward(def, params, input.data, input.split, input.run),
      };
    } catch (err) {
      // A refused source, or code the sandbox stopped (a loop, a heap past its cap): the gate fails, naming why.
      if (!(err instanceof ValidationError) && !(err instanceof SandboxStoppedError)) throw err;
      evaluation = { safety: { ok: false, findings: [err.message] }, folds: [] };
    }
    return this.recordGate(actor, ref, evaluation, input.label);
  }

  /**
   * Records a gate evaluation: `draft → backtested` when its backtests ran, then `backtested → gated` when the
   * thresholds hold; otherwise the refusal, with every reason, is audited and thrown.
   */
  async recordGate(actor: Actor, ref: string, evaluation: GateEvaluation, label: string): Promise<GateResult> {
    let state = await this.checkGateable(actor, ref);
    const policy = await this.policy();
    const evidence = { data: label, thresholds: policy.thresholds, evaluation };
    if (state === 'draft' && evaluation.folds.length > 0) {
      await this.move(actor, ref, 'draft', 'backtested', `walk-forward backtest on ${label}`, evidence);
      state = 'backtested';
    }
    const verdict = judgeGate(evaluation, policy.thresholds);
    if (!verdict.passed) await this.refuse(actor, ref, state, 'gated', verdict.reasons, evidence);
    await this.move(actor, ref, 'backtested', 'gated', `gate passed on ${label}`, evidence);
    return { ref, state: 'gated', evaluation };
  }

  /** `gated → dry_run` (`deploy ID --profile dry_run`): the dry run's clock starts now. */
  async startDryRun(actor: Actor, ref: string, reason = 'dry run started'): Promise<TransitionResult> {
    return this.step(actor, ref, 'dry_run', reason, {});
  }

  /**
   * `dry_run → live` (`promote ID`, `deploy ID --profile live`): an admin, an explicit confirmation, the policy's
   * days of dry run under the `dry_run` profile, and the dry run's replay inside the tolerance.
   */
  async goLive(actor: Actor, ref: string, opts: { confirm: boolean; reason?: string }): Promise<TransitionResult> {
    const from = await this.state(ref);
    const pre: string[] = [];
    if (actor.role !== 'admin') pre.push(`going live needs an admin (role ${actor.role})`);
    if (!opts.confirm) pre.push('going live trades real money: confirm it explicitly (--confirm-live)');
    const illegal = illegalTransition(from, 'live');
    if (illegal) pre.push(illegal);
    if (pre.length > 0) await this.refuse(actor, ref, from, 'live', pre, {});
    const policy = await this.policy();
    const { reasons, evidence } = await this.dryRunEvidence(ref, policy);
    if (reasons.length > 0) await this.refuse(actor, ref, from, 'live', reasons, evidence);
    return this.step(
      actor,
      ref,
      'live',
      opts.reason ?? 'dry run complete and inside the tolerance; confirmed',
      evidence,
    );
  }

  /** Any state but `retired` → `retired`. */
  async retire(actor: Actor, ref: string, reason = 'retired'): Promise<TransitionResult> {
    return this.step(actor, ref, 'retired', reason, {});
  }

  /** `promote ID`: the next step from where the version is (the gate needs data: `strategy gate`). */
  async promote(actor: Actor, ref: string, opts: { confirm: boolean; reason?: string }): Promise<TransitionResult> {
    const from = await this.state(ref);
    if (from === 'gated') return this.startDryRun(actor, ref, opts.reason);
    if (from === 'dry_run') return this.goLive(actor, ref, opts);
    const why =
      from === 'draft' || from === 'backtested'
        ? `a ${from} version passes the gate first: tradeforge strategy gate ${ref} --data FILE`
        : (illegalTransition(from, 'live') ?? `a ${from} version has no next state`);
    return this.refuse(actor, ref, from, nextState(from) ?? from, [why], {});
  }

  /** The live profile's check: every reference must be a stored version in state `live`; the reasons otherwise. */
  async notLive(refs: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const ref of refs) {
      const r = parseVersionRef(ref);
      if (r === undefined) {
        out.set(ref, 'it is not a stored strategy version (ID@vN)');
        continue;
      }
      const s = await this.deps.store.lifecycle.state(r.id, r.version);
      if (s !== 'live') out.set(ref, s === undefined ? 'no such stored version' : `its state is ${s}, not live`);
    }
    return out;
  }

  /** The dry run's length and its replay against the stored fills, and what they leave to be done. */
  private async dryRunEvidence(
    ref: string,
    policy: PromotionPolicy,
  ): Promise<{ reasons: string[]; evidence: Record<string, unknown> }> {
    const r = parseRef(ref);
    const history = await this.deps.store.lifecycle.history(r.id, r.version);
    const started = history.filter((t) => t.to === 'dry_run').at(-1)?.time;
    if (started === undefined) return { reasons: ['the version never entered dry_run'], evidence: {} };
    const now = this.now();
    const deployments = (await this.deps.store.deployments.list()).filter(
      (d) => d.strategyId === ref && d.profile === 'dry_run',
    );
    let coveredMs = 0;
    let replayed = false;
    const differences: string[] = [];
    const replays: Record<string, unknown>[] = [];
    for (const d of deployments) {
      try {
        const res = await replayDeployment({
          store: this.deps.store,
          dataDir: this.deps.dataDir,
          deploymentId: d.id,
          from: started,
          to: now,
          tolerance: policy.tolerance,
          ...(this.deps.accountRisk ? { accountRisk: this.deps.accountRisk } : {}),
        });
        replayed = true;
        coveredMs = Math.max(coveredMs, res.to + 1 - Math.max(res.from, started));
        const rep = res.report;
        replays.push({
          deployment: d.id,
          from: res.from,
          to: res.to,
          bars: res.bars,
          verdict: rep.verdict,
          expected: rep.expectedCount,
          actual: rep.actualCount,
          matched: rep.matched.length,
          pnl: rep.pnl,
          differences: rep.differences,
        });
        // A diverged report always names its differences; one sentence keeps a nameless verdict visible.
        if (rep.verdict !== 'match')
          differences.push(...(rep.differences.length ? rep.differences : ['diverged']).map((x) => `${d.id}: ${x}`));
      } catch (err) {
        if (!(err instanceof TradeforgeError)) throw err;
        replays.push({ deployment: d.id, error: err.message });
      }
    }
    const divergence: Pick<DivergenceReport, 'verdict' | 'differences'> | undefined = replayed
      ? { verdict: differences.length === 0 ? 'match' : 'diverged', differences }
      : undefined;
    const reasons =
      deployments.length === 0
        ? [
            ...dryRunRefusals({ startedAt: started, now, coveredMs: 0 }, policy.dryRunDays).filter((x) =>
              x.startsWith('the dry run has run'),
            ),
            `no deployment has run ${ref} under the dry_run profile (tradeforge start --profile dry_run)`,
          ]
        : dryRunRefusals(
            { startedAt: started, now, coveredMs, ...(divergence ? { divergence } : {}) },
            policy.dryRunDays,
          );
    const evidence = {
      dryRun: { startedAt: started, now, days: (now - started) / DAY, coveredDays: coveredMs / DAY },
      tolerance: policy.tolerance,
      replays,
    };
    return { reasons, evidence };
  }

  /** Checks role and state for the gate; refuses (audited) otherwise. Returns the state. */
  private async checkGateable(actor: Actor, ref: string): Promise<LifecycleState> {
    const from = await this.state(ref);
    const why: string[] = [];
    if (!can(actor.role, 'deploy')) why.push(`role ${actor.role} may not move strategy versions`);
    if (from !== 'draft' && from !== 'backtested')
      why.push(`a ${from} version is past the gate (only draft and backtested versions are gated)`);
    if (why.length > 0) await this.refuse(actor, ref, from, 'gated', why, {});
    return from;
  }

  /** One move from the version's current state to `to`, after the role and legality checks. */
  private async step(
    actor: Actor,
    ref: string,
    to: LifecycleState,
    reason: string,
    evidence: unknown,
  ): Promise<TransitionResult> {
    const from = await this.state(ref);
    const why: string[] = [];
    if (!can(actor.role, 'deploy')) why.push(`role ${actor.role} may not move strategy versions`);
    if (to === 'live' && actor.role !== 'admin') why.push(`going live needs an admin (role ${actor.role})`);
    const illegal = illegalTransition(from, to);
    if (illegal) why.push(illegal);
    if (why.length > 0) await this.refuse(actor, ref, from, to, why, evidence);
    await this.move(actor, ref, from, to, reason, evidence);
    return { ref, from, to };
  }

  /** Audits, then moves (compare and set: the state must still be `from`). */
  private async move(
    actor: Actor,
    ref: string,
    from: LifecycleState,
    to: LifecycleState,
    reason: string,
    evidence: unknown,
  ): Promise<void> {
    this.requireAudit();
    const r = parseRef(ref);
    const time = this.now();
    // The record comes first: a move that cannot be audited does not happen.
    await this.audit(actor, 'strategy.transition', `strategy:${ref}`, { from, to, reason, evidence }, time);
    const moved = await this.deps.store.lifecycle.transition({
      strategyId: r.id,
      version: r.version,
      from,
      to,
      actor: actor.name,
      reason,
      evidence,
      time,
    });
    if (!moved) {
      const why = `the version left ${from} while this move was decided (moved by someone else); nothing changed`;
      await this.audit(actor, 'strategy.transition.refused', `strategy:${ref}`, { from, to, reasons: [why] });
      throw new PromotionRefusedError(ref, [why]);
    }
  }

  /** Audits a refusal and throws it. */
  private async refuse(
    actor: Actor,
    ref: string,
    from: LifecycleState,
    to: LifecycleState,
    reasons: readonly string[],
    evidence: unknown,
  ): Promise<never> {
    await this.audit(actor, 'strategy.transition.refused', `strategy:${ref}`, { from, to, reasons, evidence });
    throw new PromotionRefusedError(`${ref} ${from} -> ${to}`, reasons);
  }

  private requireAudit(): void {
    if (!this.deps.store.audit.canAppend) {
      throw new PromotionRefusedError('promotion', [
        'the audit log is locked, so the move could not be recorded: unlock the vault (TRADEFORGE_MASTER_KEY or TRADEFORGE_PASSWORD)',
      ]);
    }
  }

  private async audit(actor: Actor, action: string, subject: string, details: unknown, time = this.now()) {
    if (!this.deps.store.audit.canAppend) return;
    await this.deps.store.audit.append({ actor: actor.name, action, subject, details, time });
  }
}

function parseRef(ref: string): { id: string; version: number } {
  const r = parseVersionRef(ref);
  if (r === undefined)
    throw new ValidationError(`"${ref}" is not a strategy version (use ID@vN, e.g. mine@v2)`, 'strategy');
  return r;
}
