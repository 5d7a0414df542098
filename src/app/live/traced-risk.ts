/**
 * The risk decision as a span of the order's trace (docs/operations.md "Traces"): a decorator of a deployment's
 * risk hook, used only while tracing is on, so the kernel and the risk engine never see tracing.
 */
import { trace } from '@opentelemetry/api';
import type { OrderIntent, RiskHook, RiskView } from '../../core/index.js';
import { inSpan } from '../../core/tracing.js';

/** `hook` with `check` inside a `risk.check` span that records the decision (`accepted`, or the rule's code). */
export function tracedRiskHook(hook: RiskHook): RiskHook {
  const check = (intent: OrderIntent, view: RiskView) =>
    inSpan(
      'risk.check',
      { attributes: { 'order.symbol': intent.symbol, 'order.side': intent.side, 'strategy.id': intent.strategyId } },
      () => {
        const refusal = hook.check(intent, view);
        trace.getActiveSpan()?.setAttribute('risk.decision', refusal === null ? 'accepted' : refusal.reason);
        return refusal;
      },
    );
  return new Proxy(hook, {
    get(target, prop) {
      if (prop === 'check') return check;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
