import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MessagePacer } from './pacer.js';

describe('MessagePacer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends up to the limit at once, holds the rest in order until the window moves on', () => {
    const pacer = new MessagePacer(3, () => Date.now());
    const sent: number[] = [];
    for (let i = 0; i < 7; i++) pacer.run(() => sent.push(i));
    expect(sent).toEqual([0, 1, 2]);
    expect(pacer.pending).toBe(4);
    vi.advanceTimersByTime(999);
    expect(sent).toEqual([0, 1, 2]);
    vi.advanceTimersByTime(60);
    expect(sent).toEqual([0, 1, 2, 3, 4, 5]);
    vi.advanceTimersByTime(1_100);
    expect(sent).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pacer.pending).toBe(0);
  });

  it('never lets more than the limit into any one-second window', () => {
    const pacer = new MessagePacer(50, () => Date.now());
    const at: number[] = [];
    for (let i = 0; i < 400; i++) pacer.run(() => at.push(Date.now()));
    // Some sends arrive later, spread out, while earlier ones wait.
    for (let step = 0; step < 100; step++) {
      vi.advanceTimersByTime(37);
      if (step % 3 === 0) pacer.run(() => at.push(Date.now()));
    }
    vi.advanceTimersByTime(20_000);
    expect(at.length).toBe(434);
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i] - at[j] >= 1000) j++;
      expect(i - j + 1).toBeLessThanOrEqual(50);
    }
  });

  it('drops waiting sends on clear and refuses a limit above 50 (IB)', () => {
    const pacer = new MessagePacer(1, () => Date.now());
    const sent: number[] = [];
    pacer.run(() => sent.push(1));
    pacer.run(() => sent.push(2));
    pacer.clear();
    vi.advanceTimersByTime(5_000);
    expect(sent).toEqual([1]);
    expect(() => new MessagePacer(51)).toThrow(/between 1 and 50/);
    expect(() => new MessagePacer(0)).toThrow(/between 1 and 50/);
  });
});
