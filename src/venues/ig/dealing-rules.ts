import { VenueError } from '../../core/errors.js';

/** An IG distance: points, or a percentage of the price. */
export interface IgDistance {
  unit: 'POINTS' | 'PERCENTAGE';
  value: number;
}

/** The dealing rules of one market (GET /markets/{epic}) that decide rounding and validation before sending. */
export interface IgDealingRules {
  epic: string;
  minDealSize: IgDistance;
  minNormalStopOrLimitDistance: IgDistance;
  minControlledRiskStopDistance: IgDistance;
  maxStopOrLimitDistance: IgDistance;
  /** Price decimals (snapshot.decimalPlacesFactor). */
  priceDecimals: number;
  controlledRiskAllowed: boolean;
}

const decimalsOf = (x: number): number => {
  const s = String(x);
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
};

/** A distance in points at `price`. */
export function pointsOf(d: IgDistance, price: number): number {
  return d.unit === 'POINTS' ? d.value : (d.value / 100) * price;
}

/** Rounds a price level to the market's decimals. */
export function roundLevel(rules: IgDealingRules, level: number): number {
  const f = 10 ** rules.priceDecimals;
  return Math.round(level * f) / f;
}

/**
 * Rounds a deal size down to the precision of the minimum deal size (IG's lot precision) and checks the deal
 * against the rules: size at least the minimum, stop distance within [minimum, maximum] (the controlled-risk
 * minimum for a guaranteed stop, which the market must allow). Throws a non-retryable VenueError naming the rule.
 */
export function checkDeal(
  rules: IgDealingRules,
  deal: { size: number; price: number; stopDistance?: number; limitDistance?: number; guaranteedStop?: boolean },
): { size: number } {
  const step = 10 ** -decimalsOf(rules.minDealSize.value);
  const size = Math.floor(deal.size / step + 1e-9) * step;
  const rounded = Number(size.toFixed(decimalsOf(rules.minDealSize.value)));
  const min = pointsOf(rules.minDealSize, deal.price);
  const fail = (msg: string) =>
    new VenueError(`ig ${rules.epic}: ${msg}`, { retryable: false, venue: 'ig', code: 'VENUE_INVALID_ORDER' });
  if (!(rounded >= min)) throw fail(`size ${deal.size} is below the minimum deal size ${min}`);
  const max = pointsOf(rules.maxStopOrLimitDistance, deal.price);
  if (deal.guaranteedStop && !rules.controlledRiskAllowed)
    throw fail('guaranteed stops are not allowed on this market');
  if (deal.stopDistance !== undefined) {
    const need = pointsOf(
      deal.guaranteedStop ? rules.minControlledRiskStopDistance : rules.minNormalStopOrLimitDistance,
      deal.price,
    );
    if (deal.stopDistance < need) {
      throw fail(
        `stop distance ${deal.stopDistance} is below the minimum ${need}${deal.guaranteedStop ? ' for a guaranteed stop' : ''}`,
      );
    }
    if (deal.stopDistance > max) throw fail(`stop distance ${deal.stopDistance} is above the maximum ${max}`);
  }
  if (deal.limitDistance !== undefined) {
    const need = pointsOf(rules.minNormalStopOrLimitDistance, deal.price);
    if (deal.limitDistance < need) throw fail(`limit distance ${deal.limitDistance} is below the minimum ${need}`);
    if (deal.limitDistance > max) throw fail(`limit distance ${deal.limitDistance} is above the maximum ${max}`);
  }
  return { size: rounded };
}
