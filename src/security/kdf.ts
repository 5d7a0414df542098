import { type Algorithm, hashRaw } from '@node-rs/argon2';
import { ConfigError } from '../core/errors.js';

/** Argon2id parameters of the key derivation, stored with the vault so they can be raised later. */
export interface KdfParams {
  algorithm: 'argon2id';
  /** Memory in KiB. */
  memoryCost: number;
  /** Passes. */
  timeCost: number;
  parallelism: number;
}

/** Defaults: 64 MiB, 3 passes, 1 lane (RFC 9106's second recommended option; ~0.2 s here). */
export const DEFAULT_KDF: KdfParams = { algorithm: 'argon2id', memoryCost: 65_536, timeCost: 3, parallelism: 1 };

// @node-rs/argon2 exports Algorithm as an ambient const enum, which isolatedModules cannot read.
const ARGON2ID = 2 as Algorithm;

/** Derives a 32-byte key-encryption key from a password and salt with Argon2id. */
export async function deriveKey(password: string, salt: Buffer, params: KdfParams = DEFAULT_KDF): Promise<Buffer> {
  return hashRaw(password.normalize('NFC'), {
    algorithm: ARGON2ID,
    salt,
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    outputLen: 32,
  });
}

/** Parses TRADEFORGE_MASTER_KEY: 32 bytes as 64 hex characters or base64. */
export function parseMasterKey(text: string, name = 'TRADEFORGE_MASTER_KEY'): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) return b;
  }
  throw new ConfigError(
    name,
    'must be 32 random bytes written as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)',
  );
}
