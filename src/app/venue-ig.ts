/**
 * Builds an IG venue from a `venues[]` entry of type `ig` (VENUE-2): the gateway (demo, live, or a URL such as the
 * IG simulator), the session version and account, the markets (symbol → epic), the broker-side stop policy, the
 * free-margin floor, and the credentials read from the vault by the secret names the entry gives.
 */
import { z } from 'zod';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { RequestBudget } from '../venues/request-budget.js';
import { IG_BASE_URLS, IgClient } from '../venues/ig/client.js';
import { IgVenue } from '../venues/ig/ig-venue.js';

type VenueConfig = Config['venues'][number];

/**
 * The vault secrets each venue type needs, by the key under `venues[].secrets` that names them: the one list the
 * builders read credentials by (`secrets: { apiKey: "ig.key", identifier: "ig.user", password: "ig.pass" }`).
 */
export const VENUE_SECRET_KEYS = {
  ccxt: ['apiKey', 'secret'],
  ig: ['apiKey', 'identifier', 'password'],
} as const;

const optionsSchema = z.strictObject({
  /** demo (default) or live gateway; ignored when `url` is given. */
  environment: z.enum(['demo', 'live']).default('demo'),
  /** Another gateway, e.g. the IG simulator's URL (…/gateway/deal). */
  url: z.string().url().optional(),
  sessionVersion: z.union([z.literal(2), z.literal(3)]).default(2),
  accountId: z.string().min(1).optional(),
  markets: z.record(z.string().regex(/^[^/]+\/[^/]+$/, 'symbols are BASE/QUOTE'), z.string().min(1)),
  stop: z.strictObject({
    kind: z.enum(['normal', 'trailing', 'guaranteed']),
    distance: z.number().positive(),
    increment: z.number().positive().optional(),
  }),
  marginFloor: z.number().min(0).max(1).optional(),
  /**
   * Stream prices and deal updates from IG's Lightstreamer server (default true); REST polling stays behind the
   * stream as its safety net, every `streamPollSeconds` while it is live, at the runtime's rate whenever it is not.
   */
  streaming: z.boolean().default(true),
  streamPollSeconds: z.number().positive().default(30),
});

/** The parsed `options` of an IG venue entry. */
export type IgVenueConfig = z.infer<typeof optionsSchema>;

/** Validates an IG venue entry's options; a ConfigError names the first bad field (`venues.0.options.stop.distance`). */
export function parseIgOptions(options: unknown, where: string): IgVenueConfig {
  const r = optionsSchema.safeParse(options);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`${where}.options.${issue.path.join('.')}`, issue.message);
  }
  const o = r.data;
  if (o.stop.kind === 'trailing' && o.stop.increment === undefined)
    throw new ConfigError(`${where}.options.stop.increment`, 'a trailing stop needs increment (points)');
  return o;
}

/** Reads every secret a venue type needs; a ConfigError lists the ones missing from the config or the vault. */
export async function readVenueSecrets<K extends keyof typeof VENUE_SECRET_KEYS>(
  type: K,
  vc: VenueConfig,
  where: string,
  lookup: (name: string) => Promise<string | undefined>,
): Promise<Record<(typeof VENUE_SECRET_KEYS)[K][number], string>> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const key of VENUE_SECRET_KEYS[type]) {
    const name = vc.secrets[key];
    const value = name === undefined ? undefined : await lookup(name);
    if (value === undefined)
      missing.push(name === undefined ? `secrets.${key} (not set)` : `secrets.${key} = "${name}"`);
    else out[key] = value;
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `${where}.secrets`,
      `venue ${vc.id} needs ${VENUE_SECRET_KEYS[type].map((k) => `secrets.${k}`).join(', ')} naming vault entries; missing: ${missing.join(', ')} (tradeforge secrets set NAME; unlock with TRADEFORGE_MASTER_KEY or TRADEFORGE_PASSWORD)`,
    );
  }
  return out as Record<(typeof VENUE_SECRET_KEYS)[K][number], string>;
}

/** What building an IG venue needs from the runtime. */
export interface IgVenueDeps {
  profile: 'dev' | 'dry_run' | 'live';
  secrets: (name: string) => Promise<string | undefined>;
  /** The venue's request budget (IG's 30 non-trading requests a minute unless configured). */
  budget?: RequestBudget;
  pollMs: number;
  onAlert?: (message: string) => void;
}

/** Builds (does not connect) an IgVenue; `real` is true when it trades real money (the live gateway, live profile). */
export async function buildIgVenue(
  vc: VenueConfig,
  where: string,
  deps: IgVenueDeps,
): Promise<{ venue: IgVenue; real: boolean }> {
  const o = parseIgOptions(vc.options, where);
  const live = o.url === undefined && o.environment === 'live';
  if (deps.profile === 'dev' && live) {
    throw new ConfigError(
      `${where}.options.environment`,
      `profile dev trades no real money: use the demo environment for ${vc.id}, or --profile live`,
    );
  }
  if (deps.profile === 'dry_run') {
    throw new ConfigError(
      `${where}.type`,
      `profile dry_run has no paper mode for IG yet: run ${vc.id} against IG's demo environment with --profile dev`,
    );
  }
  const creds = await readVenueSecrets('ig', vc, where, deps.secrets);
  const client = new IgClient({
    baseUrl: o.url ?? IG_BASE_URLS[o.environment],
    apiKey: creds.apiKey,
    identifier: creds.identifier,
    password: creds.password,
    sessionVersion: o.sessionVersion,
    ...(o.accountId !== undefined ? { accountId: o.accountId } : {}),
    ...(deps.budget ? { budget: deps.budget } : {}),
    ...(deps.onAlert ? { onAlert: deps.onAlert } : {}),
  });
  const venue = new IgVenue({
    id: vc.id,
    client,
    markets: o.markets,
    stop: o.stop,
    pollIntervalMs: deps.pollMs,
    streaming: o.streaming,
    streamPollIntervalMs: o.streamPollSeconds * 1000,
    ...(o.marginFloor !== undefined ? { marginFloor: o.marginFloor } : {}),
    ...(deps.onAlert ? { onAlert: deps.onAlert } : {}),
  });
  return { venue, real: deps.profile === 'live' && live };
}
