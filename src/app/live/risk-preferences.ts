/**
 * Risk preferences of a running runtime (UI-5): limits edited from the API, saved in the store so a restart keeps
 * them, applied to the account's risk engine at once, and audited. Saved values win over the config file's for
 * their keys (docs/risk.md "Risk preferences"); `null` drops a saved value and the file's comes back.
 */
import { ConfigError } from '../../core/errors.js';
import type { RiskConfig } from '../../core/config.js';
import type { RiskEngine } from '../../risk/engine.js';
import {
  type Loosening,
  loosenings,
  patchPreferences,
  preferencesOf,
  type RiskPreferences,
  type RiskPreferencesPatch,
  riskPreferencesPatchSchema,
  withPreferences,
} from '../../risk/preferences.js';
import type { Store } from '../../store/index.js';
import { audit } from '../reconcile.js';

/** The store key of the saved preferences. */
export const RISK_PREFERENCES_KEY = 'risk.preferences';

/** The limits as the API shows them: in force, from the config file (over the defaults), and saved. */
export interface RiskPreferencesView {
  effective: RiskPreferences;
  file: RiskPreferences;
  saved: RiskPreferences;
}

/** The outcome of a change: applied, or refused because it loosens and was not confirmed. */
export type RiskPreferencesResult =
  | { ok: true; view: RiskPreferencesView; loosened: Loosening[] }
  | { ok: false; loosened: Loosening[] };

/** Reads the saved preferences; a stored value the schema refuses stops startup naming it. */
export async function loadRiskPreferences(store: Store): Promise<RiskPreferences> {
  const raw = await store.kv.get<unknown>(RISK_PREFERENCES_KEY);
  if (raw === undefined) return {};
  const r = riskPreferencesPatchSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ConfigError(`store ${RISK_PREFERENCES_KEY}.${i.path.join('.')}`, i.message);
  }
  return patchPreferences({}, r.data);
}

/** The runtime's risk preferences over the account engine. */
export class RiskPreferencesService {
  private saved: RiskPreferences;
  private chain: Promise<unknown> = Promise.resolve();

  /** `file` is the engine's config before preferences (the config file over the live defaults). */
  constructor(
    private readonly store: Store,
    private readonly engine: RiskEngine,
    private readonly file: RiskConfig,
    saved: RiskPreferences,
  ) {
    this.saved = saved;
  }

  /** The limits in force, from the file, and saved. */
  view(): RiskPreferencesView {
    return { effective: preferencesOf(this.engine.config), file: preferencesOf(this.file), saved: { ...this.saved } };
  }

  /**
   * Applies a change: refused (nothing saved) when it raises or removes a limit without `confirmLoosening`;
   * otherwise saved, applied to the risk engine, then audited. Changes are applied one at a time.
   */
  apply(patch: RiskPreferencesPatch, confirmLoosening: boolean, actor: string): Promise<RiskPreferencesResult> {
    const run = async (): Promise<RiskPreferencesResult> => {
      const saved = patchPreferences(this.saved, patch);
      const before = this.engine.config;
      const after = withPreferences(this.file, saved);
      const loosened = loosenings(before, after);
      if (loosened.length > 0 && !confirmLoosening) return { ok: false, loosened };
      // Saved first: when the write fails, the engine keeps its limits too (what runs is what a restart loads).
      await this.store.kv.set(RISK_PREFERENCES_KEY, saved);
      this.engine.updateLimits(after);
      this.saved = saved;
      await audit(this.store, {
        action: 'risk.preferences.changed',
        subject: 'risk',
        actor,
        time: Date.now(),
        details: { patch, before: preferencesOf(before), after: preferencesOf(after), loosened },
      });
      return { ok: true, view: this.view(), loosened };
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}

/** Applies the saved preferences to a freshly built engine and returns the service that edits them. */
export async function attachRiskPreferences(store: Store, engine: RiskEngine): Promise<RiskPreferencesService> {
  const saved = await loadRiskPreferences(store);
  const file = engine.config;
  if (Object.keys(saved).length > 0) engine.updateLimits(withPreferences(file, saved));
  return new RiskPreferencesService(store, engine, file, saved);
}
