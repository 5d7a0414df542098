import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseFreqtradeConfig } from './freqtrade-config.js';
import { exitConfigSchema } from './run-spec.js';

const FULL = {
  max_open_trades: 2,
  stake_currency: 'USDT',
  stake_amount: 500,
  dry_run_wallet: 2000,
  timeframe: '5m',
  fee: 0.001,
  minimal_roi: { '0': 0.04, '30': 0.02, '60': 0 },
  stoploss: -0.05,
  trailing_stop: true,
  trailing_stop_positive: 0.01,
  trailing_stop_positive_offset: 0.02,
  trailing_only_offset_is_reached: true,
  use_exit_signal: false,
  exit_profit_only: true,
  ignore_roi_if_entry_signal: true,
  exchange: { name: 'binance', key: '', secret: '', pair_whitelist: ['BTC/USDT', 'ETH/USDT'] },
  pairlists: [{ method: 'StaticPairList' }],
  telegram: { enabled: false },
  bot_name: 'freqtrade',
};

describe('parseFreqtradeConfig', () => {
  it('maps every supported key onto the run spec, exits valid under our schema', () => {
    const s = parseFreqtradeConfig(FULL, 'config.json');
    expect(s).toEqual({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      exchange: 'binance',
      timeframe: '5m',
      stake: { kind: 'amount', value: 500 },
      fee: 0.001,
      cash: 2000,
      maxOpenTrades: 2,
      exits: {
        roi: { '0': 0.04, '30': 0.02, '60': 0 },
        stopLoss: 0.05,
        trailingStop: { enabled: true, positive: 0.01, offset: 0.02, onlyOffsetReached: true },
        useExitSignal: false,
        exitProfitOnly: true,
        ignoreRoiIfEntrySignal: true,
      },
    });
    expect(exitConfigSchema.safeParse(s.exits).success).toBe(true);
  });

  it('"unlimited" stake shares tradable_balance_ratio of the free cash among free slots; -1 trades is no limit', () => {
    const s = parseFreqtradeConfig(
      { stake_amount: 'unlimited', tradable_balance_ratio: 0.5, max_open_trades: -1 },
      'c.json',
    );
    expect(s.stake).toEqual({ kind: 'percent', value: 50, perFreeSlot: true });
    expect(s.maxOpenTrades).toBeUndefined();
  });

  it('trailing_* numbers without trailing_stop on do nothing (as in Freqtrade)', () => {
    const s = parseFreqtradeConfig({ trailing_stop: false, trailing_stop_positive: 0.01 }, 'c.json');
    expect(s.exits.trailingStop).toBeUndefined();
  });

  it.each([
    [{ order_types: { entry: 'limit' } }, 'order_types'],
    [{ entry_pricing: { price_side: 'same' } }, 'entry_pricing'],
    [
      { exchange: { name: 'binance', ccxt_config: {}, markets_refresh_interval: 60 } },
      'exchange.markets_refresh_interval',
    ],
    [{ pairlists: [{ method: 'VolumePairList', number_assets: 20 }] }, 'pairlists.0'],
    [{ exchange: { pair_whitelist: ['.*/USDT'] } }, 'exchange.pair_whitelist'],
    [{ minimal_roi: { soon: 0.1 } }, 'minimal_roi.soon'],
    [{ stoploss: 0.1 }, 'stoploss'],
    [{ max_open_trades: 1.5 }, 'max_open_trades'],
  ])('refuses %j with a one-line error naming the file and %s', (raw, key) => {
    let err: unknown;
    try {
      parseFreqtradeConfig(raw, 'user_data/config.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${key} (in user_data/config.json)`);
    expect(msg).not.toContain('\n');
  });
});
