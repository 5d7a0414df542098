import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ConfigError,
  DataError,
  IllegalTransitionError,
  isUserError,
  RiskLimitError,
  StrategyError,
  TradeforgeError,
  ValidationError,
  VenueError,
} from './errors.js';

describe('typed errors', () => {
  it('carry a code, their class name and their fields', () => {
    const v = new ValidationError('bad flag', 'flag');
    expect([v.code, v.name, v.field, v.message]).toEqual(['VALIDATION', 'ValidationError', 'flag', 'bad flag']);
    expect(v).toBeInstanceOf(TradeforgeError);
    expect(v).toBeInstanceOf(Error);

    const c = new ConfigError('risk.maxOrderNotional', 'must be > 0');
    expect([c.code, c.key, c.message]).toEqual([
      'CONFIG',
      'risk.maxOrderNotional',
      'config risk.maxOrderNotional: must be > 0',
    ]);
    expect(new ConfigError('', 'no file').message).toBe('no file');

    const r = new RiskLimitError('MAX_NOTIONAL', 'order notional 600 exceeds 500', 500, 600);
    expect([r.code, r.reason, r.detail, r.limit, r.actual]).toEqual([
      'MAX_NOTIONAL',
      'MAX_NOTIONAL',
      'order notional 600 exceeds 500',
      500,
      600,
    ]);
    expect(r.message).toBe('MAX_NOTIONAL: order notional 600 exceeds 500');

    const ve = new VenueError('rate limited', { retryable: true, venue: 'binance', retryAfterMs: 1000 });
    expect([ve.code, ve.retryable, ve.venue, ve.retryAfterMs]).toEqual(['VENUE_RETRYABLE', true, 'binance', 1000]);
    expect(new VenueError('bad key', { retryable: false }).code).toBe('VENUE_FATAL');
    expect(new VenueError('x', { retryable: false, code: 'INSUFFICIENT' }).code).toBe('INSUFFICIENT');

    const cause = new Error('boom');
    const s = new StrategyError('onBar threw', { strategyId: 'sma', barTime: 5, cause });
    expect([s.code, s.strategyId, s.barTime, s.cause]).toEqual(['STRATEGY', 'sma', 5, cause]);

    expect(new AuthError('no').code).toBe('AUTH');
    expect(new AuthError('no', 'FORBIDDEN').code).toBe('FORBIDDEN');
    expect(new IllegalTransitionError('o1', 'filled', 'new').message).toBe(
      'order o1: illegal transition filled -> new',
    );
  });

  it('DataError names file, row and column in that order', () => {
    expect(new DataError('not a number', { file: 'a.csv', row: 7, column: 'close' }).message).toBe(
      'a.csv, row 7, column close: not a number',
    );
    expect(new DataError('empty file', { file: 'a.csv' }).message).toBe('a.csv: empty file');
    expect(new DataError('row 0 is odd', { row: 0 }).message).toBe('row 0: row 0 is odd');
    expect(new DataError('plain').message).toBe('plain');
    expect(new DataError('x', { row: 3 }).location).toEqual({ row: 3 });
  });

  it('isUserError separates user mistakes from bugs and venue trouble', () => {
    expect(isUserError(new ValidationError('x'))).toBe(true);
    expect(isUserError(new ConfigError('k', 'x'))).toBe(true);
    expect(isUserError(new DataError('x'))).toBe(true);
    expect(isUserError(new AuthError('x'))).toBe(true);
    expect(isUserError(new RiskLimitError('HALTED', 'x'))).toBe(true);
    expect(isUserError(new VenueError('x', { retryable: true }))).toBe(false);
    expect(isUserError(new StrategyError('x'))).toBe(false);
    expect(isUserError(new IllegalTransitionError('o', 'a', 'b'))).toBe(false);
    expect(isUserError(new Error('x'))).toBe(false);
    expect(isUserError('string')).toBe(false);
  });
});
