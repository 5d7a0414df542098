import { describe, expect, it } from 'vitest';
import { SharedStreams, type StreamSource } from './shared-streams.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A hand-driven channel: `push` resolves the pending `next()`, `fail` rejects it. */
class Channel {
  opened = 0;
  unwatched = 0;
  nextCalls = 0;
  unwatchResult: Promise<void> = Promise.resolve();
  private waiting: { resolve: (v: number) => void; reject: (e: Error) => void } | undefined;
  readonly source = (): StreamSource<number> => {
    this.opened++;
    return {
      next: () => {
        this.nextCalls++;
        return new Promise<number>((resolve, reject) => {
          this.waiting = { resolve, reject };
        });
      },
      unwatch: () => {
        this.unwatched++;
        // Like ccxt: the pending watch is rejected when its channel is unsubscribed.
        this.waiting?.reject(new Error('unsubscribed'));
        this.waiting = undefined;
        return this.unwatchResult;
      },
    };
  };
  async push(v: number): Promise<void> {
    await tick();
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(v);
    await tick();
  }
  async fail(e: Error): Promise<void> {
    await tick();
    this.waiting?.reject(e);
    this.waiting = undefined;
    await tick();
  }
}

const hub = () => new SharedStreams({ prepare: async () => undefined, mapError: (e) => e as Error });

describe('SharedStreams', () => {
  it('runs one loop per key for all subscribers and unwatches only when the last one closes', async () => {
    const h = hub();
    const ch = new Channel();
    const a: number[] = [];
    const b: number[] = [];
    const errors: Error[] = [];
    const sa = h.subscribe(
      'k',
      ch.source,
      (v) => a.push(v),
      (e) => errors.push(e),
    );
    const sb = h.subscribe(
      'k',
      ch.source,
      (v) => b.push(v),
      (e) => errors.push(e),
    );
    expect(ch.opened).toBe(1);
    expect(h.subscribers('k')).toBe(2);
    await ch.push(1);
    sa.close();
    sa.close();
    expect(ch.unwatched).toBe(0);
    await ch.push(2);
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
    sb.close();
    expect(h.size).toBe(0);
    await tick();
    expect(ch.unwatched).toBe(1);
    expect(errors).toEqual([]);
  });

  it('keeps feeding the others when one subscriber throws, reporting to that subscriber only', async () => {
    const h = hub();
    const ch = new Channel();
    const bad: Error[] = [];
    const good: number[] = [];
    const goodErrors: Error[] = [];
    h.subscribe(
      'k',
      ch.source,
      () => {
        throw new Error('boom');
      },
      (e) => bad.push(e),
    );
    h.subscribe(
      'k',
      ch.source,
      (v) => good.push(v),
      (e) => goodErrors.push(e),
    );
    await ch.push(1);
    await ch.push(2);
    expect(good).toEqual([1, 2]);
    expect(bad.map((e) => e.message)).toEqual(['boom', 'boom']);
    expect(goodErrors).toEqual([]);
  });

  it('ends the loop on an error, tells every subscriber once, and starts afresh on the next subscribe', async () => {
    const h = hub();
    const ch = new Channel();
    const errs: string[] = [];
    const sa = h.subscribe(
      'k',
      ch.source,
      () => undefined,
      (e) => errs.push(`a:${e.message}`),
    );
    h.subscribe(
      'k',
      ch.source,
      () => undefined,
      (e) => errs.push(`b:${e.message}`),
    );
    await ch.fail(new Error('socket closed'));
    expect(errs).toEqual(['a:socket closed', 'b:socket closed']);
    expect(h.size).toBe(0);
    sa.close();
    await tick();
    // The channel is already gone at the exchange: nothing to unwatch.
    expect(ch.unwatched).toBe(0);
    const got: number[] = [];
    h.subscribe('k', ch.source, (v) => got.push(v));
    expect(ch.opened).toBe(2);
    await ch.push(7);
    expect(got).toEqual([7]);
  });

  it('starts a new loop only after the previous unsubscribe of the same key has landed', async () => {
    const h = hub();
    const ch = new Channel();
    let land: () => void = () => undefined;
    ch.unwatchResult = new Promise<void>((r) => {
      land = r;
    });
    const s1 = h.subscribe('k', ch.source, () => undefined);
    await tick();
    s1.close();
    await tick();
    expect(ch.unwatched).toBe(1);
    const callsBefore = ch.nextCalls;
    const got: number[] = [];
    h.subscribe('k', ch.source, (v) => got.push(v));
    await tick();
    expect(ch.nextCalls).toBe(callsBefore);
    land();
    await tick();
    await tick();
    expect(ch.nextCalls).toBe(callsBefore + 1);
    await ch.push(3);
    expect(got).toEqual([3]);
  });

  it('close() stops live loops without unwatching and waits, bounded, for unsubscribes under way', async () => {
    const h = hub();
    const live = new Channel();
    const leaving = new Channel();
    let land: () => void = () => undefined;
    leaving.unwatchResult = new Promise<void>((r) => {
      land = r;
    });
    const got: number[] = [];
    h.subscribe('live', live.source, (v) => got.push(v));
    h.subscribe('leaving', leaving.source, () => undefined).close();
    await tick();
    let closed = false;
    const closing = h.close(5_000).then(() => {
      closed = true;
    });
    await tick();
    expect(closed).toBe(false);
    land();
    await closing;
    expect(live.unwatched).toBe(0);
    await live.push(1);
    expect(got).toEqual([]);
    // A stuck unsubscribe does not hold close() past its bound.
    const h2 = hub();
    const stuck = new Channel();
    stuck.unwatchResult = new Promise<void>(() => undefined);
    h2.subscribe('k', stuck.source, () => undefined).close();
    await tick();
    const t0 = Date.now();
    await h2.close(50);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});
