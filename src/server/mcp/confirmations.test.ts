import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store/index.js';
import type { ManualOrder } from '../api/port.js';
import { CONFIRMATION_TTL_MS, ConfirmationBook } from './confirmations.js';

let home = '';
let store: Store;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tf-confirm-'));
  store = await openStore({ home });
});
afterAll(async () => {
  await store?.close();
  rmSync(home, { recursive: true, force: true });
});

const order: ManualOrder = { symbol: 'ETH/USDT', side: 'sell', type: 'limit', quantity: 2, price: 3000 };

describe('ConfirmationBook', () => {
  it('an approved token expires after five minutes and cannot be approved or used then', async () => {
    let now = 1_000_000;
    const book = new ConfirmationBook(store.kv, () => now);
    const c = await book.request(order, 'api:admin');
    await book.approve(c.token, 'cli:owner');
    now += CONFIRMATION_TTL_MS + 1;
    expect(await book.consume(c.token, order, 'api:admin')).toEqual({
      ok: false,
      reason: 'the confirmation token is unknown, used or expired',
    });
    await expect(book.approve(c.token, 'cli:owner')).rejects.toThrow(/unknown, used or expired/);
  });

  it('is bound to its caller, and two simultaneous uses place at most one order', async () => {
    const book = new ConfirmationBook(store.kv);
    const c = await book.request(order, 'api:admin');
    await book.approve(c.token, 'cli:owner');
    expect(await book.consume(c.token, order, 'api:other')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('another caller'),
    });
    const both = await Promise.all([
      book.consume(c.token, order, 'api:admin'),
      book.consume(c.token, order, 'api:admin'),
    ]);
    expect(both.filter((r) => r.ok)).toHaveLength(1);
  });
});
