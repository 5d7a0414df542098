import { describe, expect, it } from 'vitest';
import { balanceOfAccount, CandleAssembler, candleOf } from './stream-items.js';

const candle = (utm: number, bid: [number, number, number, number], end = false, ltv = 1) => ({
  UTM: String(utm),
  BID_OPEN: String(bid[0]),
  BID_HIGH: String(bid[1]),
  BID_LOW: String(bid[2]),
  BID_CLOSE: String(bid[3]),
  OFR_OPEN: String(bid[0] + 1),
  OFR_HIGH: String(bid[1] + 1),
  OFR_LOW: String(bid[2] + 1),
  OFR_CLOSE: String(bid[3] + 1),
  LTV: String(ltv),
  CONS_END: end ? '1' : '0',
});

describe('IG stream items', () => {
  it('maps ACCOUNT figures as REST does: free = available to deal, used = margin', () => {
    expect(balanceOfAccount({ AVAILABLE_TO_DEAL: '900.5', MARGIN: '99.5', FUNDS: '1000' }, 'GBP')).toEqual({
      asset: 'GBP',
      free: 900.5,
      used: 99.5,
      total: 1000,
    });
    expect(balanceOfAccount({ AVAILABLE_TO_DEAL: null, MARGIN: '1' }, 'GBP')).toBeUndefined();
  });

  it('reads a candle on the mid of bid and offer, its start floored to the scale', () => {
    expect(candleOf(candle(120_500, [10, 12, 9, 11], true, 7), 60_000)).toEqual({
      time: 120_000,
      open: 10.5,
      high: 12.5,
      low: 9.5,
      close: 11.5,
      volume: 7,
      end: true,
    });
    expect(candleOf({ UTM: null, BID_CLOSE: '1', OFR_CLOSE: '2' }, 60_000)).toBeUndefined();
  });

  it('assembles three 5-minute candles into a 15m bar, closed by the last one ending', () => {
    const a = new CandleAssembler(900_000, 300_000);
    const c = (t: number, bid: [number, number, number, number], end = false) =>
      candleOf(candle(t, bid, end), 300_000) as NonNullable<ReturnType<typeof candleOf>>;
    expect(a.add(c(0, [10, 11, 9, 10]))).toMatchObject({ closed: false });
    expect(a.add(c(0, [10, 11, 9, 10], true))).toMatchObject({ closed: false });
    a.add(c(300_000, [10, 15, 10, 14], true));
    const r = a.add(c(600_000, [14, 14, 5, 6], true));
    expect(r).toEqual({
      bar: { time: 0, open: 10.5, high: 15.5, low: 5.5, close: 6.5, volume: 3 },
      closed: true,
      complete: true,
    });
    // Once the next bar began, an update of a bar already passed is ignored.
    expect(a.add(c(900_000, [6, 7, 6, 7]))).toMatchObject({ closed: false });
    expect(a.add(c(300_000, [1, 1, 1, 1]))).toBeUndefined();
  });

  it('says when a bar was seen only in part, and when one was never seen closed', () => {
    const a = new CandleAssembler(900_000, 300_000);
    const c = (t: number, end = false) =>
      candleOf(candle(t, [10, 11, 9, 10], end), 300_000) as NonNullable<ReturnType<typeof candleOf>>;
    // Subscribed in the second 5 minutes of the quarter: the bar lacks its first candle.
    a.add(c(300_000));
    expect(a.add(c(600_000, true))).toMatchObject({ closed: true, complete: false });
    // The next quarter's end was lost (a drop): the quarter after says so.
    a.add(c(900_000));
    expect(a.add(c(1_800_000))).toMatchObject({ missed: 900_000, closed: false });
  });
});
