import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBars } from '../src/data/generate.js';
import { dropPrefix, queueStatus } from '../src/scale/status.js';
import { Sweep } from '../src/scale/sweep.js';
import { QueueWorker } from '../src/scale/worker.js';
import { type ApiFixture, call, login, type Session, startApiFixture } from './server-api-fixture.js';
import { uniqueNames } from './scale-helpers.js';

// `GET /api/queue/status`: the figures of `tradeforge queue status`, read from a real queue (this machine's Redis,
// a prefix of its own) that a real in-process worker has taken a job from.
const { settings } = uniqueNames('apiqueue');
let fx: ApiFixture;
let bare: ApiFixture;
let viewer: Session;
let worker: QueueWorker | undefined;

beforeAll(async () => {
  fx = await startApiFixture({ loginsPerMinute: 1000, queueStatus: () => queueStatus(settings) });
  bare = await startApiFixture({ loginsPerMinute: 1000 });
  viewer = await login(fx, 'viewer');
});

afterAll(async () => {
  await worker?.close();
  await fx?.close();
  await bare?.close();
  await dropPrefix(settings);
});

describe('GET /api/queue/status', { timeout: 180_000 }, () => {
  it('shows waiting/active/failed/completed jobs and each worker with its throughput', async () => {
    const before = await call(fx, 'GET', '/api/queue/status', { headers: viewer.headers });
    expect(before.status).toBe(200);
    expect(before.json).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, workers: [] });

    worker = await QueueWorker.start({ settings, results: fx.store.backtests });
    const sweep = await Sweep.open(settings);
    try {
      const dataHash = await sweep.publish(generateBars({ bars: 500, seed: 3, timeframe: '1h' }));
      const out = await sweep.submit({
        symbol: 'SYN',
        timeframe: '1h',
        strategy: 'sma-cross',
        options: { fee: 0.001 },
        dataHash,
        params: { fast: 5, slow: 20 },
        index: 0,
      });
      expect(out.status).toBe('ok');
    } finally {
      await sweep.close();
    }
    const after = await call(fx, 'GET', '/api/queue/status', { headers: viewer.headers });
    expect(after.status).toBe(200);
    const body = after.json as { completed: number; waiting: number; workers: Record<string, unknown>[] };
    expect(body.completed).toBe(1);
    expect(body.waiting).toBe(0);
    expect(body.workers).toHaveLength(1);
    expect(body.workers[0]).toMatchObject({ id: worker.id, connected: true, completed: 1, failedAttempts: 0 });
    expect(body.workers[0].perMinute).toBeGreaterThan(0);
    // The same figures as the CLI's reader.
    const direct = await queueStatus(settings);
    expect(body.completed).toBe(direct.completed);
  });

  it('needs a session, is in the OpenAPI document, and answers 404 where no queue is configured', async () => {
    expect((await call(fx, 'GET', '/api/queue/status')).status).toBe(401);
    const docs = await call(fx, 'GET', '/api/docs');
    const paths = (docs.json as { paths: Record<string, Record<string, unknown>> }).paths;
    expect(paths['/api/queue/status']?.get).toBeDefined();
    const none = await call(bare, 'GET', '/api/queue/status', { headers: (await login(bare, 'viewer')).headers });
    expect(none.status).toBe(404);
    expect(none.json).toMatchObject({ error: 'queue_not_configured' });
  });

  it('answers 503 naming the reason when the queue cannot be read', async () => {
    const down = await startApiFixture({
      loginsPerMinute: 1000,
      queueStatus: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
    });
    try {
      const r = await call(down, 'GET', '/api/queue/status', { headers: (await login(down, 'viewer')).headers });
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ error: 'queue_unreachable' });
      expect(String((r.json as { message: string }).message)).toContain('ECONNREFUSED');
    } finally {
      await down.close();
    }
  });
});
