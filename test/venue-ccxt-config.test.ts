/** ccxt adapter construction: exchange ids, the sandbox allow-list, and Kraken without a network. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/index.js';
import { CcxtVenue, SANDBOX_EXCHANGES } from '../src/venues/ccxt/index.js';

describe('CcxtVenue configuration', () => {
  it('builds Binance and Kraken from their ccxt ids with WebSocket support', async () => {
    for (const exchange of ['binance', 'kraken']) {
      const v = new CcxtVenue({ exchange });
      expect(v.id).toBe(exchange);
      expect(v.capabilities.streaming).toBe(true);
      expect(v.capabilities.clientOrderIds).toBe(true);
      await v.close();
    }
  });

  it('uses the Binance testnet in sandbox mode', async () => {
    const v = new CcxtVenue({ exchange: 'binance', sandbox: true });
    const api = (v.exchange.urls as { api: Record<string, unknown> }).api;
    expect(String(api.public)).toContain('testnet.binance.vision');
    await v.close();
  });

  it('refuses sandbox mode on exchanges without a testnet', () => {
    expect(SANDBOX_EXCHANGES).not.toContain('kraken');
    expect(() => new CcxtVenue({ exchange: 'kraken', sandbox: true })).toThrow(ConfigError);
    expect(() => new CcxtVenue({ exchange: 'kraken', sandbox: true })).toThrow(/kraken has no testnet/);
  });

  it('rejects an unknown exchange id', () => {
    expect(() => new CcxtVenue({ exchange: 'nosuchexchange' })).toThrow(/unknown ccxt exchange "nosuchexchange"/);
  });

  it('falls back to REST polling when streaming is disabled', async () => {
    const v = new CcxtVenue({ exchange: 'kraken', disableStreaming: true });
    expect(v.capabilities.streaming).toBe(false);
    await v.close();
  });
});
