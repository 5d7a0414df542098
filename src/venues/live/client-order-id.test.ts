import { describe, expect, it } from 'vitest';
import { clientOrderIdFor, clientOrderIdPrefix, fillKey, newRunId, shortHash } from './client-order-id.js';

describe('client order ids', () => {
  it('differ between deployments whose ids share a long prefix, and between runs', () => {
    const run = newRunId(1_800_000_000_000);
    const a = clientOrderIdFor(clientOrderIdPrefix('deployment-1', run), 'o1');
    const b = clientOrderIdFor(clientOrderIdPrefix('deployment-2', run), 'o1');
    expect(a).not.toBe(b);
    const later = clientOrderIdFor(clientOrderIdPrefix('deployment-1', newRunId(1_800_000_000_001)), 'o1');
    expect(later).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,36}$/);
    expect(shortHash('deployment-1')).toHaveLength(8);
  });

  it('stay within the venue limit: a long tail is replaced by its hash, distinct tails stay distinct', () => {
    const prefix = clientOrderIdPrefix('x'.repeat(200), newRunId());
    const long1 = clientOrderIdFor(prefix, 'my-strategy-order-with-a-very-long-name-1');
    const long2 = clientOrderIdFor(prefix, 'my-strategy-order-with-a-very-long-name-2');
    expect(long1.length).toBeLessThanOrEqual(36);
    expect(long1).not.toBe(long2);
    expect(clientOrderIdFor(prefix, 'a b/c')).toBe(`${prefix}a_b_c`);
    expect(() => clientOrderIdFor('p'.repeat(40), 'o1')).toThrow(/no room within 36/);
  });

  it('key fills by client order id and trade id', () => {
    expect(fillKey('abc-o1', '5000')).not.toBe(fillKey('abc-o2', '5000'));
  });
});
