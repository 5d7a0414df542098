import { isUserError, TradeforgeError } from '../core/errors.js';

/** Exit code for a user mistake (bad flag, bad file, bad config). */
export const EXIT_USAGE = 2;

/**
 * Prints an error for a person: one line for a user mistake (no stack trace), the stack for a bug
 * (set TRADEFORGE_DEBUG=1 to always see it). Returns the exit code to use.
 */
export function reportCliError(err: unknown): number {
  const debug = process.env.TRADEFORGE_DEBUG === '1';
  if (isUserError(err)) {
    process.stderr.write(`error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof TradeforgeError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(
    `internal error: ${e.message}\n${debug ? `${e.stack}\n` : '(set TRADEFORGE_DEBUG=1 for the stack trace)\n'}`,
  );
  return 1;
}
