/** The runtime's ControlApi (OPS-4): what Telegram, the HTTP API and the CLI all call. */
import type { EventBus } from '../../core/events.js';
import { decimalText } from '../../core/money.js';
import type {
  ControlApi,
  ControlBalance,
  ControlPosition,
  ControlProfit,
  ControlResult,
  ControlStatus,
} from '../../ops/index.js';
import { type AccountRisk, BREAKER_NAMES, isBreakerName } from '../../risk/index.js';
import type { Store } from '../../store/index.js';
import { audit } from '../reconcile.js';
import type { Profile } from '../venues.js';
import type { EntriesSwitch } from './gates.js';
import type { DeploymentRuntime, RuntimeStatus } from './runtime-types.js';

/** What the control API acts on. */
export interface ControlDeps {
  deployments: DeploymentRuntime[];
  account: AccountRisk;
  entries: EntriesSwitch;
  profile: Profile;
  bus: EventBus;
  store: Store;
  statusNow: () => Promise<RuntimeStatus>;
  lastBeat: () => number | undefined;
}

/** A ControlApi that forwards to one bound later (the Telegram bot is built before the runtime's control API). */
export function lateBoundControl(get: () => ControlApi | undefined): ControlApi {
  const c = (): ControlApi => {
    const api = get();
    if (!api) throw new Error('the runtime is still starting');
    return api;
  };
  return {
    status: () => c().status(),
    profit: () => c().profit(),
    balance: () => c().balance(),
    positions: () => c().positions(),
    stopEntries: (actor) => c().stopEntries(actor),
    startEntries: (actor) => c().startEntries(actor),
    forceExit: (target, actor) => c().forceExit(target, actor),
    kill: (actor) => c().kill(actor),
    recover: (actor) => c().recover(actor),
    pause: (target, actor) => {
      const api = c();
      return api.pause ? api.pause(target, actor) : Promise.resolve({ ok: false, message: 'unavailable' });
    },
    resume: (target, actor) => {
      const api = c();
      return api.resume ? api.resume(target, actor) : Promise.resolve({ ok: false, message: 'unavailable' });
    },
    resetBreaker: (breaker, actor) => {
      const api = c();
      return api.resetBreaker
        ? api.resetBreaker(breaker, actor)
        : Promise.resolve({ ok: false, message: 'unavailable' });
    },
  };
}

/** The ControlApi of the runtime: what Telegram, the HTTP API and the CLI all call. */
export function buildControl(c: ControlDeps): ControlApi {
  const record = (action: string, actor: string, details: unknown) =>
    audit(c.store, { action: `control.${action}`, subject: 'runtime', details, time: Date.now(), actor });
  const ok = (message: string, detail?: ControlResult['detail']): ControlResult => ({
    ok: true,
    message,
    ...(detail ? { detail } : {}),
  });
  return {
    async status(): Promise<ControlStatus> {
      const s = await c.statusNow();
      return {
        state: s.killSwitchActive ? 'halted' : s.state === 'stopping' ? 'stopped' : 'running',
        profile: c.profile,
        entriesEnabled: s.entriesEnabled,
        killSwitchActive: s.killSwitchActive,
        deployments: c.deployments.map((d) => ({
          id: d.id,
          strategy: d.strategy,
          symbols: d.symbols,
          venue: d.venue.id,
          state: d.engine.haltCode ?? 'running',
        })),
        openOrders: s.openOrders.length,
        openPositions: s.positions.length,
        ...(c.lastBeat() !== undefined ? { lastHeartbeat: c.lastBeat() } : {}),
        breakersTripped: c.account.engine.status().map((t) => t.breaker),
      };
    },
    async profit(): Promise<ControlProfit> {
      let realised = 0;
      let unrealised = 0;
      const pnls: number[] = [];
      for (const d of c.deployments) {
        const pf = d.engine.portfolio;
        realised += pf.realizedPnl;
        for (const sym of d.symbols) unrealised += pf.unrealizedPnl(sym);
        for (const t of pf.trades) pnls.push(t.pnl);
      }
      return {
        currency: 'USDT',
        realisedPnl: realised,
        unrealisedPnl: unrealised,
        closedTrades: pnls.length,
        winningTrades: pnls.filter((p) => p > 0).length,
        ...(pnls.length ? { bestTrade: Math.max(...pnls), worstTrade: Math.min(...pnls) } : {}),
      };
    },
    async balance(): Promise<ControlBalance> {
      let equity = 0;
      const assets: ControlBalance['assets'] = [];
      for (const d of c.deployments) equity += d.engine.portfolio.equity();
      const seen = new Set<string>();
      for (const d of c.deployments) {
        if (seen.has(d.venue.id)) continue;
        seen.add(d.venue.id);
        for (const b of await d.venue.resilient.fetchBalances()) if (b.total > 0) assets.push(b);
      }
      return { currency: 'USDT', equity, assets };
    },
    async positions(): Promise<ControlPosition[]> {
      const out: ControlPosition[] = [];
      for (const d of c.deployments) {
        const pf = d.engine.portfolio;
        for (let s = 0; s < d.symbols.length; s++) {
          const q = pf.qty[s];
          if (q === 0) continue;
          out.push({
            id: `${d.id}:${d.symbols[s]}`,
            symbol: d.symbols[s],
            side: q > 0 ? 'long' : 'short',
            quantity: Math.abs(q),
            entryPrice: pf.avg[s],
            markPrice: pf.last[s],
            unrealisedPnl: pf.unrealizedPnl(d.symbols[s]),
            strategyId: d.id,
            venue: d.venue.id,
            ...(pf.exact !== null
              ? { exact: { quantity: decimalText(pf.exact.qty[s].abs()), entryPrice: decimalText(pf.exact.avg[s]) } }
              : {}),
          });
        }
      }
      return out;
    },
    async stopEntries(actor) {
      c.entries.enabled = false;
      await record('stop_entries', actor, {});
      return ok('new entries stopped; exits and protective stops keep working');
    },
    async startEntries(actor) {
      c.entries.enabled = true;
      await record('start_entries', actor, {});
      return ok('new entries allowed');
    },
    async forceExit(target, actor) {
      let n = 0;
      for (const d of c.deployments) {
        for (let s = 0; s < d.symbols.length; s++) {
          const id = `${d.id}:${d.symbols[s]}`;
          if (target !== 'all' && target !== id) continue;
          if (d.engine.portfolio.qty[s] === 0) continue;
          d.engine.flattenAll('force_exit', d.symbols[s]);
          n++;
        }
      }
      await record('force_exit', actor, { target, positions: n });
      return n > 0
        ? ok(`closing ${n} position(s)`, { closing: n })
        : { ok: false, message: `no open position ${target}` };
    },
    async kill(actor) {
      let cancelled = 0;
      let closing = 0;
      for (const d of c.deployments) {
        // Its cancels and closes jump the bridge's queue (and a retrying entry stops) before any is issued.
        d.bridge.engageKillSwitch();
        const r = d.engine.killSwitch(actor, 'kill switch');
        cancelled += r.cancelled;
        closing += r.closing;
        // Orders of an earlier run are tracked by the bridge, not the execution engine.
        for (const o of d.bridge.trackedOpenOrders()) {
          if (d.engine.exec.getOrder(o.id) !== o) {
            d.bridge.cancelAdopted(o, 'KILL_SWITCH');
            cancelled++;
          }
        }
      }
      await record('kill', actor, { cancelled, closing });
      return ok(`kill switch engaged: ${cancelled} order(s) cancelled, ${closing} position(s) closing`, {
        cancelled,
        closing,
      });
    },
    async recover(actor) {
      const engaged = c.account.recoverAll(
        actor,
        c.deployments.map((d) => d.engine),
      );
      const halted = c.deployments.filter((d) => d.engine.haltCode !== null).length;
      await record('recover', actor, { killSwitchWasEngaged: engaged, stillHalted: halted });
      return engaged
        ? ok('kill switch released; trading resumes')
        : { ok: false, message: 'the kill switch is not engaged' };
    },
    async pause(target, actor) {
      return pauseOrResume(c, 'pause', target, actor, record);
    },
    async resume(target, actor) {
      return pauseOrResume(c, 'resume', target, actor, record);
    },
    async resetBreaker(breaker, actor) {
      if (!isBreakerName(breaker)) {
        return { ok: false, message: `unknown breaker "${breaker}" (one of ${BREAKER_NAMES.join(', ')})` };
      }
      if (breaker === 'KILL_SWITCH') return this.recover(actor);
      const was = c.account.engine.reset(breaker, actor);
      await record('risk_reset', actor, { breaker, wasActive: was });
      return was
        ? ok(`${breaker} reset; new entries allowed again`)
        : { ok: false, message: `${breaker} was not tripped` };
    },
  };
}

/**
 * Pauses or resumes the strategy of one deployment (or every one with `'all'`) that can be paused. A resume is
 * refused while the kill switch is engaged or a breaker halts trading (it would only place refused orders). The
 * strategy's state is saved at once and the action audited.
 */
async function pauseOrResume(
  c: ControlDeps,
  action: 'pause' | 'resume',
  target: string,
  actor: string,
  record: (action: string, actor: string, details: unknown) => Promise<void>,
): Promise<ControlResult> {
  const chosen = c.deployments.filter((d) => target === 'all' || d.id === target);
  if (chosen.length === 0) return { ok: false, message: `no deployment ${target}` };
  const pausable = chosen.filter((d) => d.engine.pausable);
  if (pausable.length === 0) {
    return { ok: false, message: `${target === 'all' ? 'no deployment' : target} has a strategy that can be paused` };
  }
  if (action === 'resume' && (c.account.engine.killSwitchState() !== null || pausable.some((d) => d.engine.halted))) {
    return { ok: false, message: 'trading is halted (kill switch or breaker): recover or reset first, then resume' };
  }
  const done: string[] = [];
  for (const d of pausable) {
    if (action === 'pause' ? d.engine.strategyPaused : !d.engine.strategyPaused) continue;
    if (action === 'pause') d.engine.pauseStrategy(`operator ${actor}`);
    else d.engine.resumeStrategy();
    d.journal.saveStrategyState(d.id, d.gate.getState(), Date.now());
    done.push(d.id);
  }
  await record(action, actor, { target, deployments: done });
  if (done.length === 0) {
    return {
      ok: false,
      message: `${target === 'all' ? 'every pausable deployment' : target} is already ${action === 'pause' ? 'paused' : 'running'}`,
    };
  }
  return {
    ok: true,
    message:
      action === 'pause'
        ? `paused ${done.join(', ')}: resting orders cancelled, inventory kept, nothing placed until resume`
        : `resumed ${done.join(', ')}: resting orders placed again`,
    detail: { deployments: done.length },
  };
}
