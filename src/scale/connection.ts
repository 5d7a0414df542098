import type { ConnectionOptions } from 'bullmq';
import { ConfigError } from '../core/errors.js';

/** Where the job queue lives: a Redis URL and the key prefix every queue key starts with. */
export interface QueueSettings {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string;
  /** Key prefix (BullMQ `prefix`): separate prefixes are separate clusters on one Redis (tests use a unique one). */
  readonly prefix: string;
}

/** The one queue every worker joins; jobs carry their sweep id. */
export const QUEUE_NAME = 'trials';

/** Default Redis URL when neither `--redis` nor config `queue.url` is set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Default key prefix. */
export const DEFAULT_PREFIX = 'tradeforge';

/** BullMQ connection options from a Redis URL; a malformed URL is a ConfigError naming the key. */
export function connectionFrom(settings: QueueSettings): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(settings.url);
  } catch {
    throw new ConfigError('queue.url', `"${settings.url}" is not a URL (expected redis://host:port)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError('queue.url', `must start with redis:// or rediss:// (got "${u.protocol}")`);
  }
  if (!/^[\w.-]+$/.test(settings.prefix)) {
    throw new ConfigError('queue.prefix', `"${settings.prefix}" may only hold letters, digits, "_", "." and "-"`);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    db: Number.isInteger(db) ? db : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ workers block on Redis; ioredis must not give up on a command while the connection recovers.
    maxRetriesPerRequest: null,
  };
}

/** A Redis URL with its password masked, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
