import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../core/errors.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding), the format authenticator apps expect. */
export function base32Encode(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case-insensitive; spaces and padding ignored). */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const i = B32.indexOf(ch);
    if (i < 0) throw new ValidationError(`bad base32 character "${ch}" in TOTP secret`, 'secret');
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** Hash of an OTP (RFC 6238 allows SHA-1, SHA-256, SHA-512). */
export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** TOTP settings. */
export interface TotpOptions {
  /** Step in seconds (default 30). */
  period?: number;
  /** Code length (default 6). */
  digits?: number;
  algorithm?: OtpAlgorithm;
}

/** RFC 4226 HOTP value for a counter. */
export function hotp(key: Buffer, counter: number, digits = 6, algorithm: OtpAlgorithm = 'sha1'): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 TOTP code at `timeMs`. */
export function totp(key: Buffer, timeMs: number, opts: TotpOptions = {}): string {
  const counter = Math.floor(timeMs / 1000 / (opts.period ?? 30));
  return hotp(key, counter, opts.digits ?? 6, opts.algorithm ?? 'sha1');
}

/** The time step a code belongs to (accepting `window` steps either side for clock skew); undefined when wrong. */
export function matchTotp(
  key: Buffer,
  code: string,
  timeMs: number,
  opts: TotpOptions & { window?: number } = {},
): number | undefined {
  const digits = opts.digits ?? 6;
  const c = code.replace(/\s/g, '');
  if (!new RegExp(`^\\d{${digits}}$`).test(c)) return undefined;
  const counter = Math.floor(timeMs / 1000 / (opts.period ?? 30));
  const window = opts.window ?? 1;
  let step: number | undefined;
  for (let d = -window; d <= window; d++) {
    const expected = Buffer.from(hotp(key, counter + d, digits, opts.algorithm ?? 'sha1'));
    // Compare all candidates so timing does not reveal which step matched.
    if (timingSafeEqual(expected, Buffer.from(c))) step = counter + d;
  }
  return step;
}

/** Checks a code, accepting `window` steps either side for clock skew. */
export function verifyTotp(
  key: Buffer,
  code: string,
  timeMs: number,
  opts: TotpOptions & { window?: number } = {},
): boolean {
  return matchTotp(key, code, timeMs, opts) !== undefined;
}

/** A new random 160-bit TOTP secret. */
export function generateTotpSecret(): Buffer {
  return randomBytes(20);
}

/** The otpauth:// URI an authenticator app scans. */
export function otpauthUri(secret: Buffer, account: string, issuer = 'tradeforge'): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  return `otpauth://totp/${label}?secret=${base32Encode(secret)}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
}
