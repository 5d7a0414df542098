import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../src/backtest/runner.js';
import type { BarColumns } from '../src/core/bar.js';
import { generateBars } from '../src/data/index.js';
import {
  freqtradeDataDir,
  freqtradeFileName,
  writeFreqtradeFeather,
  writeFreqtradeJson,
} from './freqtrade-fixtures.js';
import { runCli } from './fixtures/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tf-ft-cfg-'));
const home = join(root, 'home');
const dataDir = freqtradeDataDir(root, 'binance');
const START = Date.UTC(2024, 0, 1);
const bars: Record<string, BarColumns> = {
  'BTC/USDT': generateBars({
    bars: 3000,
    seed: 11,
    timeframe: '5m',
    start: START,
    startPrice: 40_000,
    volatility: 0.6,
  }),
  'ETH/USDT': generateBars({ bars: 3000, seed: 12, timeframe: '5m', start: START, startPrice: 2_000, volatility: 0.8 }),
  'SOL/USDT': generateBars({ bars: 3000, seed: 13, timeframe: '5m', start: START, startPrice: 100, volatility: 1 }),
};
const CONFIG = {
  max_open_trades: 2,
  stake_currency: 'USDT',
  stake_amount: 'unlimited',
  tradable_balance_ratio: 0.99,
  dry_run: true,
  dry_run_wallet: 10_000,
  timeframe: '5m',
  fee: 0.001,
  minimal_roi: { '0': 0.02, '60': 0.01, '240': 0 },
  stoploss: -0.008,
  trailing_stop: true,
  trailing_stop_positive: 0.005,
  trailing_stop_positive_offset: 0.01,
  trailing_only_offset_is_reached: true,
  use_exit_signal: true,
  exit_profit_only: false,
  ignore_roi_if_entry_signal: false,
  exchange: { name: 'binance', key: '', secret: '', pair_whitelist: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'] },
  pairlists: [{ method: 'StaticPairList' }],
  bot_name: 'migrated',
};
const configFile = join(root, 'config.json');

beforeAll(() => {
  // BTC as feather with ns dates (pandas' default), ETH as feather with ms dates, SOL as JSON; a stray JSON copy
  // of BTC beside its feather file (Freqtrade keeps one format; the feather one is read).
  writeFreqtradeFeather(join(dataDir, freqtradeFileName('BTC/USDT', '5m', 'feather')), bars['BTC/USDT']);
  writeFreqtradeFeather(join(dataDir, freqtradeFileName('ETH/USDT', '5m', 'feather')), bars['ETH/USDT'], {
    unit: 'ms',
  });
  writeFreqtradeJson(join(dataDir, freqtradeFileName('SOL/USDT', '5m', 'json')), bars['SOL/USDT']);
  writeFreqtradeJson(join(dataDir, freqtradeFileName('BTC/USDT', '5m', 'json')), bars['BTC/USDT']);
  writeFileSync(configFile, JSON.stringify(CONFIG, null, 2));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { home, guardMs: 120_000 });

// The same run written in our own terms: what the Freqtrade config must translate to.
function nativeRun() {
  return runBacktest({
    data: Object.entries(bars).map(([symbol, columns]) => ({ symbol, columns, timeframe: '5m' as const })),
    strategy: 'sma-cross',
    params: { fast: 10, slow: 30 },
    cash: 10_000,
    fee: 0.001,
    stake: { kind: 'percent', value: 99, perFreeSlot: true },
    maxOpenTrades: 2,
    exits: {
      roi: { '0': 0.02, '60': 0.01, '240': 0 },
      stopLoss: 0.008,
      trailingStop: { enabled: true, positive: 0.005, offset: 0.01, onlyOffsetReached: true },
      useExitSignal: true,
      exitProfitOnly: false,
      ignoreRoiIfEntrySignal: false,
    },
  });
}

interface OutTrade {
  symbol: string;
  entryTime: number;
  exitTime: number;
  exitReason: string;
}

describe('tradeforge backtest --freqtrade-config', () => {
  it('runs a Freqtrade config on its data folder: same trades as the native spec, every exit rule at work', () => {
    const json = join(root, 'ft.json');
    const r = cli(
      'backtest',
      '--freqtrade-config',
      configFile,
      '--data',
      dataDir,
      '--strategy',
      'sma-cross',
      '--json',
      json,
      '--no-store',
      '--quiet',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    const native = nativeRun();
    expect(out.fingerprint).toBe(native.fingerprint);
    expect(out.trades.length).toBe(native.trades.length);
    const trades = out.trades as OutTrade[];
    expect(new Set(trades.map((t) => t.symbol))).toEqual(new Set(Object.keys(bars)));
    const reasons = new Set(trades.map((t) => t.exitReason));
    for (const reason of ['roi', 'stop_loss', 'exit_signal', 'trailing_stop']) expect(reasons).toContain(reason);
    // max_open_trades 2: at no moment are three trades open.
    const events = trades.flatMap((t) => [
      [t.entryTime, 1],
      [t.exitTime, -1],
    ]);
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let open = 0;
    let most = 0;
    for (const [, d] of events) {
      open += d;
      most = Math.max(most, open);
    }
    expect(most).toBe(2);
  });

  it('max_open_trades is what limits the run: without it three trades overlap', () => {
    const free = runBacktest({ ...nativeRunOptions(), maxOpenTrades: undefined });
    expect(free.trades.length).toBeGreaterThan(nativeRun().trades.length);
  });

  it('data import reads the folder into the store (feather over JSON); the config then runs from the store', () => {
    const imp = cli('data', 'import', dataDir);
    expect(imp.err).toBe('');
    expect(imp.code).toBe(0);
    for (const pair of Object.keys(bars)) expect(imp.out).toContain(`imported ${pair} 5m: 3000 rows`);
    expect(imp.out).toMatch(/skipped .*BTC_USDT-5m\.json \(the feather file of BTC\/USDT 5m is imported\)/);
    const json = join(root, 'store.json');
    const r = cli(
      'backtest',
      '--freqtrade-config',
      configFile,
      '--strategy',
      'sma-cross',
      '--json',
      json,
      '--no-store',
      '--quiet',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).fingerprint).toBe(nativeRun().fingerprint);
  });

  it('a key we do not support is a one-line error naming the file and the key path, and nothing runs', () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...CONFIG, order_types: { entry: 'limit', exit: 'limit' } }));
    const json = join(root, 'bad-out.json');
    const r = cli(
      'backtest',
      '--freqtrade-config',
      bad,
      '--data',
      dataDir,
      '--strategy',
      'sma-cross',
      '--json',
      json,
      '--no-store',
    );
    expect(r.code).not.toBe(0);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('order_types');
    expect(r.err).toContain(bad);
    expect(r.err).not.toMatch(/\s+at /);
  });
});

function nativeRunOptions() {
  return {
    data: Object.entries(bars).map(([symbol, columns]) => ({ symbol, columns, timeframe: '5m' as const })),
    strategy: 'sma-cross',
    params: { fast: 10, slow: 30 },
    cash: 10_000,
    fee: 0.001,
    stake: { kind: 'percent', value: 99, perFreeSlot: true } as const,
    maxOpenTrades: 2 as number | undefined,
    exits: CONFIG_EXITS,
  };
}
const CONFIG_EXITS = {
  roi: { '0': 0.02, '60': 0.01, '240': 0 },
  stopLoss: 0.008,
  trailingStop: { enabled: true, positive: 0.005, offset: 0.01, onlyOffsetReached: true },
};
