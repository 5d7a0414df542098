import { describe, expect, it } from 'vitest';
import { scoreSignals, type TrackedSignal } from './signal-scores.js';

const card = (over: Partial<TrackedSignal>): TrackedSignal => ({
  id: 'x',
  runId: 'r',
  provider: 'a',
  model: 'm-a',
  createdAt: 0,
  action: 'buy',
  symbol: 'BTC/USDT',
  size: 1,
  confidence: 0.5,
  reasoning: 'r',
  status: 'suggested',
  ...over,
});

describe('scoreSignals', () => {
  it('judges buys and sells from the reference to the last price and sums them per model', () => {
    const { outcomes, models } = scoreSignals(
      [
        card({ id: '1', referencePrice: 100, size: 2 }), // +20
        card({ id: '2', action: 'sell', referencePrice: 100, size: 1 }), // -10
        card({ id: '3', provider: 'b', model: 'm-b', action: 'sell', symbol: 'ETH/USDT', referencePrice: 50 }), // +5
        card({ id: '4', provider: 'b', model: 'm-b', symbol: 'SOL/USDT', referencePrice: 10, status: 'rejected' }),
        card({ id: '5', provider: 'b', model: 'm-b', status: 'executed' }), // no reference price
      ],
      { 'BTC/USDT': 110, 'ETH/USDT': 45 },
    );
    expect(outcomes.map((o) => [o.id, o.pnlIfFollowed, o.hit])).toEqual([
      ['1', 20, true],
      ['2', -10, false],
      ['3', 5, true],
      ['4', undefined, undefined],
      ['5', undefined, undefined],
    ]);
    expect(models).toEqual([
      {
        provider: 'a',
        model: 'm-a',
        signals: 2,
        judged: 2,
        hits: 1,
        hitRate: 0.5,
        pnlIfFollowed: 10,
        executed: 0,
        rejected: 0,
      },
      {
        provider: 'b',
        model: 'm-b',
        signals: 3,
        judged: 1,
        hits: 1,
        hitRate: 1,
        pnlIfFollowed: 5,
        executed: 1,
        rejected: 1,
      },
    ]);
  });

  it('has no hit rate before any card can be judged', () => {
    expect(scoreSignals([card({ referencePrice: 100 })], {}).models[0].hitRate).toBeNull();
  });
});
