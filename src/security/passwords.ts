import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { ValidationError } from '../core/errors.js';

/** Argon2id parameters of stored password hashes. Encoded in each hash. */
export interface PasswordHashParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Default password-hash parameters: the vault's key derivation (64 MiB, 3 passes, 1 lane). The owner's password
 * protects both, so the stored hash must never be the cheaper target for an offline guesser.
 */
export const DEFAULT_PASSWORD_HASH: PasswordHashParams = { memoryCost: 65_536, timeCost: 3, parallelism: 1 };

/** True when a stored PHC hash uses less memory or fewer passes than `params` (rehash it at the next login). */
export function hashIsWeaker(stored: string, params: PasswordHashParams = DEFAULT_PASSWORD_HASH): boolean {
  const m = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!m) return true;
  return Number(m[1]) < params.memoryCost || Number(m[2]) < params.timeCost;
}

const ARGON2ID = 2 as Algorithm;

/** Hashes a password with Argon2id (PHC string with a random 16-byte salt). */
export async function hashPassword(
  password: string,
  params: PasswordHashParams = DEFAULT_PASSWORD_HASH,
): Promise<string> {
  return hash(password.normalize('NFC'), { algorithm: ARGON2ID, ...params });
}

/** Checks a password against a stored hash (constant-time inside argon2). */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFC'));
  } catch {
    return false;
  }
}

/** Minimum password length. */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * Password rules: at least 12 characters; at least two classes of lower case, upper case, digits, others; not
 * one repeated character; must not contain the username. Returns the problems (empty when acceptable).
 */
export function passwordProblems(password: string, username?: string): string[] {
  const problems: string[] = [];
  if ([...password].length < MIN_PASSWORD_LENGTH) problems.push(`must be at least ${MIN_PASSWORD_LENGTH} characters`);
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 2) problems.push('must mix at least two of: lower case, upper case, digits, symbols');
  if (password.length > 0 && new Set(password).size === 1) problems.push('must not be one repeated character');
  if (username && username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) {
    problems.push('must not contain the username');
  }
  return problems;
}

/** Throws ValidationError naming every broken rule. */
export function assertStrongPassword(password: string, username?: string): void {
  const p = passwordProblems(password, username);
  if (p.length) throw new ValidationError(`password ${p.join('; ')}`, 'password');
}
