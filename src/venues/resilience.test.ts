import { describe, expect, it } from 'vitest';
import { type Subscription, VenueError } from '../core/index.js';
import { backoffDelay, ReconnectingStream, RESILIENCE_CODES, withRetry } from './resilience.js';

const retryable = (msg = 'down', retryAfterMs?: number) => new VenueError(msg, { retryable: true, retryAfterMs });

function clock() {
  let t = 0;
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    t += ms;
  };
  return { now: () => t, sleep, sleeps };
}

describe('withRetry', () => {
  it('retries retryable errors and returns the first success', async () => {
    const c = clock();
    let calls = 0;
    const v = await withRetry(
      async () => {
        if (++calls < 3) throw retryable();
        return 'ok';
      },
      { ...c, random: () => 1, baseMs: 100 },
    );
    expect(v).toBe('ok');
    expect(calls).toBe(3);
    expect(c.sleeps).toEqual([100, 200]);
  });

  it('throws non-retryable errors at once, unchanged', async () => {
    const c = clock();
    const fatal = new VenueError('bad order', { retryable: false, code: 'VENUE_INVALID_ORDER' });
    let calls = 0;
    const failFatal = async () => {
      calls++;
      throw fatal;
    };
    await expect(withRetry(failFatal, c)).rejects.toBe(fatal);
    expect(calls).toBe(1);
    expect(c.sleeps).toEqual([]);
    await expect(withRetry(async () => Promise.reject(new Error('plain')), c)).rejects.toThrow('plain');
  });

  it('stops at 5 attempts by default', async () => {
    const c = clock();
    let calls = 0;
    const fail503 = async () => {
      calls++;
      throw retryable('503');
    };
    const err = await withRetry(fail503, c).catch((e: unknown) => e);
    expect(calls).toBe(5);
    expect((err as VenueError).code).toBe(RESILIENCE_CODES.exhausted);
    expect((err as Error).message).toMatch(/gave up after 5 attempts.*503/);
    expect((err as Error).cause).toBeInstanceOf(VenueError);
  });

  it('never waits past 30 s in total', async () => {
    const c = clock();
    await withRetry(async () => Promise.reject(retryable('slow', 12_000)), c).catch(() => undefined);
    expect(c.sleeps).toEqual([12_000, 12_000]);
    expect(c.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000);
  });

  it('full jitter draws within [0, step] and Retry-After is a floor', () => {
    for (const r of [0, 0.3, 0.999]) {
      const d = backoffDelay(3, retryable(), { baseMs: 100, random: () => r });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(400);
    }
    expect(backoffDelay(1, retryable('x', 5_000), { baseMs: 100, random: () => 0.5 })).toBe(5_000);
    expect(backoffDelay(20, retryable(), { baseMs: 100, jitter: false, maxDelayMs: 1_000 })).toBe(1_000);
  });
});

describe('ReconnectingStream', () => {
  it('resubscribes after an error and reports stale then resumed', async () => {
    const opened: { deliver: (v: number) => void; fail: (e: Error) => void; closed: boolean }[] = [];
    const events: string[] = [];
    const got: number[] = [];
    const stream = new ReconnectingStream<number>(
      (deliver, fail) => {
        const h = { deliver, fail, closed: false };
        opened.push(h);
        const sub: Subscription = { close: () => void (h.closed = true) };
        return sub;
      },
      (v) => got.push(v),
      { baseMs: 5, jitter: false, onStale: () => events.push('stale'), onResumed: () => events.push('resumed') },
    );
    opened[0].deliver(1);
    opened[0].fail(new Error('socket closed'));
    expect(opened[0].closed).toBe(true);
    expect(stream.isStale).toBe(true);
    opened[0].deliver(99); // a dead subscription's late data is ignored
    await new Promise((r) => setTimeout(r, 30));
    expect(opened).toHaveLength(2);
    opened[1].deliver(2);
    expect(got).toEqual([1, 2]);
    expect(events).toEqual(['stale', 'resumed']);
    stream.close();
    expect(opened[1].closed).toBe(true);
    opened[1].fail(new Error('after close'));
    await new Promise((r) => setTimeout(r, 20));
    expect(opened).toHaveLength(2);
  });

  it('marks a silent stream stale', async () => {
    const events: string[] = [];
    const stream = new ReconnectingStream<number>(
      () => ({ close: () => undefined }),
      () => undefined,
      {
        staleAfterMs: 40,
        onStale: (e) => events.push(e ? 'error' : 'silence'),
      },
    );
    await new Promise((r) => setTimeout(r, 120));
    stream.close();
    expect(events).toEqual(['silence']);
  });
});
