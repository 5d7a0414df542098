import { afterEach, describe, expect, it } from 'vitest';
import { UserFeed, type UserFeedMode } from './user-feed.js';

/** A promise settled from outside (the exchange's answer to the subscribe). */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 1));
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await tick();
}

/** A venue account whose REST read returns every trade so far; the stream pushes what the test sends. */
function rig(ready: () => Promise<void>) {
  const trades: string[] = [];
  const delivered: string[] = [];
  const modes: UserFeedMode[] = [];
  let polls = 0;
  let push: ((v: string[]) => void) | undefined;
  let drop: ((e: Error) => void) | undefined;
  const feed = new UserFeed<string[]>({
    ready,
    subscribe: (deliver, onError) => {
      push = deliver;
      drop = onError;
      return { close: () => undefined };
    },
    poll: async () => {
      polls++;
      return [...trades];
    },
    // Idempotent by id, as the ccxt venue's watchFills is.
    deliver: (v) => {
      for (const id of v) if (!delivered.includes(id)) delivered.push(id);
    },
    pollIntervalMs: 5,
    retryBaseMs: 5,
    random: () => 1,
    onMode: (m) => modes.push(m),
  });
  return {
    feed,
    trades,
    delivered,
    modes,
    polls: () => polls,
    push: (v: string[]) => push?.(v),
    drop: (e: Error) => drop?.(e),
  };
}

let open: UserFeed<string[]> | undefined;
afterEach(() => open?.close());

describe('UserFeed', () => {
  it('polls while the subscription is not confirmed yet: a fill made then is delivered without waiting for it', async () => {
    // The exchange has not answered the subscribe (a loaded machine, a slow venue, a lost answer).
    const answer = deferred();
    const r = rig(() => answer.promise);
    open = r.feed;
    expect(r.feed.currentMode).toBe('starting');
    r.trades.push('t1');
    await until(() => r.delivered.includes('t1'));
    expect(r.feed.currentMode).toBe('starting');
    // Starting is not a fall back: nothing to alert on.
    expect(r.modes).toEqual([]);
    // Confirmed: the reconciling read, then no more polling while the stream is up.
    answer.resolve();
    await until(() => r.modes.includes('stream'));
    const polled = r.polls();
    for (let i = 0; i < 5; i++) await new Promise((res) => setTimeout(res, 10));
    expect(r.polls()).toBe(polled);
    r.trades.push('t2');
    r.push(['t2']);
    expect(r.delivered).toEqual(['t1', 't2']);
  });

  it('delivers each fill once across starting, stream, a drop to polling and the stream again', async () => {
    const answer = deferred();
    const r = rig(() => answer.promise);
    open = r.feed;
    r.trades.push('a');
    await until(() => r.delivered.includes('a'));
    answer.resolve();
    await until(() => r.feed.currentMode === 'stream' && r.modes.includes('stream'));
    // On the stream: pushed once, read again by nobody.
    r.trades.push('b');
    r.push(['b']);
    // Down: made while the socket was gone, found by polling; the stream's late duplicate changes nothing.
    r.drop(new Error('socket closed'));
    expect(r.feed.currentMode).toBe('poll');
    r.trades.push('c');
    await until(() => r.delivered.includes('c'));
    // Back on the stream (the retry), reconciled once, then pushed again.
    await until(() => r.modes.filter((m) => m === 'stream').length === 2);
    r.trades.push('d');
    r.push(['c', 'd']);
    expect(r.delivered).toEqual(['a', 'b', 'c', 'd']);
    expect(r.modes).toEqual(['stream', 'poll', 'stream']);
  });

  it('a refused subscription falls back to polling (reported), and polling stays one loop', async () => {
    let attempts = 0;
    const r = rig(async () => {
      attempts++;
      if (attempts === 1) throw new Error('subscribe refused');
    });
    open = r.feed;
    await until(() => r.modes.includes('poll'));
    await until(() => r.modes.includes('stream'));
    expect(r.modes).toEqual(['poll', 'stream']);
    const polled = r.polls();
    for (let i = 0; i < 5; i++) await new Promise((res) => setTimeout(res, 10));
    expect(r.polls()).toBe(polled);
  });
});
