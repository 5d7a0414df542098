import { AuthError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { promptHidden } from './prompt.js';
import { type Unlock, unlockFromEnv, Vault, vaultExists } from './vault.js';

/**
 * Unlock material for a command: TRADEFORGE_MASTER_KEY, else TRADEFORGE_PASSWORD, else a hidden prompt on the
 * terminal. `confirm` asks twice (creating a vault).
 */
export async function resolveUnlock(env: Record<string, string | undefined>, confirm = false): Promise<Unlock> {
  const fromEnv = unlockFromEnv(env);
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new AuthError(
      'the vault is locked: set TRADEFORGE_MASTER_KEY(_FILE) or TRADEFORGE_PASSWORD(_FILE), or run in a terminal',
    );
  }
  const password = await promptHidden('Owner password: ');
  if (confirm && (await promptHidden('Repeat password: ')) !== password) throw new AuthError('the passwords differ');
  return { password };
}

/** Unlocks the store's vault for a CLI command (creating it when `create` and none exists). */
export async function unlockVaultForCli(
  store: Store,
  env: Record<string, string | undefined>,
  opts: { create?: boolean } = {},
): Promise<Vault> {
  const exists = await vaultExists(store);
  if (!exists && !opts.create)
    throw new AuthError('no vault yet: store a secret with `tradeforge secrets set NAME` first');
  const unlock = await resolveUnlock(env, !exists);
  return exists ? Vault.unlock(store, unlock) : Vault.create(store, unlock);
}

/** Unlocks the vault only when unlock material is in the environment (for read-only commands that can do without). */
export async function tryUnlockFromEnv(
  store: Store,
  env: Record<string, string | undefined>,
): Promise<Vault | undefined> {
  const unlock = unlockFromEnv(env);
  if (!unlock || !(await vaultExists(store))) return undefined;
  return Vault.unlock(store, unlock);
}
