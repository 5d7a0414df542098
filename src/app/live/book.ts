/**
 * A deployment's book (cash, positions, realised P&L, fees, funding) rebuilt from the store the way the runtime
 * rebuilds it on restart: its stored fills replayed through the runtime's Portfolio and exact ledger, then its
 * stored funding. `tradeforge status` uses it while the runtime is down, so it shows the book the runtime would.
 */
import { z } from 'zod';
import { DataError } from '../../core/errors.js';
import type { Instrument } from '../../core/instrument.js';
import { Portfolio } from '../../engine/portfolio.js';
import type { DeploymentInput, Store } from '../../store/index.js';
import { replayFundingInto } from './funding-booker.js';
import { replayBook } from './journal.js';

/** Starting cash of a deployment without a capital cap. */
const DEFAULT_DEPLOYMENT_CASH = 10_000;

/** Starting cash of a deployment's book: its capital cap (10 000 when none is set). */
export function deploymentCash(d: { readonly capitalCap?: number | undefined }): number {
  return d.capitalCap ?? DEFAULT_DEPLOYMENT_CASH;
}

/** The kv key holding a deployment's contract multipliers (symbol → multiplier), written when it starts. */
export function multipliersKey(deploymentId: string): string {
  return `deployment.multipliers.${deploymentId}`;
}

/** Records the contract multipliers of a deployment's instruments, so its book can be rebuilt offline. */
export async function saveMultipliers(
  store: Store,
  deploymentId: string,
  instruments: readonly Instrument[],
): Promise<void> {
  const bySymbol: Record<string, number> = {};
  for (const i of instruments) bySymbol[i.symbol] = i.multiplier;
  await store.kv.set(multipliersKey(deploymentId), bySymbol);
}

const storedMultipliers = z.record(z.string(), z.number().positive().finite());
// Only what the rebuild reads of a stored deployment config; the rest was validated when the runtime started it.
const storedCapital = z.object({ capitalCap: z.number().positive().finite().optional() }).passthrough();

/**
 * The contract multipliers recorded for a deployment, per symbol in `symbols`' order; 1 where none is recorded
 * (spot, or a deployment last started before multipliers were recorded).
 */
export async function readMultipliers(
  store: Store,
  deploymentId: string,
  symbols: readonly string[],
): Promise<number[]> {
  const raw = await store.kv.get(multipliersKey(deploymentId));
  const parsed = storedMultipliers.safeParse(raw ?? {});
  if (!parsed.success)
    throw new DataError(`deployment ${deploymentId}: the stored contract multipliers are not positive numbers`);
  const bySymbol = parsed.data;
  return symbols.map((s) => bySymbol[s] ?? 1);
}

/**
 * Rebuilds a stored deployment's book with the runtime's own code: a Portfolio with the exact ledger as its
 * authority (as paper and live run), its stored fills replayed (`replayBook`), then its stored funding
 * (`replayFundingInto`). Each position is marked at its last fill price: the live mark is not stored.
 */
export async function rebuildBook(
  store: Store,
  deployment: Pick<DeploymentInput, 'id' | 'symbols' | 'config'>,
): Promise<Portfolio> {
  const config = storedCapital.safeParse(deployment.config ?? {});
  // A wrong starting cash would show a wrong book: refuse rather than guess.
  if (!config.success)
    throw new DataError(`deployment ${deployment.id}: the stored config's capitalCap is not a positive number`);
  const cash = deploymentCash(config.data);
  const pf = new Portfolio(deployment.symbols, {
    cash,
    multipliers: await readMultipliers(store, deployment.id, deployment.symbols),
    strategyId: deployment.id,
    exact: 'authority',
  });
  await replayBook(store, pf);
  await replayFundingInto(store, deployment.id, pf);
  return pf;
}
