import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BarColumns } from '../core/bar.js';
import { DataError } from '../core/errors.js';

/*
 * Data travels by reference: the coordinator stores the encoded columns once under their content hash, jobs carry
 * only the hash, and each worker fetches a hash once and keeps it in memory. Encoding: a 4-byte little-endian header
 * length, a JSON header (length, Float64 column names, text columns), then the Float64 columns back to back.
 */

interface Header {
  readonly length: number;
  readonly columns: readonly string[];
  readonly extraText?: Readonly<Record<string, readonly string[]>>;
}

const BASE = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Encodes columns to bytes (deterministic: the same bars give the same bytes and hash). */
export function encodeColumns(c: BarColumns): Buffer {
  const extra = Object.keys(c.extra ?? {}).sort();
  const names = [...BASE, ...extra.map((k) => `extra.${k}`)];
  const arrays = [...BASE.map((k) => c[k]), ...extra.map((k) => (c.extra as Record<string, Float64Array>)[k])];
  const header: Header = { length: c.length, columns: names, ...(c.extraText ? { extraText: c.extraText } : {}) };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(4 + head.length + arrays.length * c.length * 8);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  let at = 4 + head.length;
  for (const a of arrays) {
    const bytes = Buffer.from(a.buffer, a.byteOffset, c.length * 8);
    bytes.copy(out, at);
    at += bytes.length;
  }
  return out;
}

/** Decodes bytes written by encodeColumns. */
export function decodeColumns(buf: Buffer): BarColumns {
  const headLen = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + headLen).toString('utf8')) as Header;
  const n = header.length;
  let at = 4 + headLen;
  const cols: Record<string, Float64Array> = {};
  for (const name of header.columns) {
    // Copy into a fresh, aligned buffer (Buffer slices may sit at any byte offset).
    const a = new Float64Array(n);
    new Uint8Array(a.buffer).set(buf.subarray(at, at + n * 8));
    cols[name] = a;
    at += n * 8;
  }
  const extra = Object.fromEntries(
    header.columns.filter((k) => k.startsWith('extra.')).map((k) => [k.slice(6), cols[k]]),
  );
  return {
    length: n,
    time: cols.time,
    open: cols.open,
    high: cols.high,
    low: cols.low,
    close: cols.close,
    volume: cols.volume,
    ...(Object.keys(extra).length ? { extra } : {}),
    ...(header.extraText ? { extraText: header.extraText as Record<string, string[]> } : {}),
  };
}

/** sha256 of bytes, hex. */
export function contentHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The Redis key holding a data blob. */
export function dataKey(prefix: string, hash: string): string {
  return `${prefix}:data:${hash}`;
}

/** How long a published blob outlives its last publication (a sweep republishes at its start). */
const DATA_TTL_SECONDS = 7 * 24 * 3600;

/** Stores the columns under their content hash (once: an existing blob is only given a fresh expiry). */
export async function publishColumns(redis: Redis, prefix: string, c: BarColumns): Promise<string> {
  const bytes = encodeColumns(c);
  const hash = contentHash(bytes);
  const key = dataKey(prefix, hash);
  const set = await redis.set(key, bytes, 'EX', DATA_TTL_SECONDS, 'NX');
  if (set === null) await redis.expire(key, DATA_TTL_SECONDS);
  return hash;
}

/** A worker's data cache: each hash is fetched once, checked against its hash, and kept (newest `capacity`). */
export class DataCache {
  private readonly entries = new Map<string, Promise<BarColumns>>();
  /** Fetches from Redis (how many times, for tests and `queue status`). */
  fetches = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly capacity = 8,
  ) {}

  /** The columns with this content hash. */
  get(hash: string): Promise<BarColumns> {
    const hit = this.entries.get(hash);
    if (hit) {
      // Refresh its place in the LRU order.
      this.entries.delete(hash);
      this.entries.set(hash, hit);
      return hit;
    }
    const p = this.fetch(hash);
    this.entries.set(hash, p);
    p.catch(() => this.entries.delete(hash));
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return p;
  }

  private async fetch(hash: string): Promise<BarColumns> {
    this.fetches++;
    const bytes = await this.redis.getBuffer(dataKey(this.prefix, hash));
    if (!bytes)
      throw new DataError(`data ${hash.slice(0, 12)} is not in the queue's data store (expired or never published)`);
    const got = contentHash(bytes);
    if (got !== hash) throw new DataError(`data ${hash.slice(0, 12)} arrived with hash ${got.slice(0, 12)}: corrupted`);
    return decodeColumns(bytes);
  }
}
