import type { Order } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { isKrakenClientOrderId, krakenClientOrderId, unifiedKrakenOrder } from './kraken.js';

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
