import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.js';

describe('Ledger', () => {
  it('reserves only what is free and keeps free + used = total', () => {
    const l = new Ledger({ USDT: 100 });
    expect(l.reserve('USDT', 60)).toBe(true);
    expect(l.reserve('USDT', 50)).toBe(false);
    expect(l.free('USDT')).toBe(40);
    l.release('USDT', 20);
    expect(l.balances()).toEqual([{ asset: 'USDT', free: 60, used: 40, total: 100 }]);
  });

  it('settles a fill: releases the reservation share, books cost and proceeds, no float dust', () => {
    const l = new Ledger({ USDT: 0.3 });
    expect(l.reserve('USDT', 0.1 + 0.2)).toBe(true);
    l.release('USDT', 0.3);
    l.credit('USDT', -(0.1 + 0.2));
    l.credit('BTC', 0.001);
    expect(l.free('USDT')).toBe(0);
    expect(l.total('USDT')).toBe(0);
    expect(l.totals()).toEqual({ USDT: 0, BTC: 0.001 });
  });

  it('never reports a negative reservation', () => {
    const l = new Ledger({ BTC: 1 });
    l.release('BTC', 5);
    expect(l.balances()[0]).toEqual({ asset: 'BTC', free: 1, used: 0, total: 1 });
  });

  it('keeps exact balances over many fills where a running float sum drifts', () => {
    const l = new Ledger({ USDT: 1 });
    let drift = 1;
    for (let i = 0; i < 1000; i++) {
      l.credit('USDT', -0.001);
      l.credit('BTC', 0.00001);
      drift -= 0.001;
    }
    expect(drift).not.toBe(0);
    expect(l.total('USDT')).toBe(0);
    expect(l.total('BTC')).toBe(0.01);
  });
});
