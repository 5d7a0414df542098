import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AuthError } from '../core/errors.js';

const FORMAT_V1 = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a fresh random 96-bit nonce per call and `aad` bound as associated data.
 * Output (base64): version byte | nonce (12) | ciphertext | tag (16).
 */
export function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  if (key.length !== 32) throw new RangeError('AES-256-GCM needs a 32-byte key');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT_V1), nonce, ct, cipher.getAuthTag()]).toString('base64');
}

/** Opens a `seal` output; throws AuthError when the key, the AAD or any byte is wrong. */
export function open(key: Buffer, sealed: string, aad: string, what = 'value'): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 1 + NONCE_BYTES + TAG_BYTES || raw[0] !== FORMAT_V1) {
    throw new AuthError(`cannot decrypt ${what}: unknown or damaged format`, 'VAULT_FORMAT');
  }
  const nonce = raw.subarray(1, 1 + NONCE_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const ct = raw.subarray(1 + NONCE_BYTES, raw.length - TAG_BYTES);
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    throw new AuthError(`cannot decrypt ${what}: wrong key or tampered data`, 'VAULT_DECRYPT');
  }
}
