import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { connectionFrom, QUEUE_NAME, type QueueSettings } from './connection.js';
import { statsKeys } from './stats.js';

/** One worker as `queue status` shows it. */
export interface WorkerStatus {
  readonly id: string;
  /** Connected to Redis now (a worker that died keeps its counters until the key expires or is cleared). */
  readonly connected: boolean;
  readonly completed: number;
  readonly failedAttempts: number;
  /** Jobs per minute since the worker started (null when it has no start time). */
  readonly perMinute: number | null;
}

/** The queue's job counts and its workers. */
export interface QueueStatus {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
  readonly completed: number;
  readonly workers: readonly WorkerStatus[];
}

/** Reads the queue's counts and per-worker throughput. */
export async function queueStatus(settings: QueueSettings, now = Date.now()): Promise<QueueStatus> {
  const queue = new Queue(QUEUE_NAME, { connection: connectionFrom(settings), prefix: settings.prefix });
  try {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
    const client = await queue.client;
    const keys = statsKeys(settings.prefix);
    const [started, completed, failed, live] = await Promise.all([
      client.hgetall(keys.started),
      client.hgetall(keys.completed),
      client.hgetall(keys.failed),
      queue.getWorkers(),
    ]);
    // BullMQ names a worker's Redis client "<prefix>:<queue>:w:<worker name>".
    const liveNames = new Set(live.map((w) => String(w.rawname ?? '').split(':w:')[1]).filter(Boolean));
    const ids = new Set([...Object.keys(started), ...Object.keys(completed), ...liveNames]);
    const workers = [...ids].sort().map((id): WorkerStatus => {
      const done = Number(completed[id] ?? 0);
      const since = started[id] ? Number(started[id]) : undefined;
      const minutes = since !== undefined ? Math.max(1 / 60, (now - since) / 60_000) : undefined;
      return {
        id,
        connected: liveNames.has(id),
        completed: done,
        failedAttempts: Number(failed[id] ?? 0),
        perMinute: minutes !== undefined ? done / minutes : null,
      };
    });
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
      workers,
    };
  } finally {
    await queue.close();
  }
}

/** Removes a sweep's jobs that have not started; returns how many (running ones finish). */
export async function cancelSweepJobs(settings: QueueSettings, sweepId: string): Promise<number> {
  const queue = new Queue(QUEUE_NAME, { connection: connectionFrom(settings), prefix: settings.prefix });
  try {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'paused']);
    let removed = 0;
    for (const j of jobs) {
      if (!j?.id?.startsWith(`${sweepId}.`)) continue;
      try {
        await j.remove();
        removed++;
      } catch {
        // Taken by a worker meanwhile.
      }
    }
    return removed;
  } finally {
    await queue.close();
  }
}

/** Deletes every key under the prefix (tests clean up their unique prefix with it). */
export async function dropPrefix(settings: QueueSettings): Promise<void> {
  const redis = new Redis({ ...(connectionFrom(settings) as RedisOptions), lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${settings.prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
