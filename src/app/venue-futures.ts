/**
 * The futures settings of a ccxt or simulator venue entry (`options.futures`): leverage and margin mode set at
 * connect, the free-margin floor, and the price stops trigger on. A venue is in futures mode when its `exchange` is a futures exchange
 * (`binanceusdm`); `options.futures` on any other exchange is refused rather than ignored.
 */
import { z } from 'zod';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { type CcxtFuturesOptions, FUTURES_EXCHANGES } from '../venues/ccxt/index.js';

type VenueConfig = Config['venues'][number];

const futuresSchema = z.strictObject({
  leverage: z.number().int().min(1).max(125).optional(),
  marginMode: z.enum(['cross', 'isolated']).optional(),
  marginFloor: z.number().min(0).max(1).optional(),
  stopTrigger: z.enum(['mark', 'contract']).optional(),
});

/** The venue's futures settings (undefined for a spot venue) and its remaining `options` for ccxt. */
export interface VenueFuturesSplit {
  futures: CcxtFuturesOptions | undefined;
  options: Record<string, unknown>;
}

/** Splits `options.futures` off a venue entry, validated; a ConfigError names the bad field. */
export function futuresOptionsOf(vc: VenueConfig, where: string): VenueFuturesSplit {
  const { futures: raw, ...options } = vc.options;
  const isFutures = vc.exchange !== undefined && FUTURES_EXCHANGES.includes(vc.exchange);
  if (!isFutures) {
    if (raw !== undefined)
      throw new ConfigError(
        `${where}.options.futures`,
        `futures settings need a futures exchange ("exchange": ${FUTURES_EXCHANGES.map((e) => `"${e}"`).join(' or ')}), not ${vc.exchange ?? 'the default spot simulator'}`,
      );
    return { futures: undefined, options };
  }
  const r = futuresSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
    throw new ConfigError(`${where}.options.futures${path}`, issue.message);
  }
  return { futures: r.data, options };
}
