import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RiskConfig } from '../src/core/config.js';
import { defineInstrument } from '../src/core/instrument.js';
import { exact } from '../src/core/money.js';
import type { OrderIntent } from '../src/core/order.js';
import { createRiskEngine, type RiskEngine, SimpleRiskView } from '../src/risk/index.js';

const SYMBOLS = ['AAA', 'BBB', 'CCC'] as const;
const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

const pos = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });

const configArb: fc.Arbitrary<RiskConfig> = fc.record({
  maxOrderNotional: opt(pos(1, 1e6)),
  maxPositionNotional: opt(pos(1, 1e6)),
  capitalCap: opt(pos(1, 1e6)),
  maxGrossExposure: opt(pos(0.05, 5)),
  maxConcentration: opt(pos(0.01, 1)),
  priceBandAtr: opt(pos(0.5, 5)),
  marginFloor: opt(pos(0, 1)),
  insufficientFunds: opt(fc.record({ feeRate: pos(0, 0.01) })),
});

const stateArb = fc.record({
  equity: fc.oneof(pos(-1e4, 1e7), fc.constant(0)),
  cash: pos(-1e4, 1e7),
  freeMargin: pos(-1e4, 1e7),
  prices: fc.tuple(pos(0.01, 1e4), pos(0.01, 1e4), pos(0.01, 1e4)),
  atrs: fc.tuple(opt(pos(0, 100)), opt(pos(0, 100)), opt(pos(0, 100))),
  positions: fc.tuple(pos(-500, 500), pos(-500, 500), fc.constant(0)),
  multipliers: fc.tuple(fc.constantFrom(1, 10), fc.constant(1), fc.constantFrom(1, 50)),
  strategyExposure: pos(0, 1e6),
});

const intentArb = fc.record({
  symbolIndex: fc.integer({ min: 0, max: 2 }),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  type: fc.constantFrom('market' as const, 'limit' as const, 'stop' as const, 'stop_limit' as const),
  quantity: pos(1e-6, 2000),
  priceFactor: pos(0.5, 1.5),
  stopFactor: pos(0.5, 1.5),
  reduceOnly: fc.boolean(),
});

type State = typeof stateArb extends fc.Arbitrary<infer S> ? S : never;
type IntentSpec = typeof intentArb extends fc.Arbitrary<infer S> ? S : never;

function buildView(s: State): SimpleRiskView {
  const v = new SimpleRiskView('backtest');
  v.time = T0;
  v.equityValue = s.equity;
  v.cashValue = s.cash;
  v.freeMarginValue = s.freeMargin;
  v.strategyExposures.set('s', s.strategyExposure);
  SYMBOLS.forEach((sym, i) => {
    v.prices.set(sym, s.prices[i]);
    const atr = s.atrs[i];
    if (atr !== undefined) v.atrs.set(sym, atr);
    v.instruments.set(
      sym,
      defineInstrument({ symbol: sym, multiplier: s.multipliers[i], lotSize: 1e-9, minQty: 1e-9 }),
    );
    v.setPosition(sym, s.positions[i]);
  });
  return v;
}

function buildIntent(spec: IntentSpec, view: SimpleRiskView): OrderIntent {
  const symbol = SYMBOLS[spec.symbolIndex];
  const last = view.lastPrice(symbol);
  const intent: OrderIntent = { strategyId: 's', symbol, side: spec.side, type: spec.type, quantity: spec.quantity };
  if (spec.type === 'limit' || spec.type === 'stop_limit') intent.price = last * spec.priceFactor;
  if (spec.type === 'stop' || spec.type === 'stop_limit') intent.stopPrice = last * spec.stopFactor;
  if (spec.reduceOnly) intent.reduceOnly = true;
  return intent;
}

/** The limits an order breaches, computed from the rules' definitions (docs/risk.md), independently of src/risk. */
function breaches(cfg: RiskConfig, view: SimpleRiskView, o: OrderIntent): string[] {
  const p = view.positionQuantity(o.symbol);
  const np = p + (o.side === 'buy' ? o.quantity : -o.quantity);
  const m = view.instrument(o.symbol).multiplier;
  const last = view.lastPrice(o.symbol);
  const ref = o.type === 'market' ? last : o.type === 'stop' ? (o.stopPrice as number) : (o.price as number);
  const orderValue = o.quantity * ref * m;
  const positionValue = Math.abs(np) * ref * m;
  const equity = view.equity();
  const overEquity = (x: number) => (equity > 0 ? x / equity : x > 0 ? Number.POSITIVE_INFINITY : 0);
  const out: string[] = [];
  // Money limits are breached when the amounts the doubles stand for are (docs/money.md): in exact decimals, so a
  // limit one float step below a value that prints the same is no breach.
  const x = (v: number) => exact(v, 'test amount');
  const orderExact = x(o.quantity).mul(x(ref)).mul(x(m));
  const after = o.side === 'buy' ? x(p).plus(x(o.quantity)) : x(p).minus(x(o.quantity));
  const positionExact = after.abs().mul(x(ref)).mul(x(m));
  if (cfg.maxOrderNotional !== undefined && orderExact.gt(x(cfg.maxOrderNotional))) out.push('MAX_NOTIONAL');
  if (cfg.maxPositionNotional !== undefined && positionExact.gt(x(cfg.maxPositionNotional))) out.push('POSITION_LIMIT');
  if (cfg.capitalCap !== undefined && x(view.strategyExposure('s')).plus(orderExact).gt(x(cfg.capitalCap)))
    out.push('CAPITAL_CAP');
  const grossAfter = view.grossExposure() + (Math.abs(np) - Math.abs(p)) * ref * m;
  if (cfg.maxGrossExposure !== undefined && overEquity(grossAfter) > cfg.maxGrossExposure) out.push('GROSS_EXPOSURE');
  if (cfg.maxConcentration !== undefined && overEquity(positionValue) > cfg.maxConcentration) out.push('CONCENTRATION');
  if (cfg.marginFloor !== undefined && cfg.marginFloor > 0) {
    const ratio = equity > 0 ? view.freeMargin() / equity : Number.NEGATIVE_INFINITY;
    if (ratio < cfg.marginFloor) out.push('MARGIN_FLOOR');
  }
  if (cfg.insufficientFunds !== undefined && o.side === 'buy') {
    if (orderValue + orderValue * (cfg.insufficientFunds.feeRate ?? 0) > view.cash()) out.push('INSUFFICIENT_FUNDS');
  }
  const atr = view.atr(o.symbol);
  if (cfg.priceBandAtr !== undefined && o.type !== 'market' && atr > 0) {
    const band = cfg.priceBandAtr * atr;
    for (const px of [o.price, o.stopPrice]) if (px !== undefined && Math.abs(px - last) > band) out.push('PRICE_BAND');
  }
  return out;
}

const isReducing = (view: SimpleRiskView, o: OrderIntent): boolean => {
  const p = view.positionQuantity(o.symbol);
  const opposite = o.side === 'buy' ? p < 0 : p > 0;
  return opposite && (o.reduceOnly === true || o.quantity <= Math.abs(p) * (1 + 1e-9));
};

const EXPOSURE_AND_HALT_CODES = new Set([
  'MAX_NOTIONAL',
  'POSITION_LIMIT',
  'CAPITAL_CAP',
  'GROSS_EXPOSURE',
  'CONCENTRATION',
  'PRICE_BAND',
  'MARGIN_FLOOR',
  'INSUFFICIENT_FUNDS',
  'ORDER_RATE',
  'HALTED',
  'KILL_SWITCH',
  'BREAKER_DAILY_LOSS',
  'BREAKER_EMERGENCY',
  'BREAKER_MAX_DRAWDOWN',
  'BREAKER_CONSECUTIVE_LOSSES',
  'STOPLOSS_GUARD',
  'COOLDOWN',
]);

const engineFor = (cfg: RiskConfig): RiskEngine => createRiskEngine(cfg, { useDefaults: false, mode: 'backtest' });

describe('risk engine properties', () => {
  it('never accepts an order that breaches a configured limit (random limits)', () => {
    fc.assert(
      fc.property(configArb, stateArb, intentArb, (cfg, state, spec) => {
        const view = buildView(state);
        const intent = buildIntent(spec, view);
        const err = engineFor(cfg).check(intent, view);
        if (err === null && !isReducing(view, intent)) expect(breaches(cfg, view, intent)).toEqual([]);
        // and the converse: a rejection names a rule that really is breached (or an invalid order)
        if (err !== null && !isReducing(view, intent) && err.reason !== 'INVALID_ORDER') {
          expect(breaches(cfg, view, intent)).toContain(err.reason);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('never accepts an order that breaches a configured limit (limits placed at the boundary)', () => {
    // Each limit is the order's own measured value times a factor around 1 (often exactly 1), so runs probe
    // the edge where an off-by-a-little rule would accept a breach.
    const factor = opt(fc.oneof(fc.constant(1), pos(0.98, 1.02), pos(0.5, 2)));
    const factorsArb = fc.tuple(factor, factor, factor, factor, factor, factor, factor, factor);
    fc.assert(
      fc.property(factorsArb, stateArb, intentArb, (f, state, spec) => {
        const view = buildView(state);
        const intent = buildIntent(spec, view);
        fc.pre(!isReducing(view, intent));
        const p = view.positionQuantity(intent.symbol);
        const np = p + (intent.side === 'buy' ? intent.quantity : -intent.quantity);
        const m = view.instrument(intent.symbol).multiplier;
        const last = view.lastPrice(intent.symbol);
        const ref =
          intent.type === 'market'
            ? last
            : intent.type === 'stop'
              ? (intent.stopPrice as number)
              : (intent.price as number);
        const eq = view.equity();
        const orderValue = intent.quantity * ref * m;
        const measured = [
          orderValue,
          Math.abs(np) * ref * m,
          view.strategyExposure('s') + orderValue,
          (view.grossExposure() + (Math.abs(np) - Math.abs(p)) * ref * m) / eq,
          (Math.abs(np) * ref * m) / eq,
          Math.max(Math.abs((intent.price ?? last) - last), Math.abs((intent.stopPrice ?? last) - last)) /
            view.atr(intent.symbol),
          view.freeMargin() / eq,
          intent.side === 'buy' && orderValue > 0 ? view.cash() / orderValue - 1 : Number.NaN,
        ];
        const lim = (i: number, max = Number.POSITIVE_INFINITY): number | undefined => {
          const v = f[i] === undefined ? Number.NaN : measured[i] * (f[i] as number);
          return v > 0 && v <= max && Number.isFinite(v) ? v : undefined;
        };
        const cfg: RiskConfig = {};
        const set = <K extends keyof RiskConfig>(k: K, v: RiskConfig[K] | undefined) => {
          if (v !== undefined) cfg[k] = v;
        };
        set('maxOrderNotional', lim(0));
        set('maxPositionNotional', lim(1));
        set('capitalCap', lim(2));
        set('maxGrossExposure', lim(3));
        set('maxConcentration', lim(4, 1));
        set('priceBandAtr', lim(5));
        set('marginFloor', lim(6, 1));
        const fee = lim(7, 0.1);
        if (fee !== undefined) cfg.insufficientFunds = { feeRate: fee };
        const err = engineFor(cfg).check(intent, view);
        const b = breaches(cfg, view, intent);
        if (err === null) expect(b).toEqual([]);
        else if (err.reason !== 'INVALID_ORDER') expect(b).toContain(err.reason);
      }),
      { numRuns: 3000 },
    );
  });

  it('never blocks reduce-only or exposure-reducing orders by exposure limits, halts or the kill switch', () => {
    fc.assert(
      fc.property(
        configArb,
        stateArb,
        intentArb,
        fc.constantFrom('none', 'kill', 'halt'),
        (cfg, state, spec, haltKind) => {
          const view = buildView(state);
          const symbol = SYMBOLS[spec.symbolIndex % 2]; // the two symbols that may hold a position
          const p = view.positionQuantity(symbol);
          fc.pre(p !== 0);
          const intent = buildIntent({ ...spec, symbolIndex: spec.symbolIndex % 2 }, view);
          intent.side = p > 0 ? 'sell' : 'buy';
          if (!spec.reduceOnly) intent.quantity = Math.min(intent.quantity, Math.abs(p));
          const engine = createRiskEngine(
            { ...cfg, orderRate: { perMinute: 1, perSecond: 1 }, breakers: { maxDrawdown: 0.01 } },
            { useDefaults: false, mode: 'backtest' },
          );
          engine.check(
            { ...intent, side: intent.side === 'buy' ? 'sell' : 'buy', symbol: 'CCC', reduceOnly: false },
            view,
          );
          if (haltKind === 'kill') engine.killSwitch('test', 'property', T0);
          if (haltKind === 'halt') engine.halt('test', 'property', undefined, T0);
          const err = engine.check(intent, view);
          if (err !== null) expect(EXPOSURE_AND_HALT_CODES.has(err.reason)).toBe(false);
          expect(err).toBeNull();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a halt or the kill switch blocks every order that adds exposure', () => {
    fc.assert(
      fc.property(stateArb, intentArb, fc.constantFrom('kill', 'halt'), (state, spec, kind) => {
        const view = buildView(state);
        const intent = buildIntent(spec, view);
        fc.pre(!isReducing(view, intent));
        const engine = engineFor({});
        if (kind === 'kill') engine.killSwitch('t', 'p', T0);
        else engine.halt('t', 'p', undefined, T0);
        const err = engine.check(intent, view);
        expect(err).not.toBeNull();
        if (!intent.reduceOnly) expect(err?.reason).toBe(kind === 'kill' ? 'KILL_SWITCH' : 'HALTED');
      }),
      { numRuns: 500 },
    );
  });

  it('equity paths: entries are blocked exactly while the daily-loss or drawdown breaker stands', () => {
    const stepArb = fc.record({ dtMinutes: fc.integer({ min: 1, max: 36 * 60 }), change: pos(-0.06, 0.05) });
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        pos(0.01, 0.2),
        pos(0.02, 0.4),
        (steps, dailyLoss, maxDrawdown) => {
          const engine = engineFor({ breakers: { dailyLoss, maxDrawdown } });
          const view = buildView({
            equity: 100_000,
            cash: 1e6,
            freeMargin: 1e6,
            prices: [10, 10, 10],
            atrs: [undefined, undefined, undefined],
            positions: [0, 0, 0],
            multipliers: [1, 1, 1],
            strategyExposure: 0,
          });
          // Independent model of the breakers as documented.
          let t = T0;
          let equity = 100_000;
          let lastEquity = Number.NaN;
          let day = Number.NaN;
          let dayStart = Number.NaN;
          let peak = Number.NaN;
          let dailyUntil = Number.NEGATIVE_INFINITY;
          let ddHalted = false;
          for (const step of steps) {
            t += step.dtMinutes * 60_000;
            equity *= 1 + step.change;
            const d = Math.floor(t / DAY);
            if (d !== day) {
              dayStart = Number.isNaN(lastEquity) ? equity : lastEquity;
              day = d;
            }
            lastEquity = equity;
            peak = Number.isNaN(peak) ? equity : Math.max(peak, equity);
            if ((dayStart - equity) / dayStart >= dailyLoss && !(t < dailyUntil)) dailyUntil = t + DAY;
            if ((peak - equity) / peak >= maxDrawdown) ddHalted = true;
            view.time = t;
            view.equityValue = equity;
            engine.onEquity(view);
            const err = engine.check(
              { strategyId: 's', symbol: 'AAA', side: 'buy', type: 'market', quantity: 1 },
              view,
            );
            const blocked = ddHalted || t < dailyUntil;
            expect(err === null).toBe(!blocked);
            if (err) expect(['BREAKER_MAX_DRAWDOWN', 'BREAKER_DAILY_LOSS']).toContain(err.reason);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('order budgets hold in every sliding second and minute', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        (gaps, perMinute, perSecond) => {
          const engine = engineFor({ orderRate: { perMinute, perSecond } });
          const view = buildView({
            equity: 1e6,
            cash: 1e6,
            freeMargin: 1e6,
            prices: [10, 10, 10],
            atrs: [undefined, undefined, undefined],
            positions: [0, 0, 0],
            multipliers: [1, 1, 1],
            strategyExposure: 0,
          });
          const accepted: number[] = [];
          let t = T0;
          for (const g of gaps) {
            t += g;
            view.time = t;
            const err = engine.check(
              { strategyId: 's', symbol: 'AAA', side: 'buy', type: 'market', quantity: 1 },
              view,
            );
            const inSecond = accepted.filter((a) => a > t - 1000).length;
            const inMinute = accepted.filter((a) => a > t - 60_000).length;
            // Accepted exactly when both windows have room.
            expect(err === null).toBe(inSecond < perSecond && inMinute < perMinute);
            if (err === null) accepted.push(t);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
