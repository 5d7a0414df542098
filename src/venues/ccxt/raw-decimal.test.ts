import ccxt, { type Market } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { decimalText, exact } from '../../core/money.js';
import { toVenueFill, toVenueOrder } from './convert.js';
import { rawDecimal } from './raw-decimal.js';

const market = { symbol: 'BTC/USDT', id: 'BTCUSDT', base: 'BTC', quote: 'USDT', spot: true } as unknown as Market;

describe('rawDecimal: the exchange text behind a number ccxt parsed', () => {
  it('takes the first field whose text parses to the number, never one meaning something else', () => {
    expect(rawDecimal({ price: '0.30000000', qty: '2' }, ['price'], 0.3)).toBe('0.3');
    // `qty` holds another amount: not taken for 0.3.
    expect(rawDecimal({ qty: '2' }, ['qty'], 0.3)).toBeUndefined();
    expect(rawDecimal({ qty: '1e-8' }, ['qty'], 1e-8)).toBeUndefined();
    expect(rawDecimal(undefined, ['qty'], 1)).toBeUndefined();
  });

  it("a Binance trade parsed by ccxt keeps the exchange's digits past a double's 15", () => {
    const t = new ccxt.binance().parseTrade(
      {
        symbol: 'BTCUSDT',
        id: 7,
        orderId: 9,
        price: '12345678.12345678',
        qty: '0.00000001',
        commission: '0.00000123',
        commissionAsset: 'USDT',
        time: 1,
        isBuyer: true,
        isMaker: false,
      },
      market,
    );
    const f = toVenueFill(t, 'c1');
    expect(f.exact).toEqual({ price: '12345678.12345678', quantity: '0.00000001', fee: '0.00000123' });
    // Read from the double instead, the 16th digit would be lost.
    expect(decimalText(exact(f.price))).toBe('12345678.1234568');
  });

  it('a Binance user-data execution report keeps its last price, quantity and commission text', () => {
    // ccxt's watchMyTrades parses the stream's message with parseWsTrade.
    const ex = new ccxt.pro.binance();
    const t = ex.parseWsTrade(
      {
        e: 'executionReport',
        E: 2,
        s: 'BTCUSDT',
        c: 'c1',
        S: 'BUY',
        o: 'LIMIT',
        q: '1.00000000',
        p: '100.00000000',
        x: 'TRADE',
        X: 'PARTIALLY_FILLED',
        i: 9,
        l: '0.10000000',
        z: '0.30000000',
        L: '100.01000000',
        n: '0.00007500',
        N: 'USDT',
        T: 2,
        t: 11,
        m: true,
      },
      market,
    );
    expect(toVenueFill(t, 'c1').exact).toEqual({ price: '100.01', quantity: '0.1', fee: '0.000075' });
  });

  it('an order keeps its quantity and executed quantity text', () => {
    const o = new ccxt.binance().parseOrder(
      {
        symbol: 'BTCUSDT',
        orderId: 9,
        clientOrderId: 'c1',
        price: '100.00000000',
        origQty: '0.30000000',
        executedQty: '0.10000000',
        cummulativeQuoteQty: '10.00000000',
        status: 'PARTIALLY_FILLED',
        timeInForce: 'GTC',
        type: 'LIMIT',
        side: 'BUY',
        time: 1,
        updateTime: 2,
      },
      market,
    );
    expect(toVenueOrder(o).exact).toEqual({ quantity: '0.3', filledQuantity: '0.1' });
  });
});
