import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { generateBars } from '../data/generate.js';
import { DataCache, dataKey, decodeColumns, encodeColumns, publishColumns } from './data-ref.js';
import { dropPrefix } from './status.js';

const prefix = `tftest-dataref-${process.pid}-${randomBytes(4).toString('hex')}`;
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });

afterAll(async () => {
  redis.disconnect();
  await dropPrefix({ url: 'redis://127.0.0.1:6379', prefix });
});

describe('data by reference (content hash)', () => {
  const bars = generateBars({ bars: 500, seed: 3, timeframe: '1h' });
  const withExtras = {
    ...bars,
    extra: { enter_long: new Float64Array(bars.length).fill(1) },
    extraText: { enter_tag: Array.from({ length: bars.length }, (_, i) => `t${i}`) },
  };

  it('round-trips every column, extras included', () => {
    const back = decodeColumns(encodeColumns(withExtras));
    expect(back.length).toBe(bars.length);
    for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) expect(back[k]).toEqual(bars[k]);
    expect(back.extra?.enter_long).toEqual(withExtras.extra.enter_long);
    expect(back.extraText?.enter_tag).toEqual(withExtras.extraText.enter_tag);
  });

  it('publishes once per content, fetches once per worker, and refuses bytes that do not match their hash', async () => {
    await redis.connect();
    const h1 = await publishColumns(redis, prefix, bars);
    const h2 = await publishColumns(redis, prefix, bars);
    expect(h1).toBe(h2);
    expect(await publishColumns(redis, prefix, withExtras)).not.toBe(h1);
    const cache = new DataCache(redis, prefix);
    const [a, b] = await Promise.all([cache.get(h1), cache.get(h1)]);
    await cache.get(h1);
    expect(cache.fetches).toBe(1);
    expect(a).toBe(b);
    expect(a.close).toEqual(bars.close);

    const bytes = encodeColumns(bars);
    bytes[bytes.length - 1] ^= 0xff;
    const fake = 'f'.repeat(64);
    await redis.set(dataKey(prefix, fake), bytes);
    await expect(new DataCache(redis, prefix).get(fake)).rejects.toThrow(/arrived with hash .*: corrupted/);
    await expect(new DataCache(redis, prefix).get('0'.repeat(64))).rejects.toThrow(/not in the queue's data store/);
  });
});
