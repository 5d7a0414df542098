import { describe, expect, it } from 'vitest';
import type { Instrument } from '../../core/index.js';
import { checkFilters, checkPercentPrice, percentPriceBand } from './market-filters.js';

const inst: Instrument = {
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  kind: 'spot',
  tickSize: 0.01,
  lotSize: 0.001,
  minQty: 0.002,
  minNotional: 10,
  multiplier: 1,
};

describe('checkFilters', () => {
  it('accepts an order on tick and step above the minimums (float noise included)', () => {
    expect(checkFilters(inst, { side: 'buy', price: 100.07, quantity: 0.3 })).toBeNull();
    expect(checkFilters(inst, { side: 'buy', price: 100 + 0.1 + 0.2, quantity: 0.1 + 0.2 })).toBeNull();
  });
  it('names the filter an order breaks', () => {
    expect(checkFilters(inst, { side: 'buy', price: 100.005, quantity: 1 })).toMatch(/PRICE_FILTER/);
    expect(checkFilters(inst, { side: 'sell', stopPrice: 99.999, quantity: 1 })).toMatch(/stop price .*PRICE_FILTER/);
    expect(checkFilters(inst, { side: 'buy', price: 100, quantity: 0.0015 })).toMatch(/step size .*LOT_SIZE/);
    expect(checkFilters(inst, { side: 'buy', price: 100, quantity: 0.001 })).toMatch(
      /below the minimum 0.002 \(LOT_SIZE\)/,
    );
    expect(checkFilters(inst, { side: 'buy', price: 100, quantity: 0.09 })).toMatch(
      /notional 9 is below the minimum 10/,
    );
  });
  it('checks a market order notional only against a known reference price', () => {
    expect(checkFilters(inst, { side: 'buy', quantity: 0.05 })).toBeNull();
    expect(checkFilters(inst, { side: 'buy', quantity: 0.05, referencePrice: 100 })).toMatch(/NOTIONAL/);
  });
});

describe('percent price', () => {
  const market = (filters: Record<string, unknown>[]) => ({ info: { filters } }) as never;
  it('reads PERCENT_PRICE_BY_SIDE and PERCENT_PRICE from the market info', () => {
    expect(
      percentPriceBand(
        market([
          { filterType: 'PRICE_FILTER' },
          {
            filterType: 'PERCENT_PRICE_BY_SIDE',
            bidMultiplierUp: '5',
            bidMultiplierDown: '0.2',
            askMultiplierUp: '4',
            askMultiplierDown: '0.1',
          },
        ]),
      ),
    ).toEqual({ filter: 'PERCENT_PRICE_BY_SIDE', buyUp: 5, buyDown: 0.2, sellUp: 4, sellDown: 0.1 });
    expect(
      percentPriceBand(market([{ filterType: 'PERCENT_PRICE', multiplierUp: '1.1', multiplierDown: '0.9' }])),
    ).toEqual({ filter: 'PERCENT_PRICE', buyUp: 1.1, buyDown: 0.9, sellUp: 1.1, sellDown: 0.9 });
    expect(percentPriceBand(market([]))).toBeUndefined();
  });
  it('bounds each side by its own multipliers', () => {
    const band = { filter: 'PERCENT_PRICE_BY_SIDE', buyUp: 1.2, buyDown: 0.8, sellUp: 1.5, sellDown: 0.5 };
    expect(checkPercentPrice(band, 'buy', 120, 100)).toBeNull();
    expect(checkPercentPrice(band, 'buy', 121, 100)).toMatch(/buy price 121 is outside 80..120/);
    expect(checkPercentPrice(band, 'sell', 140, 100)).toBeNull();
    expect(checkPercentPrice(band, 'sell', 49, 100)).toMatch(/sell price 49 is outside 50..150/);
  });
});
