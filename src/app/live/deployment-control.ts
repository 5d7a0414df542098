/**
 * Deployments created, started, stopped and archived over the API while the runtime runs (docs/api.md
 * "Deployments"). Every change is checked before anything touches a venue: the caller's role, the kill switch, the
 * promotion pipeline for live money, the runtime's profile and connected venues, risk settings that only tighten,
 * and no second running deployment on the same venue and symbol. Created deployments are recorded in the store
 * (origin `api`), so the runtime starts them again after a restart in the state they had.
 */
import type { Config, DeploymentSpec, RiskConfig } from '../../core/config.js';
import { ConfigError, TradeforgeError, ValidationError } from '../../core/errors.js';
import { PROTECTIVE_STOP_TAG } from '../../engine/execution-venue.js';
import { parseTimeframe } from '../../core/timeframe.js';
import { isStrategyFile, resolveStrategy } from '../../authoring/resolve.js';
import { parseVersionRef } from '../../authoring/versions.js';
import { can } from '../../security/permissions.js';
import type { AccountRisk } from '../../risk/index.js';
import { looseningsOf } from '../../risk/tighten.js';
import { CcxtVenue } from '../../venues/ccxt/index.js';
import type { Store } from '../../store/index.js';
import type { DeploymentInput } from '../../store/repositories/catalogue.js';
import { resolveParams } from '../../strategy/params.js';
import type {
  ApiDeploymentControl,
  ApiDeploymentView,
  DeploymentActor,
  DeploymentOutcome,
  DeploymentRequest,
  DeploymentStopReport,
} from '../../server/api/port.js';
import { deploymentView } from '../../server/api/routes-deployments.js';
import type { Promotion } from '../promotion.js';
import { audit } from '../reconcile.js';
import type { BuiltVenue, Profile } from '../venues.js';
import type { DeploymentRuntime } from './runtime-types.js';

/** How long a stop with `flatten` waits for its closing orders to fill before it reports the positions as kept. */
const FLATTEN_WAIT_MS = 30_000;

/** The deployment mode a runtime profile runs (`dev` trades paper venues). */
export function modeOfProfile(profile: Profile): 'paper' | 'dry_run' | 'live' {
  return profile === 'dev' ? 'paper' : profile;
}

/** What the deployment control acts on: the runtime's parts. */
export interface DeploymentControlDeps {
  config: Config;
  profile: Profile;
  store: Store;
  promotion: Pick<Promotion, 'notLive'>;
  venues: ReadonlyMap<string, BuiltVenue>;
  account: AccountRisk;
  /** The runtime's running deployments (status, control and the API read this list): started ones join it. */
  running: DeploymentRuntime[];
  /** Starts one deployment with a fresh run tag; its cleanups go to `onCleanup`. */
  startOne(d: DeploymentSpec, onCleanup: (fn: () => Promise<void> | void) => void): Promise<DeploymentRuntime>;
  /** Records a deployment's status in the store. */
  record(d: DeploymentSpec, status: DeploymentInput['status'], extra: { createdBy?: string }): Promise<void>;
  /** The runtime is shutting down: nothing starts. */
  stopping(): boolean;
}

type Refusal = Extract<DeploymentOutcome, { ok: false }>;

const refuse = (status: Refusal['status'], error: string, message: string, field?: string): Refusal => ({
  ok: false,
  status,
  error,
  message,
  ...(field !== undefined ? { field } : {}),
});

/** The per-deployment risk overrides the runtime gives the account engine: its `risk` plus its capital cap. */
export function riskOverrideOf(d: DeploymentSpec): RiskConfig {
  return { ...(d.risk ?? {}), ...(d.capitalCap !== undefined ? { capitalCap: d.capitalCap } : {}) };
}

/** Builds the deployment control of a runtime; `close` runs the cleanups of the deployments it started. */
export function deploymentControl(c: DeploymentControlDeps): ApiDeploymentControl & { close(): Promise<void> } {
  const cleanups = new Map<string, (() => Promise<void> | void)[]>();
  // One change at a time: a start and a stop of one deployment never interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const record = (action: string, who: DeploymentActor, subject: string, details: unknown) =>
    audit(c.store, {
      action: `deployment.${action}`,
      subject: `deployment:${subject}`,
      details,
      time: Date.now(),
      actor: who.name,
    });
  /** Audits the refusal and returns it. */
  const refused = async (action: string, who: DeploymentActor, subject: string, r: Refusal): Promise<Refusal> => {
    await record(`${action}.refused`, who, subject, { error: r.error, message: r.message, field: r.field });
    return r;
  };
  const runCleanups = async (id: string) => {
    for (const fn of (cleanups.get(id) ?? []).reverse()) await Promise.resolve(fn()).catch(() => undefined);
    cleanups.delete(id);
  };

  /** A running deployment already trading one of these symbols on this venue (two would fight over them). */
  const clash = (id: string, venue: string, symbols: readonly string[]): Refusal | undefined => {
    for (const r of c.running) {
      if (r.id === id || r.venue.id !== venue) continue;
      const shared = r.symbols.filter((s) => symbols.includes(s));
      if (shared.length > 0) {
        return refuse(
          409,
          'conflict',
          `deployment ${r.id} already trades ${shared.join(', ')} on ${venue}: two deployments on one venue and symbol would fight over the same coins and orders; stop it first`,
        );
      }
    }
    return undefined;
  };

  /** Live money: an admin, an explicit confirmation, and a stored version promoted to live. */
  const liveRefusal = async (spec: DeploymentSpec, who: DeploymentActor, confirm: boolean) => {
    if (who.role !== 'admin') return refuse(403, 'forbidden', 'only an admin may deploy with real money (mode live)');
    if (!confirm) {
      return refuse(400, 'validation', 'body.confirmLive: must be true to deploy with real money', 'body.confirmLive');
    }
    const why = (await c.promotion.notLive([spec.strategy])).get(spec.strategy);
    if (why !== undefined) {
      return refuse(
        409,
        'not_promoted',
        `strategy "${spec.strategy}" is not approved for live trading: ${why}; live deployments run only stored versions promoted to live (docs/promotion.md)`,
      );
    }
    return undefined;
  };

  /** The run spec's own checks: venue, strategy, params, timeframe, risk that only tightens. */
  const specRefusal = async (spec: DeploymentSpec): Promise<Refusal | undefined> => {
    if (!c.venues.has(spec.venue)) {
      const known = [...c.venues.keys()].join(', ') || 'none';
      return refuse(
        400,
        'validation',
        `body.venue: unknown venue "${spec.venue}": this runtime is connected to ${known} (venues are configured in the config file; their keys stay in the vault)`,
        'body.venue',
      );
    }
    const built = c.venues.get(spec.venue);
    if (built?.venue instanceof CcxtVenue && built.venue.futuresMode) {
      // Funding is booked only for the config file's deployments (their owners are checked at start): a deployment
      // created here would see its cash part from the venue's at the first funding time.
      return refuse(
        400,
        'validation',
        `body.venue: ${spec.venue} is a futures venue; its deployments come from the config file (funding payments are booked for those only)`,
        'body.venue',
      );
    }
    const ref = parseVersionRef(spec.strategy);
    if (ref !== undefined) {
      if ((await c.store.lifecycle.state(ref.id, ref.version)) === undefined) {
        return refuse(400, 'validation', `body.strategy: no stored version ${spec.strategy}`, 'body.strategy');
      }
    } else if (isStrategyFile(spec.strategy)) {
      return refuse(
        400,
        'validation',
        'body.strategy: a file path is not accepted over the API: store the strategy as a version (ID@vN) or name a built-in one',
        'body.strategy',
      );
    } else {
      try {
        resolveParams(resolveStrategy(spec.strategy), spec.params);
      } catch (err) {
        if (err instanceof ValidationError) {
          const field =
            err.field === 'strategy' || err.field === undefined ? 'body.strategy' : `body.params.${err.field}`;
          return refuse(400, 'validation', `${field}: ${err.message}`, field);
        }
        throw err;
      }
    }
    try {
      parseTimeframe(spec.timeframe);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return refuse(400, 'validation', `body.timeframe: ${message}`, 'body.timeframe');
    }
    const loose = looseningsOf(spec.risk ?? {}, c.config.risk);
    const accountCap = c.config.risk.capitalCap;
    if (spec.capitalCap !== undefined && accountCap !== undefined && spec.capitalCap > accountCap) {
      loose.unshift({ key: '', message: `${spec.capitalCap} is above the account's capitalCap ${accountCap}` });
    }
    if (loose.length > 0) {
      const l = loose[0];
      const field = l.key === '' ? 'body.capitalCap' : `body.risk.${l.key}`;
      return refuse(
        400,
        'validation',
        `${field}: ${l.message}; a deployment's risk settings may only tighten the account's`,
        field,
      );
    }
    return undefined;
  };

  /** A recorded API deployment that may be acted on, or the refusal. */
  const apiRecord = async (id: string): Promise<DeploymentInput | Refusal> => {
    const rec = await c.store.deployments.get(id);
    if (rec === undefined) return refuse(404, 'not_found', `no deployment ${id}`);
    if (rec.origin !== 'api') {
      return refuse(
        409,
        'config_deployment',
        `deployment ${id} comes from the config file: it runs while the runtime runs; change the config and restart to change it`,
      );
    }
    return rec;
  };

  const view = async (id: string): Promise<ApiDeploymentView> =>
    deploymentView((await c.store.deployments.get(id)) as DeploymentInput);

  return {
    create: (req: DeploymentRequest, who: DeploymentActor) =>
      serial(async (): Promise<DeploymentOutcome> => {
        const spec = req.spec;
        const no = (r: Refusal) => refused('create', who, spec.id, r);
        if (!can(who.role, 'deploy')) return no(refuse(403, 'forbidden', `role ${who.role} may not deploy`));
        if (req.mode === 'live') {
          const r = await liveRefusal(spec, who, req.confirmLive === true);
          if (r) return no(r);
        }
        const runs = modeOfProfile(c.profile);
        if (req.mode !== runs) {
          return no(
            refuse(
              409,
              'mode_unavailable',
              `this runtime runs profile ${c.profile} (mode ${runs}): a ${req.mode} deployment needs a runtime started with profile ${req.mode === 'paper' ? 'dev' : req.mode}`,
            ),
          );
        }
        if (
          (await c.store.deployments.get(spec.id)) !== undefined ||
          c.config.deployments.some((d) => d.id === spec.id)
        ) {
          return no(refuse(409, 'id_taken', `a deployment ${spec.id} exists already; choose another id`));
        }
        const bad = await specRefusal(spec);
        if (bad) return no(bad);
        await c.record(spec, 'created', { createdBy: who.name });
        await record('create', who, spec.id, { mode: req.mode, spec });
        return { ok: true, message: `deployment ${spec.id} created (not started)`, deployment: await view(spec.id) };
      }),

    start: (id: string, who: DeploymentActor) =>
      serial(async (): Promise<DeploymentOutcome> => {
        const no = (r: Refusal) => refused('start', who, id, r);
        if (!can(who.role, 'deploy')) return no(refuse(403, 'forbidden', `role ${who.role} may not deploy`));
        const rec = await apiRecord(id);
        if ('ok' in rec) return no(rec);
        if (rec.status === 'archived') return no(refuse(409, 'archived', `deployment ${id} is archived`));
        if (c.running.some((r) => r.id === id))
          return no(refuse(409, 'running', `deployment ${id} is running already`));
        if (c.stopping()) return no(refuse(409, 'stopping', 'the runtime is shutting down'));
        if (c.account.engine.killSwitchState() !== null) {
          return no(refuse(409, 'kill_switch', 'the kill switch is engaged: recover first, then start the deployment'));
        }
        const spec = rec.config as DeploymentSpec;
        // Approval is checked again at start: the version may have been retired since it was created.
        if (rec.profile === 'live' || rec.mode === 'live') {
          const why = (await c.promotion.notLive([spec.strategy])).get(spec.strategy);
          if (why !== undefined)
            return no(
              refuse(409, 'not_promoted', `strategy "${spec.strategy}" is not approved for live trading: ${why}`),
            );
          if (who.role !== 'admin') return no(refuse(403, 'forbidden', 'only an admin may start a live deployment'));
        }
        if (rec.profile !== undefined && rec.profile !== c.profile) {
          return no(
            refuse(
              409,
              'mode_unavailable',
              `deployment ${id} was created for profile ${rec.profile}; this runtime runs ${c.profile}`,
            ),
          );
        }
        const conflict = clash(id, spec.venue, spec.symbols);
        if (conflict) return no(conflict);
        if (!c.venues.has(spec.venue)) {
          return no(refuse(409, 'venue_unavailable', `venue ${spec.venue} is not connected in this runtime`));
        }
        c.account.engine.setStrategyOverride(id, riskOverrideOf(spec));
        const list: (() => Promise<void> | void)[] = [];
        cleanups.set(id, list);
        let dep: DeploymentRuntime;
        try {
          dep = await c.startOne(spec, (fn) => list.push(fn));
        } catch (err) {
          await runCleanups(id);
          if (err instanceof ConfigError) {
            const field = `body.${err.key.replace(/^deployments\.\d+\./, '')}`;
            return no(refuse(400, 'validation', `${field}: ${err.message.replace(/^config \S+: /, '')}`, field));
          }
          if (err instanceof TradeforgeError) return no(refuse(409, 'start_failed', err.message));
          throw err;
        }
        c.running.push(dep);
        await c.record(spec, 'running', {});
        await record('start', who, id, { reconcile: dep.reconcile });
        return { ok: true, message: `deployment ${id} started`, deployment: await view(id) };
      }),

    stop: (id: string, opts: { flatten: boolean }, who: DeploymentActor) =>
      serial(async (): Promise<DeploymentOutcome> => {
        const no = (r: Refusal) => refused('stop', who, id, r);
        if (!can(who.role, 'deploy')) return no(refuse(403, 'forbidden', `role ${who.role} may not deploy`));
        const rec = await apiRecord(id);
        if ('ok' in rec) return no(rec);
        const at = c.running.findIndex((r) => r.id === id);
        if (at < 0) return no(refuse(409, 'not_running', `deployment ${id} is not running (status ${rec.status})`));
        const dep = c.running[at];
        const report = await stopDeployment(dep, opts.flatten, who.name);
        c.running.splice(c.running.indexOf(dep), 1);
        await runCleanups(id);
        await c.record(rec.config as DeploymentSpec, 'stopped', {});
        await record('stop', who, id, report);
        const kept = report.positionsKept.map((p) => `${p.quantity} ${p.symbol}`).join(', ');
        return {
          ok: true,
          message: `deployment ${id} stopped: ${report.cancelledOrders} order(s) cancelled; ${
            kept === ''
              ? opts.flatten
                ? `positions closed (${report.positionsClosed.length})`
                : 'no open position'
              : `positions kept: ${kept}${report.protectiveStopsKept > 0 ? `, ${report.protectiveStopsKept} protective stop(s) left on the venue` : ''}`
          }`,
          deployment: await view(id),
          stop: report,
        };
      }),

    archive: (id: string, who: DeploymentActor) =>
      serial(async (): Promise<DeploymentOutcome> => {
        const no = (r: Refusal) => refused('archive', who, id, r);
        if (!can(who.role, 'deploy')) return no(refuse(403, 'forbidden', `role ${who.role} may not deploy`));
        const rec = await apiRecord(id);
        if ('ok' in rec) return no(rec);
        if (c.running.some((r) => r.id === id))
          return no(refuse(409, 'running', `deployment ${id} is running: stop it first`));
        if (rec.status === 'archived') return no(refuse(409, 'archived', `deployment ${id} is archived already`));
        await c.record(rec.config as DeploymentSpec, 'archived', {});
        await record('archive', who, id, {});
        return {
          ok: true,
          message: `deployment ${id} archived; its orders, fills and audit stay in the store`,
          deployment: await view(id),
        };
      }),

    async close() {
      await chain;
      for (const id of [...cleanups.keys()]) await runCleanups(id);
    },
  };
}

/**
 * Stops one running deployment: no new signals or exposure, its resting orders cancelled (a kept position's
 * protective stop stays on the venue), positions closed with reduce-only market orders when `flatten`, then the
 * order flow drained as at shutdown (in-flight placements finished, fills booked, state saved, journal flushed).
 */
export async function stopDeployment(
  d: DeploymentRuntime,
  flatten: boolean,
  actor: string,
): Promise<DeploymentStopReport> {
  const { engine, bridge } = d;
  engine.stopStrategy(`stopped by ${actor}`);
  engine.halt('DEPLOYMENT_STOPPED');
  d.feed.close();
  await bridge.drain();
  const qty = (s: number) => engine.portfolio.qty[s];
  const held = () => d.symbols.flatMap((symbol, s) => (qty(s) !== 0 ? [{ symbol, quantity: qty(s) }] : []));
  const before = held();
  let cancelled = 0;
  let stopsKept = 0;
  const keep = (o: { tag?: string; symbol: string }) =>
    !flatten && o.tag === PROTECTIVE_STOP_TAG && before.some((p) => p.symbol === o.symbol);
  for (const o of bridge.trackedOpenOrders()) {
    if (keep(o)) {
      stopsKept++;
      continue;
    }
    if (engine.exec.getOrder(o.id) === o) engine.cancelOrder(o.id, `deployment stopped by ${actor}`);
    else bridge.cancelAdopted(o, 'DEPLOYMENT_STOPPED');
    cancelled++;
  }
  if (flatten) {
    for (const p of before) engine.flattenAll('deployment_stop', p.symbol);
    // Closing orders fill on the venue; their fills come back through the bridge's order sync.
    const until = Date.now() + FLATTEN_WAIT_MS;
    while (held().length > 0 && Date.now() < until) {
      await bridge.drain();
      await bridge.syncOpenOrders().catch(() => 0);
      if (held().length > 0) await new Promise((r) => setTimeout(r, 100));
    }
  }
  await bridge.drain();
  await bridge.syncOpenOrders().catch(() => 0);
  await bridge.drain();
  bridge.close();
  d.journal.saveStrategyState(d.id, d.gate.getState(), Date.now());
  await d.journal.close();
  const after = held();
  return {
    flatten,
    cancelledOrders: cancelled,
    positionsKept: after,
    positionsClosed: before.filter((p) => !after.some((a) => a.symbol === p.symbol)),
    protectiveStopsKept: stopsKept,
  };
}
