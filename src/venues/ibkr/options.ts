/** The `options` of an `ibkr` venue in the config file, checked field by field into adapter options. */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import type { IbkrVenueOptions } from './ibkr-venue.js';

const schema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  clientId: z.number().int().min(0).optional(),
  account: z.string().min(1).optional(),
  maxMessagesPerSecond: z.number().int().min(1).max(50).optional(),
  requestTimeoutMs: z.number().int().positive().optional(),
  marketFillWaitMs: z.number().int().min(0).optional(),
  reconnectDelayMs: z.number().int().positive().optional(),
  reconnectMaxDelayMs: z.number().int().positive().optional(),
});

/** Adapter options from a venue's config `options`; `where` is the venue's config path (e.g. `venues.0`). */
export function ibkrOptionsFrom(
  id: string,
  options: Record<string, unknown>,
  where: string,
  extra: Pick<IbkrVenueOptions, 'symbols' | 'paperOnly'> = {},
): IbkrVenueOptions {
  const r = schema.safeParse(options);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue.path.length ? `${where}.options.${issue.path.join('.')}` : `${where}.options`;
    throw new ConfigError(key, issue.message);
  }
  const out: IbkrVenueOptions = { id, ...extra };
  for (const [k, v] of Object.entries(r.data)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
