/**
 * The paper venues' accounts in the runtime's store (one key-value row per venue, written whole in one statement),
 * so `tradeforge start` after a stop or a crash continues the same balances, resting orders and fills.
 */
import { ConfigError } from '../core/errors.js';
import type { Store } from '../store/index.js';
import { type PaperState, PaperVenue, type PaperVenueOptions } from '../venues/paper/index.js';

/** The store key of paper venue `venueId`'s account. */
export function paperAccountKey(venueId: string): string {
  return `paper.account.${venueId}`;
}

/** Where paper accounts are loaded from and saved to. */
export interface PaperAccounts {
  load(venueId: string): Promise<unknown>;
  save(venueId: string, state: PaperState): Promise<void>;
  /** A failed save (the account carries on in memory; the next change writes it whole again). */
  onError(err: Error): void;
}

/** Paper accounts kept in the store's key-value table. */
export function paperAccountsIn(store: Store, onError: (err: Error) => void): PaperAccounts {
  return {
    load: async (venueId) => {
      const saved = await store.kv.get(paperAccountKey(venueId));
      return typeof saved === 'string' ? JSON.parse(saved) : saved;
    },
    // Stored as JSON text: the store's canonical JSON of a whole account (every key sorted) costs four times as much
    // on every change, and nothing hashes or queries this value.
    save: (venueId, state) => store.kv.set(paperAccountKey(venueId), JSON.stringify(state)),
    onError,
  };
}

/**
 * Builds a paper venue whose account is restored from `accounts` (when one was saved) and saved after every change.
 * Without `accounts` the account starts from `options.balances` and lives in memory only. A saved account that does
 * not parse stops the start with an error naming the field: a paper account is never silently reset.
 */
export async function durablePaperVenue(
  options: PaperVenueOptions & { id: string },
  accounts: PaperAccounts | undefined,
  where: string,
): Promise<PaperVenue> {
  if (accounts === undefined) return new PaperVenue(options);
  const venue = new PaperVenue({
    ...options,
    save: (state) => accounts.save(options.id, state),
    onError: (err) => {
      options.onError?.(err);
      accounts.onError(err);
    },
  });
  const saved = await accounts.load(options.id);
  if (saved !== undefined) {
    try {
      venue.restore(saved as PaperState);
    } catch (err) {
      throw new ConfigError(
        where,
        `the saved paper account of venue "${options.id}" (store key ${paperAccountKey(options.id)}) cannot be restored: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
  return venue;
}
