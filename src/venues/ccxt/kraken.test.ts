import type { Order } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { isKrakenClientOrderId, KrakenExecutionOrders, krakenClientOrderId, unifiedKrakenOrder } from './kraken.js';

describe('Kraken cl_ord_id', () => {
  it('accepts long and short UUIDs and free text up to 18 printable characters', () => {
    expect(isKrakenClientOrderId('6d1b345e-2821-40e2-ad83-4ecb18a06876')).toBe(true);
    expect(isKrakenClientOrderId('da8e4ad59b78481c93e589746b0cf91f')).toBe(true);
    expect(isKrakenClientOrderId('arb-20240509-00010')).toBe(true);
    expect(isKrakenClientOrderId('arb-20240509-000100')).toBe(false);
    expect(isKrakenClientOrderId('with space')).toBe(false);
    expect(isKrakenClientOrderId('')).toBe(false);
  });

  it('keeps an id Kraken accepts and turns a longer one into the same UUID every time', () => {
    expect(krakenClientOrderId('conflim1a2b3c')).toBe('conflim1a2b3c');
    const long = '0a1b2c3d-mk7x9q01-42';
    const k = krakenClientOrderId(long);
    expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(krakenClientOrderId(long)).toBe(k);
    expect(krakenClientOrderId(`${long}x`)).not.toBe(k);
  });
});

describe('unifiedKrakenOrder', () => {
  it("reads a stop's trigger from stopLossPrice and maps a derived cl_ord_id back to our id", () => {
    const ours = 'deployment-run-order-000042';
    const kid = krakenClientOrderId(ours);
    const raw = { id: 'O1', clientOrderId: kid, type: 'market', stopLossPrice: 39_000 } as unknown as Order;
    const o = unifiedKrakenOrder(raw, new Map([[kid, ours]]));
    expect(o.triggerPrice).toBe(39_000);
    expect(o.clientOrderId).toBe(ours);
    const plain = unifiedKrakenOrder({ id: 'O2', clientOrderId: 'short1' } as unknown as Order, new Map());
    expect(plain.triggerPrice).toBeUndefined();
    expect(plain.clientOrderId).toBe('short1');
  });

  it('reads a closed order short of its volume as expired, a fully executed one as closed', () => {
    const part = unifiedKrakenOrder(
      { id: 'O3', status: 'closed', amount: 1, filled: 0.4 } as unknown as Order,
      new Map(),
    );
    expect(part.status).toBe('expired');
    const full = unifiedKrakenOrder(
      { id: 'O4', status: 'closed', amount: 1, filled: 1 } as unknown as Order,
      new Map(),
    );
    expect(full.status).toBe('closed');
  });
});

describe('KrakenExecutionOrders', () => {
  // What ccxt's watchOrders hands back: parsed orders whose `info` is Kraken's raw event.
  const update = (info: Record<string, unknown>) => ({ id: info.order_id, info }) as unknown as Order;
  const whole = {
    order_id: 'OAAAAA-BBBBB-CCCCCC',
    cl_ord_id: 'ours-1',
    symbol: 'BTC/USD',
    side: 'sell',
    order_type: 'stop-loss-limit',
    order_qty: 0.5,
    limit_price: 29_000,
    stop_price: 29_500,
    cum_qty: 0,
    exec_type: 'pending_new',
    order_status: 'pending_new',
    timestamp: '2026-01-02T03:04:05.000000Z',
  };

  it("folds an order's later events, which carry only what changed, into its whole record", () => {
    const book = new KrakenExecutionOrders();
    const [first] = book.fold([update(whole)]);
    expect(first).toMatchObject({
      id: whole.order_id,
      clientOrderId: 'ours-1',
      symbol: 'BTC/USD',
      side: 'sell',
      type: 'limit',
      price: 29_000,
      triggerPrice: 29_500,
      amount: 0.5,
      filled: 0,
      status: 'open',
      timestamp: Date.parse(whole.timestamp),
    });
    const [done] = book.fold([
      update({
        order_id: whole.order_id,
        exec_type: 'canceled',
        order_status: 'canceled',
        cum_qty: 0.2,
        cum_cost: 5_900,
        avg_price: 29_500,
        timestamp: '2026-01-02T03:05:00.000000Z',
      }),
    ]);
    expect(done).toMatchObject({
      symbol: 'BTC/USD',
      amount: 0.5,
      filled: 0.2,
      remaining: 0.3,
      average: 29_500,
      status: 'canceled',
      timestamp: Date.parse(whole.timestamp),
      lastUpdateTimestamp: Date.parse('2026-01-02T03:05:00.000000Z'),
    });
    // ccxt may hand an older event back (its cache returns as many entries as it had appends): not folded again.
    const opened = update(whole);
    const other = new KrakenExecutionOrders();
    other.fold([opened]);
    const fill = update({ order_id: whole.order_id, exec_type: 'filled', order_status: 'filled', cum_qty: 0.5 });
    expect(other.fold([opened, fill]).map((o) => o.status)).toEqual(['closed']);
    expect(other.fold([opened])).toEqual([]);
    const [filled] = book.fold([update({ order_id: 'OX', exec_type: 'filled', order_status: 'filled', cum_qty: 1 })]);
    // An order never seen whole (no symbol) is left out rather than reported with an empty symbol.
    expect(filled).toBeUndefined();
  });

  it("maps Kraken's v2 order statuses and reports a stop-loss as a market order with its trigger", () => {
    const book = new KrakenExecutionOrders();
    const status = (s: string) =>
      book.fold([update({ ...whole, order_type: 'stop-loss', limit_price: undefined, order_status: s })])[0];
    expect(status('new')).toMatchObject({ status: 'open', type: 'market', triggerPrice: 29_500 });
    expect(status('partially_filled').status).toBe('open');
    expect(status('filled').status).toBe('closed');
    expect(status('expired').status).toBe('expired');
  });
});
