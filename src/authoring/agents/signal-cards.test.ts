import { describe, expect, it } from 'vitest';
import { parseSignalCards } from './signal-cards.js';

describe('parseSignalCards', () => {
  it('reads market and limit cards from a signals block', () => {
    const answer = [
      'BTC looks strong above its 50-day average.',
      '```signals',
      JSON.stringify([
        { action: 'buy', symbol: 'BTC/USDT', size: 0.01, price: null, confidence: 0.7, reasoning: 'trend up' },
        { action: 'sell', symbol: 'ETH/USDT', size: 0.5, price: 3100.5, confidence: 0.4, reasoning: 'weak' },
      ]),
      '```',
    ].join('\n');
    const r = parseSignalCards(answer);
    expect(r.problems).toEqual([]);
    expect(r.cards).toEqual([
      { action: 'buy', symbol: 'BTC/USDT', size: 0.01, confidence: 0.7, reasoning: 'trend up' },
      { action: 'sell', symbol: 'ETH/USDT', size: 0.5, price: 3100.5, confidence: 0.4, reasoning: 'weak' },
    ]);
  });

  it('keeps the good items and names the field of each bad one', () => {
    const answer = [
      '```signals',
      JSON.stringify([
        { action: 'buy', symbol: 'BTC/USDT', size: -1, confidence: 0.5, reasoning: 'x' },
        { action: 'hold', symbol: 'BTC/USDT', size: 1, confidence: 0.5, reasoning: 'x' },
        { action: 'buy', symbol: 'BTC/USDT', size: 1, confidence: 1.5, reasoning: 'x' },
        { action: 'buy', symbol: 'BTC/USDT', size: 1, confidence: 0.5, reasoning: 'fine' },
        { action: 'buy', symbol: 'BTC/USDT', size: 1, confidence: 0.5, reasoning: 'x', leverage: 100 },
      ]),
      '```',
    ].join('\n');
    const r = parseSignalCards(answer);
    expect(r.cards).toHaveLength(1);
    expect(r.cards[0].reasoning).toBe('fine');
    expect(r.problems.map((p) => p.index)).toEqual([0, 1, 2, 4]);
    expect(r.problems[0].message).toMatch(/^size: /);
    expect(r.problems[1].message).toMatch(/^action: /);
    expect(r.problems[2].message).toMatch(/^confidence: /);
    expect(r.problems[3].message).toMatch(/leverage/);
  });

  it('reports a block that is not JSON and finds no cards in an answer without a block', () => {
    expect(parseSignalCards('```signals\n[{action: buy}]\n```').problems[0].message).toMatch(/not JSON/);
    expect(parseSignalCards('No trade today: the market is flat.')).toEqual({ cards: [], problems: [] });
    // A json block is an example the model shows, not a suggestion.
    expect(parseSignalCards('```json\n[{"action":"buy"}]\n```').cards).toEqual([]);
  });
});
