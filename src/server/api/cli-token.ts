/**
 * The CLI's token: a random secret the runtime writes to `$TRADEFORGE_HOME/run/api-token` with mode 0600 on every
 * start; the local CLI sends it as `Authorization: Bearer`, so only the user who owns the home can control the runtime.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Prefix that tells a CLI token from a session token. */
export const CLI_TOKEN_PREFIX = 'tfc_';

/** The token file inside the run folder. */
export function cliTokenPath(runDir: string): string {
  return join(runDir, 'api-token');
}

/** Creates a fresh token and writes it atomically with mode 0600 (the folder 0700); returns the token. */
export function writeCliToken(runDir: string): string {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const token = `${CLI_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const file = cliTokenPath(runDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return token;
}

/** Removes the token file (on shutdown). */
export function removeCliToken(runDir: string): void {
  rmSync(cliTokenPath(runDir), { force: true });
}

/**
 * Reads the token; undefined when there is none. Refuses a file others can read, since anyone holding it can
 * use the kill switch.
 */
export function readCliToken(runDir: string): string | undefined {
  const file = cliTokenPath(runDir);
  if (!existsSync(file)) return undefined;
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by other users: run \`chmod 600 ${file}\` or restart the runtime`);
  }
  return readFileSync(file, 'utf8').trim() || undefined;
}

/** Compares a presented token with the expected one in constant time. */
export function cliTokenMatches(expected: string, presented: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}
