/**
 * Builds the venues of a runtime from config, by profile (DEPLOY-4): `simulator` (the built-in exchange simulator,
 * in process or at a URL, through the real ccxt adapter), `paper` (paper fills on live market data), `ccxt` (a real
 * exchange, keys from the vault). `dev` refuses real-money ccxt venues (sandbox only), `dry_run` turns every ccxt
 * venue into a paper venue on its market data, `live` uses them as configured. `ig` builds an IG Markets venue
 * (`venue-ig.ts`: demo or live gateway, or a URL such as the IG simulator); `ibkr` an Interactive Brokers one on
 * TWS / IB Gateway (dry_run: a paper venue on its market data).
 */
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Venue } from '../core/venue.js';
import { durablePaperVenue, type PaperAccounts } from './paper-accounts.js';
import { CcxtVenue, type CcxtVenueOptions } from '../venues/ccxt/index.js';
import type { UserFeedMode } from '../venues/ccxt/user-feed.js';
import { IbkrVenue } from '../venues/ibkr/ibkr-venue.js';
import { ibkrOptionsFrom } from '../venues/ibkr/options.js';
import { type RequestBudget, requestBudgetFor } from '../risk/request-budget.js';
import { ResilientVenue } from '../venues/resilience.js';
import {
  ccxtUrlsFor,
  DEFAULT_MARKETS,
  KRAKEN_MARKETS,
  krakenCcxtUrls,
  type KrakenSimulatorHandle,
  type SimulatorHandle,
  startKrakenSimulator,
  startSimulator,
} from '../venues/simulator/index.js';
import { IG_MAX_DEAL_REFERENCE } from '../venues/ig/ig-venue.js';
import { futuresOptionsOf } from './venue-futures.js';
import { buildIgVenue, readVenueSecrets } from './venue-ig.js';

/** A runtime profile. */
export type Profile = 'dev' | 'dry_run' | 'live';

/** One built venue. */
export interface BuiltVenue {
  id: string;
  type: string;
  /** The adapter (streams are wrapped by the live feed and bridge). */
  venue: Venue;
  /** Retries, safe placement, reconnecting streams. */
  resilient: ResilientVenue;
  /** True when orders move real money (a ccxt venue in the live profile). */
  real: boolean;
  /** The request budget every REST call of this venue draws on (`risk.venueRequestsPerMinute` or the type's default). */
  budget?: RequestBudget;
  /** The in-process simulator, when this venue started one (Binance-speaking). */
  simulator?: SimulatorHandle;
  /** The in-process Kraken-speaking simulator, when this venue (`exchange: "kraken"`) started one. */
  krakenSimulator?: KrakenSimulatorHandle;
  /** The venue's longest client order id, when shorter than the default 36 (IG's deal references: 30). */
  maxClientIdLength?: number;
  /** Resolution of the venue's server time (IG's only clock is the 1 s `Date` header); 0 when exact. */
  serverTimeResolutionMs?: number;
  close(): Promise<void>;
}

/** Where a venue's order or fill updates come from now: its user-data stream, or REST polling. */
export interface UserStreamStatus {
  feed: 'orders' | 'fills';
  mode: UserFeedMode;
  /** Why the stream was left (mode `poll`). */
  cause?: Error;
}

/** Told each switch of a venue's order or fill feed between the user-data stream and REST polling. */
export type OnUserStream = (venueId: string, status: UserStreamStatus) => void;

/** Looks a secret up (the vault); undefined when there is no vault or no such secret. */
export type SecretLookup = (name: string) => Promise<string | undefined>;

type VenueConfig = Config['venues'][number];

/** ccxt `urls.api` entries for a simulator listening at `url` (what the simulator's own `ccxtUrls()` returns). */
export function simulatorCcxtUrls(url: string): Record<string, unknown> {
  return ccxtUrlsFor(url);
}

function num(v: unknown, key: string, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ConfigError(`${where}.options.${key}`, 'must be a number');
  return v;
}

/** Exchanges the simulator speaks (`venues[].exchange` of a `simulator` or `paper` venue). */
export const SIMULATED_EXCHANGES: readonly string[] = ['binance', 'binanceusdm', 'kraken'];

/**
 * Kraken nonce window of the in-process Kraken simulator's key: the runtime's pollers and orders run concurrently, so
 * a request signed later may arrive first, as on a real Kraken key set up with a nonce window.
 */
const KRAKEN_SIM_NONCE_WINDOW = 10_000;

interface SimulatedCcxt {
  venue: CcxtVenue;
  simulator?: SimulatorHandle;
  krakenSimulator?: KrakenSimulatorHandle;
}

async function simulatorCcxt(
  vc: VenueConfig,
  where: string,
  pollMs: number,
  symbols: string[],
  budget: RequestBudget | undefined,
  userStream: Pick<CcxtVenueOptions, 'userStream' | 'onUserStream'>,
): Promise<SimulatedCcxt> {
  const exchange = vc.exchange ?? 'binance';
  if (!SIMULATED_EXCHANGES.includes(exchange))
    throw new ConfigError(
      `${where}.exchange`,
      `the simulator speaks ${SIMULATED_EXCHANGES.slice(0, -1).join(', ')} or ${SIMULATED_EXCHANGES.at(-1)}, not "${exchange}"`,
    );
  if (exchange === 'kraken') return krakenSimulatorCcxt(vc, where, pollMs, symbols, budget, userStream);
  const opt = vc.options;
  // `exchange: binanceusdm` trades the simulator's USDⓈ-M futures API (`/fapi`) instead of its spot API.
  const { futures } = futuresOptionsOf(vc, where);
  let simulator: SimulatorHandle | undefined;
  let url = typeof opt.url === 'string' ? opt.url : undefined;
  let apiKey = typeof opt.apiKey === 'string' ? opt.apiKey : 'sim-key';
  let secret = typeof opt.secret === 'string' ? opt.secret : 'sim-secret';
  if (url === undefined) {
    const volatility = num(opt.volatility, 'volatility', where);
    simulator = await startSimulator({
      seed: num(opt.seed, 'seed', where) ?? 7,
      tickIntervalMs: num(opt.tickIntervalMs, 'tickIntervalMs', where) ?? 100,
      // The default markets with the configured volatility (e.g. 0 for a market that never moves).
      ...(volatility !== undefined ? { markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility })) } : {}),
    });
    url = simulator.url;
    apiKey = simulator.apiKey;
    secret = simulator.secret;
  }
  const venue = new CcxtVenue({
    exchange: futures ? 'binanceusdm' : 'binance',
    ...(futures ? { futures } : {}),
    apiKey,
    secret,
    urls: simulatorCcxtUrls(url),
    rateLimitMs: 5,
    timeoutMs: num(opt.timeoutMs, 'timeoutMs', where) ?? 5_000,
    pollIntervalMs: pollMs,
    ...userStream,
    symbols,
    ...(budget ? { budget } : {}),
  });
  return { venue, ...(simulator ? { simulator } : {}) };
}

// Kraken spot through ccxt's kraken class against the simulator's Kraken mode: URLs overridden to the loopback
// simulator (ccxt's sandbox mode has no Kraken spot testnet); market data over REST (the Kraken mode serves none over
// WebSocket), orders and fills from its private WebSocket when the user-data stream is on.
async function krakenSimulatorCcxt(
  vc: VenueConfig,
  where: string,
  pollMs: number,
  symbols: string[],
  budget: RequestBudget | undefined,
  userStream: Pick<CcxtVenueOptions, 'userStream' | 'onUserStream'>,
): Promise<SimulatedCcxt> {
  const opt = vc.options;
  let krakenSimulator: KrakenSimulatorHandle | undefined;
  let url = typeof opt.url === 'string' ? opt.url : undefined;
  let apiKey = typeof opt.apiKey === 'string' ? opt.apiKey : undefined;
  let secret = typeof opt.secret === 'string' ? opt.secret : undefined;
  if (url === undefined) {
    const volatility = num(opt.volatility, 'volatility', where);
    const feeRate = num(opt.feeRate, 'feeRate', where);
    krakenSimulator = await startKrakenSimulator({
      seed: num(opt.seed, 'seed', where) ?? 7,
      tickIntervalMs: num(opt.tickIntervalMs, 'tickIntervalMs', where) ?? 100,
      nonceWindow: KRAKEN_SIM_NONCE_WINDOW,
      ...(feeRate !== undefined ? { feeRate } : {}),
      ...(volatility !== undefined ? { markets: KRAKEN_MARKETS.map((m) => ({ ...m, volatility })) } : {}),
    });
    url = krakenSimulator.url;
    apiKey = krakenSimulator.apiKey;
    secret = krakenSimulator.secret;
  } else if (apiKey === undefined || secret === undefined) {
    throw new ConfigError(`${where}.options`, 'a Kraken simulator at "url" needs "apiKey" and "secret" (base64)');
  }
  const venue = new CcxtVenue({
    exchange: 'kraken',
    apiKey,
    secret,
    urls: krakenCcxtUrls(url),
    rateLimitMs: 5,
    timeoutMs: num(opt.timeoutMs, 'timeoutMs', where) ?? 5_000,
    pollIntervalMs: pollMs,
    disableStreaming: true,
    ...userStream,
    symbols,
    ...(budget ? { budget } : {}),
  });
  return { venue, ...(krakenSimulator ? { krakenSimulator } : {}) };
}

/**
 * Builds every venue a deployment of the config uses. With `paperAccounts`, paper venues continue the account saved
 * by the previous run and save every change.
 */
export async function buildVenues(
  config: Config,
  profile: Profile,
  secrets: SecretLookup,
  paperAccounts?: PaperAccounts,
  onVenueAlert?: (venueId: string, message: string) => void,
  onUserStream?: OnUserStream,
): Promise<Map<string, BuiltVenue>> {
  const out = new Map<string, BuiltVenue>();
  const used = new Set(config.deployments.map((d) => d.venue));
  const pollMs = config.runtime.pollMs;
  try {
    for (let i = 0; i < config.venues.length; i++) {
      const vc = config.venues[i];
      if (!used.has(vc.id)) continue;
      const where = `venues.${i}`;
      const symbols = [...new Set(config.deployments.filter((d) => d.venue === vc.id).flatMap((d) => d.symbols))];
      let venue: Venue;
      let simulator: SimulatorHandle | undefined;
      let krakenSimulator: KrakenSimulatorHandle | undefined;
      let closeMarket: (() => Promise<void>) | undefined;
      let real = false;
      let limits: Pick<BuiltVenue, 'maxClientIdLength' | 'serverTimeResolutionMs'> = {};
      // One budget per venue (RISK-5): every REST call of its adapter (orders, cancels, polling, reconciliation).
      const budget = requestBudgetFor(vc.type, config.risk.venueRequestsPerMinute);
      if (vc.userStream !== undefined && vc.type !== 'simulator' && vc.type !== 'ccxt')
        throw new ConfigError(
          `${where}.userStream`,
          `only simulator and ccxt venues read a user-data stream; remove it from ${vc.type} venue ${vc.id}`,
        );
      // Stream first unless switched off (`userStream: false`), REST polling while the stream is not confirmed or is
      // down (src/venues/ccxt/user-feed.ts). The promotion test's live phase that once placed no order with the stream
      // on was refused by the account's order budget, not the stream (docs/live.md). Each switch is reported.
      const userStream: Pick<CcxtVenueOptions, 'userStream' | 'onUserStream'> = {
        userStream: vc.userStream ?? true,
        ...(onUserStream
          ? {
              onUserStream: (feed, mode, cause) =>
                onUserStream(vc.id, { feed, mode, ...(cause !== undefined ? { cause } : {}) }),
            }
          : {}),
      };
      if (vc.type === 'simulator') {
        ({ venue, simulator, krakenSimulator } = await simulatorCcxt(vc, where, pollMs, symbols, budget, userStream));
      } else if (vc.type === 'paper') {
        if (futuresOptionsOf(vc, where).futures)
          throw new ConfigError(
            `${where}.exchange`,
            `a paper venue fills as spot; paper trading of futures (${vc.exchange}) is left out: use "type": "simulator"`,
          );
        // Paper fills come from the paper venue itself: its market venue never reads orders or fills.
        const sim = await simulatorCcxt(vc, where, pollMs, symbols, budget, { userStream: false });
        simulator = sim.simulator;
        krakenSimulator = sim.krakenSimulator;
        closeMarket = () => sim.venue.close();
        const quote = vc.exchange === 'kraken' ? 'USD' : 'USDT';
        const balances = (vc.options.balances as Record<string, number> | undefined) ?? { [quote]: 100_000 };
        venue = await durablePaperVenue(
          { id: vc.id, market: sim.venue, balances, feeRate: num(vc.options.feeRate, 'feeRate', where) ?? 0.001 },
          paperAccounts,
          where,
        );
      } else if (vc.type === 'ccxt') {
        if (!vc.exchange) throw new ConfigError(`${where}.exchange`, 'a ccxt venue needs "exchange" (e.g. binance)');
        if (profile === 'dev' && !vc.sandbox) {
          throw new ConfigError(
            `${where}.sandbox`,
            `profile dev trades no real money: set "sandbox": true for ${vc.id}, or use --profile dry_run (paper) or live`,
          );
        }
        const { futures, options } = futuresOptionsOf(vc, where);
        if (futures && profile === 'dry_run')
          throw new ConfigError(
            `${where}.exchange`,
            `profile dry_run paper-trades spot fills, which a futures venue (${vc.exchange}) would misreport: paper trading of futures is left out; run ${vc.id} with profile live, or on the simulator ("type": "simulator", "exchange": "${vc.exchange}")`,
          );
        // dry_run reads public market data only: no keys.
        const creds = profile === 'dry_run' ? undefined : await readVenueSecrets('ccxt', vc, where, secrets);
        const apiKey = creds?.apiKey;
        const secret = creds?.secret;
        const ccxtVenue = new CcxtVenue({
          exchange: vc.exchange,
          ...(apiKey !== undefined ? { apiKey } : {}),
          ...(secret !== undefined ? { secret } : {}),
          sandbox: vc.sandbox,
          ...(vc.urls ? { urls: vc.urls } : {}),
          options,
          ...(futures ? { futures } : {}),
          pollIntervalMs: pollMs,
          // dry_run paper-trades on public data: no keys, so no user-data stream either.
          ...(profile === 'dry_run' ? { userStream: false } : userStream),
          symbols,
          ...(budget ? { budget } : {}),
        });
        if (profile === 'dry_run') {
          closeMarket = () => ccxtVenue.close();
          venue = await durablePaperVenue(
            { id: vc.id, market: ccxtVenue, balances: { USDT: 100_000 } },
            paperAccounts,
            where,
          );
        } else {
          venue = ccxtVenue;
          real = profile === 'live' && !vc.sandbox;
        }
      } else if (vc.type === 'ig') {
        ({ venue, real } = await buildIgVenue(vc, where, {
          profile,
          secrets,
          ...(budget ? { budget } : {}),
          pollMs,
          ...(onVenueAlert ? { onAlert: (m: string) => onVenueAlert(vc.id, m) } : {}),
        }));
        limits = { maxClientIdLength: IG_MAX_DEAL_REFERENCE, serverTimeResolutionMs: 1_000 };
      } else if (vc.type === 'ibkr') {
        // `sandbox: true` means a paper account, checked at connect; dev trades paper only, like ccxt's sandbox rule.
        if (profile === 'dev' && !vc.sandbox)
          throw new ConfigError(
            `${where}.sandbox`,
            `profile dev trades no real money: set "sandbox": true (a paper account) for ${vc.id}`,
          );
        // dry_run reads IB market data only: paper fills on it, nothing is sent to the account.
        const dry = profile === 'dry_run';
        const ibVenue = new IbkrVenue(
          ibkrOptionsFrom(vc.id, vc.options, where, { symbols, paperOnly: vc.sandbox && !dry }),
        );
        if (dry) {
          closeMarket = () => ibVenue.close();
          venue = await durablePaperVenue(
            { id: vc.id, market: ibVenue, balances: { USD: 100_000 } },
            paperAccounts,
            where,
          );
        } else {
          venue = ibVenue;
          real = profile === 'live' && !vc.sandbox;
        }
        // reqCurrentTime answers whole seconds: the clock-drift guard allows for that.
        limits = { serverTimeResolutionMs: 1_000 };
      } else {
        throw new ConfigError(`${where}.type`, `venue type "${vc.type}" is not available in the runtime yet`);
      }
      // Kraken's clock (`/0/public/Time`) is whole seconds.
      if ((vc.type === 'simulator' || vc.type === 'ccxt') && vc.exchange === 'kraken')
        limits = { ...limits, serverTimeResolutionMs: 1_000 };
      const resilient = new ResilientVenue(venue, { place: { settleMs: 300 } });
      const built: BuiltVenue = {
        id: vc.id,
        type: vc.type,
        venue,
        resilient,
        real,
        ...limits,
        ...(budget ? { budget } : {}),
        ...(simulator ? { simulator } : {}),
        ...(krakenSimulator ? { krakenSimulator } : {}),
        async close() {
          await venue.close();
          await closeMarket?.();
          await simulator?.close();
          await krakenSimulator?.close();
        },
      };
      out.set(vc.id, built);
      await resilient.connect();
    }
  } catch (err) {
    for (const v of out.values()) await v.close().catch(() => undefined);
    throw err;
  }
  for (const d of config.deployments) {
    if (!out.has(d.venue)) {
      const k = config.deployments.indexOf(d);
      throw new ConfigError(`deployments.${k}.venue`, `no venue "${d.venue}" in "venues"`);
    }
  }
  return out;
}
