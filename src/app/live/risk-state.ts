/**
 * The runtime's one account-level risk engine and its durable state (ARCHITECTURE "Risk state ... persisted on every
 * change and restored on start: a restart never lifts a halt"). Saves are coalesced: many changes in one turn of the
 * event loop make one write, and `flush` waits for the last one.
 */
import type { Config } from '../../core/config.js';
import type { EventBus } from '../../core/events.js';
import type { EngineMode } from '../../core/risk-port.js';
import {
  AccountRisk,
  createRiskEngine,
  type PreTradeRule,
  type RiskEngine,
  type RiskEngineState,
} from '../../risk/index.js';
import type { Store } from '../../store/index.js';
import { attachRiskPreferences, type RiskPreferencesService } from './risk-preferences.js';

/** The store key of the account risk engine's state. */
export const RISK_STATE_KEY = 'risk.state';

/** Writes the risk engine's state after every change, one write per event-loop turn at most. */
export class RiskStateSaver {
  private engine: RiskEngine | undefined;
  private pending = false;
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Binds the engine whose state is saved. */
  bind(engine: RiskEngine): void {
    this.engine = engine;
  }

  /** Schedules a save of the current state. */
  schedule = (): void => {
    if (this.pending || this.engine === undefined) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      const state = this.engine?.getState();
      if (state === undefined) return;
      this.last = this.last.then(() => this.store.kv.set(RISK_STATE_KEY, state)).catch(this.onError);
    });
  };

  /** Saves now and resolves when every scheduled save is written. */
  async flush(): Promise<void> {
    if (this.engine) {
      const state = this.engine.getState();
      this.last = this.last.then(() => this.store.kv.set(RISK_STATE_KEY, state)).catch(this.onError);
    }
    await this.last;
  }
}

/** What buildAccountRisk needs. */
export interface AccountRiskDeps {
  config: Config;
  mode: EngineMode;
  bus: EventBus;
  store: Store;
  /** Runtime gates every order passes (stale data, clock drift, the operator's entries switch). */
  extraRules: readonly PreTradeRule[];
  onSaveError: (err: unknown) => void;
}

/**
 * Builds the account's risk engine: the config's `risk` over the live defaults, each deployment's `risk` and
 * `capitalCap` as its per-strategy rules, the state of the previous run restored (halts, kill switch, equity
 * baselines, order budgets), and every later change saved.
 */
export async function buildAccountRisk(
  d: AccountRiskDeps,
): Promise<{ account: AccountRisk; saver: RiskStateSaver; preferences: RiskPreferencesService }> {
  const saver = new RiskStateSaver(d.store, d.onSaveError);
  const overrides: Record<string, unknown> = {};
  for (const dep of d.config.deployments) {
    overrides[dep.id] = {
      ...(dep.risk ?? {}),
      ...(dep.capitalCap !== undefined ? { capitalCap: dep.capitalCap } : {}),
    };
  }
  const engine = createRiskEngine(d.config.risk, {
    useDefaults: true,
    mode: d.mode,
    bus: d.bus,
    strategyOverrides: overrides,
    extraRules: d.extraRules,
    onStateChange: saver.schedule,
  });
  // The saved risk preferences (edited from the API) win over the config file's limits.
  const preferences = await attachRiskPreferences(d.store, engine);
  const saved = await d.store.kv.get<RiskEngineState>(RISK_STATE_KEY);
  if (saved !== undefined) engine.restore(saved);
  saver.bind(engine);
  const account = new AccountRisk(engine);
  account.expectMembers(d.config.deployments.map((dep) => dep.id));
  return { account, saver, preferences };
}
