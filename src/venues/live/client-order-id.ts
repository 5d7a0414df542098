/**
 * Client order ids that never collide: across deployments sharing a venue account (each has its own hash of its
 * full id), across restarts (a run id), and within a run (the engine's order counter). They fit the venue's limit
 * (Binance spot allows 36 characters of `A-Za-z0-9.:/_-`).
 */
import { createHash, randomBytes } from 'node:crypto';

/** Binance's limit for `newClientOrderId`; the default for every venue. */
export const DEFAULT_MAX_CLIENT_ID_LENGTH = 36;

/** Characters every venue we know accepts in a client order id. */
const SAFE = /[^A-Za-z0-9_-]/g;

/** Eight base-36 characters of the SHA-256 of `s` (about 41 bits: a collision needs ~1.5 million deployments). */
export function shortHash(s: string): string {
  return BigInt(`0x${createHash('sha256').update(s).digest('hex').slice(0, 16)}`)
    .toString(36)
    .padStart(8, '0')
    .slice(-8);
}

/** A new run id: the start time in base 36 plus two random characters (two starts in one millisecond differ). */
export function newRunId(now = Date.now()): string {
  return `${now.toString(36)}${randomBytes(2).readUInt16BE(0).toString(36).padStart(2, '0').slice(-2)}`;
}

/**
 * The prefix of a deployment's client order ids in one run: `<hash of the full deployment id>-<run id>-`.
 * Two deployments differ by their hash however long and alike their ids are; two runs differ by the run id.
 */
export function clientOrderIdPrefix(deploymentId: string, runId: string): string {
  return `${deploymentClientIdPrefix(deploymentId)}${runId.replace(SAFE, '')}-`;
}

/** What the client order ids of every run of a deployment start with (reconciliation knows its own orders by it). */
export function deploymentClientIdPrefix(deploymentId: string): string {
  return `${shortHash(deploymentId)}-`;
}

/**
 * The client order id for an order: the prefix plus the engine's id (or the strategy's own client id). Past the
 * venue's limit, the tail is replaced by its hash so the id stays unique and fits.
 */
export function clientOrderIdFor(prefix: string, tail: string, maxLength = DEFAULT_MAX_CLIENT_ID_LENGTH): string {
  const safeTail = tail.replace(SAFE, '_');
  const id = `${prefix}${safeTail}`;
  if (id.length <= maxLength) return id;
  const hashed = `${prefix}${shortHash(tail)}`;
  if (hashed.length > maxLength) {
    throw new RangeError(`client order id prefix "${prefix}" leaves no room within ${maxLength} characters`);
  }
  return hashed;
}

/** The de-duplication key of a venue execution: our client order id plus the venue's trade id. */
export function fillKey(clientOrderId: string, venueTradeId: string): string {
  return `${clientOrderId}|${venueTradeId}`;
}
