import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClosedTrade } from '../core/events.js';
import { canonicalNumber, canonicalTradeLine, FINGERPRINT_VERSION, tradeFingerprint } from './fingerprint.js';

const base: ClosedTrade = {
  strategyId: 'sma-cross',
  symbol: 'SPX',
  side: 'long',
  entryTime: 946_857_600_000,
  entryPrice: 1455.219971,
  exitTime: 947_462_400_000,
  exitPrice: 1441.469971,
  quantity: 65,
  fees: 188.29,
  pnl: -1082.04,
  pnlPct: -0.0108,
  exitReason: 'exit_signal',
};
const second: ClosedTrade = { ...base, entryTime: 950_000_000_000, exitTime: 951_000_000_000, side: 'short' };

describe('tradeFingerprint', () => {
  it('is a sha256 hex digest of the documented canonical form', () => {
    const expected = createHash('sha256')
      .update(
        `${FINGERPRINT_VERSION}\n"SPX"|long|946857600000|1455.219971|947462400000|1441.469971|65|188.29|-1082.04|-0.0108|"exit_signal"|-`,
      )
      .digest('hex');
    expect(tradeFingerprint([base])).toBe(expected);
    expect(tradeFingerprint([base])).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable: same trades, same fingerprint, whatever the order or the strategy id', () => {
    const a = tradeFingerprint([base, second]);
    expect(tradeFingerprint([{ ...base }, { ...second }])).toBe(a);
    expect(tradeFingerprint([second, base])).toBe(a);
    expect(tradeFingerprint([{ ...base, strategyId: 'other' }, second])).toBe(a);
  });

  it('ignores float noise beyond 12 significant digits', () => {
    expect(tradeFingerprint([{ ...base, pnl: -1082.04 + 1e-12 }])).toBe(tradeFingerprint([base]));
    expect(canonicalNumber(0.1 + 0.2)).toBe('0.3');
    expect(canonicalNumber(-0)).toBe('0');
    expect(canonicalNumber(1e21)).toBe('1e+21');
    expect(canonicalNumber(Number.NaN)).toBe('NaN');
  });

  it('changes when any field of any trade changes', () => {
    const ref = tradeFingerprint([base, second]);
    const changes: Partial<ClosedTrade>[] = [
      { symbol: 'SPY' },
      { side: 'short' },
      { entryTime: base.entryTime + 1 },
      { entryPrice: 1455.22 },
      { exitTime: base.exitTime + 60_000 },
      { exitPrice: 1441.47 },
      { quantity: 66 },
      { fees: 188.3 },
      { pnl: -1082.05 },
      { pnlPct: -0.0109 },
      { exitReason: 'stop_loss' },
      { entryTag: 'breakout' },
    ];
    const seen = new Set([ref]);
    for (const c of changes) {
      const fp = tradeFingerprint([{ ...base, ...c }, second]);
      expect(fp, JSON.stringify(c)).not.toBe(ref);
      seen.add(fp);
    }
    expect(seen.size).toBe(changes.length + 1);
  });

  it('changes when a trade is added or removed; the empty list has its own fingerprint', () => {
    expect(tradeFingerprint([base])).not.toBe(tradeFingerprint([base, second]));
    expect(tradeFingerprint([])).toBe(createHash('sha256').update(FINGERPRINT_VERSION).digest('hex'));
  });

  it('quotes strings so a separator inside a tag cannot collide with another trade', () => {
    expect(canonicalTradeLine({ ...base, entryTag: 'a|b' })).toContain('"a|b"');
    expect(tradeFingerprint([{ ...base, entryTag: '-' }])).not.toBe(tradeFingerprint([base]));
  });
});
