/**
 * A deployment names Kraken in config: `type: simulator` with `exchange: kraken` builds ccxt's kraken class pointed
 * at the simulator's Kraken mode (started in process, or at `options.url`), never ccxt's sandbox mode; a paper venue
 * on it starts in USD; an exchange the simulator does not speak, and a `ccxt` kraken venue asking for a sandbox, are
 * refused with one line naming the field.
 */
import { describe, expect, it } from 'vitest';
import { buildVenues } from '../src/app/venues.js';
import { resolveConfig } from '../src/core/config.js';
import { ConfigError } from '../src/core/errors.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';

const noSecrets = async () => undefined;
const configWith = (venue: Record<string, unknown>) =>
  resolveConfig({
    venues: [{ id: 'kr', ...venue }],
    deployments: [{ id: 'k', strategy: 'sma-cross', venue: 'kr', symbols: ['BTC/USD'] }],
  });

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('a Kraken venue named in config', () => {
  it('starts the Kraken simulator in process and talks to it through ccxt kraken over REST', async () => {
    const venues = await buildVenues(
      configWith({ type: 'simulator', exchange: 'kraken', options: { tickIntervalMs: 50, seed: 3 } }),
      'dev',
      noSecrets,
    );
    const built = venues.get('kr')!;
    try {
      expect(built.venue).toBeInstanceOf(CcxtVenue);
      const ccxtVenue = built.venue as CcxtVenue;
      expect(ccxtVenue.id).toBe('kraken');
      expect(ccxtVenue.capabilities.streaming).toBe(false);
      expect(built.krakenSimulator).toBeDefined();
      expect(built.simulator).toBeUndefined();
      expect(built.serverTimeResolutionMs).toBe(1_000);
      // The URLs are the loopback simulator's, not Kraken's.
      const api = (ccxtVenue.exchange.urls as { api: Record<string, string> }).api;
      expect(api.public).toBe(built.krakenSimulator!.url);
      expect(api.private).toBe(built.krakenSimulator!.url);
      const instruments = await built.venue.fetchInstruments();
      expect(instruments.map((i) => i.symbol).sort()).toEqual(['BTC/USD', 'ETH/USD']);
      const before = built.krakenSimulator!.requestCount('/0/private/BalanceEx');
      const usd = (await built.venue.fetchBalances()).find((b) => b.asset === 'USD');
      expect(usd?.total).toBe(100_000);
      expect(built.krakenSimulator!.requestCount('/0/private/BalanceEx')).toBe(before + 1);
    } finally {
      await built.close();
    }
  });

  it('paper-trades on the Kraken mode with a USD account by default', async () => {
    const venues = await buildVenues(
      configWith({ type: 'paper', exchange: 'kraken', options: { tickIntervalMs: 50 } }),
      'dev',
      noSecrets,
    );
    const built = venues.get('kr')!;
    try {
      expect(built.krakenSimulator).toBeDefined();
      const balances = await built.venue.fetchBalances();
      expect(balances.find((b) => b.asset === 'USD')?.total).toBe(100_000);
      expect(balances.find((b) => b.asset === 'USDT')).toBeUndefined();
    } finally {
      await built.close();
    }
  });

  it('refuses an exchange the simulator does not speak, and a Kraken simulator URL without its key', async () => {
    const e1 = await configError(
      buildVenues(configWith({ type: 'simulator', exchange: 'coinbase' }), 'dev', noSecrets),
    );
    expect(e1.message).toMatch(/venues\.0\.exchange/);
    expect(e1.message).toMatch(/binance, binanceusdm or kraken, not "coinbase"/);
    const e2 = await configError(
      buildVenues(
        configWith({ type: 'simulator', exchange: 'kraken', options: { url: 'http://127.0.0.1:9' } }),
        'dev',
        noSecrets,
      ),
    );
    expect(e2.message).toMatch(/venues\.0\.options/);
    expect(e2.message).toMatch(/apiKey/);
  });

  it("sends strictly increasing nonces from one instance, even within one millisecond (ccxt's are the ms clock)", async () => {
    const venue = new CcxtVenue({ exchange: 'kraken' });
    try {
      const nonce = venue.exchange.nonce.bind(venue.exchange);
      const seen = Array.from({ length: 1_000 }, () => Number(nonce()));
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
      expect(Math.abs(seen[0] - Date.now())).toBeLessThan(60_000);
    } finally {
      await venue.close();
    }
  });

  it('refuses ccxt sandbox mode for kraken (no Kraken spot testnet): the simulator is the way', async () => {
    const e = await configError(
      buildVenues(
        configWith({
          type: 'ccxt',
          exchange: 'kraken',
          sandbox: true,
          secrets: { apiKey: 'kraken.key', secret: 'kraken.secret' },
        }),
        'dev',
        async () => 'a-stored-secret',
      ),
    );
    expect(e.message).toMatch(/kraken has no testnet/);
  });
});
