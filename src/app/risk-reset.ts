/**
 * Breaker resets while the runtime is down (`tradeforge risk reset NAME` with no runtime running): the saved state
 * of the account's risk engine is loaded, the breaker reset (with its baseline rebased, as a live reset does), saved
 * back and audited. The next start restores the result.
 */
import type { Config } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import { BREAKER_NAMES, createRiskEngine, isBreakerName, type RiskEngineState } from '../risk/index.js';
import type { Store } from '../store/index.js';
import { RISK_STATE_KEY } from './live/risk-state.js';
import { audit } from './reconcile.js';

/** The outcome of a reset: whether the breaker was active. */
export interface ResetOutcome {
  ok: boolean;
  message: string;
}

/** Resets `breaker` in the stored risk state; ValidationError for an unknown name. */
export async function resetBreakerInStore(
  store: Store,
  config: Config,
  breaker: string,
  actor: string,
): Promise<ResetOutcome> {
  if (!isBreakerName(breaker)) {
    throw new ValidationError(`unknown breaker "${breaker}" (one of ${BREAKER_NAMES.join(', ')})`, 'breaker');
  }
  const saved = await store.kv.get<RiskEngineState>(RISK_STATE_KEY);
  if (saved === undefined) return { ok: false, message: `${breaker} was not tripped (no saved risk state)` };
  const engine = createRiskEngine(config.risk, { useDefaults: true, mode: 'paper' });
  engine.restore(saved);
  const was = engine.reset(breaker, actor, undefined, Date.now());
  if (was) await store.kv.set(RISK_STATE_KEY, engine.getState());
  if (breaker === 'KILL_SWITCH' && was) await store.kv.set('killswitch.state', { event: 'killswitch.recovered.v1' });
  await audit(store, {
    action: 'control.risk_reset',
    subject: 'runtime',
    details: { breaker, wasActive: was, runtime: 'stopped' },
    time: Date.now(),
    actor,
  });
  return was
    ? { ok: true, message: `${breaker} reset; the next start resumes new entries` }
    : { ok: false, message: `${breaker} was not tripped` };
}
