import { VenueError } from '../../core/errors.js';
import { type Exact, exact, quantise, type StepRounding } from '../../core/money.js';

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

/** Decimal places of a number read as the decimal it stands for (0.5 → 1, 1 → 0, 1e-7 → 7). */
const decimalsOf = (x: number): number => exact(x, 'IG dealing rule').decimalPlaces();

/** IG's lot, exact: one unit in the last decimal of the minimum deal size (0.5 → 0.1, 1 → 1, 0.04 → 0.01). */
export function lotStep(rules: Pick<IgDealingRules, 'minDealSize'>): Exact {
  return exact(`1e-${decimalsOf(rules.minDealSize.value)}`);
}

/** IG's price tick, exact: one unit in the market's last price decimal. */
export function tickStep(rules: Pick<IgDealingRules, 'priceDecimals'>): Exact {
  return exact(`1e-${rules.priceDecimals}`);
}

/** A deal size on IG's lot, toward zero (never more than asked), read from its exact decimal (docs/money.md). */
export function dealSize(rules: Pick<IgDealingRules, 'minDealSize'>, size: number | string | Exact): number {
  return quantise(exact(size, 'IG deal size'), lotStep(rules), 'toward_zero').toNumber();
}

/** A price level on the market's tick, rounded the given way in exact decimals (docs/money.md). */
export function dealLevel(
  rules: Pick<IgDealingRules, 'priceDecimals'>,
  level: number | string | Exact,
  rounding: StepRounding,
): number {
  return quantise(exact(level, 'IG level'), tickStep(rules), rounding).toNumber();
}

/** A distance in points at `price`. */
export function pointsOf(d: IgDistance, price: number): number {
  return d.unit === 'POINTS' ? d.value : (d.value / 100) * price;
}

/** Rounds a price level to the market's decimals. */
export function roundLevel(rules: IgDealingRules, level: number): number {
  return dealLevel(rules, level, 'nearest');
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
  const rounded = dealSize(rules, deal.size);
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
