import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './retry.js';

describe('retryAfterMs', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it('reads seconds, an HTTP date, and retry-after-ms (which wins)', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(now + 7000).toUTCString() }), now)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': '9', 'retry-after-ms': '120' }), now)).toBe(120);
    expect(retryAfterMs({ 'retry-after': '3' }, now)).toBe(3000);
  });
  it('ignores garbage and dates in the past give 0', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(now - 5000).toUTCString() }), now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});
