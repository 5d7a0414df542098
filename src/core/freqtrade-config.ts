import { ConfigError } from './errors.js';
import type { ExitConfig, StakeSpec } from './run-spec.js';

/**
 * A Freqtrade config translated into our run spec (`tradeforge backtest --freqtrade-config`). Only the keys
 * that shape a backtest and that we reproduce exactly are read; any other key that would change the result is
 * refused with a one-line error naming the file and the key path, so a migrated backtest never silently differs.
 */
export interface FreqtradeRunSettings {
  /** `exchange.pair_whitelist`, as the pairs are named (`BTC/USDT`). */
  symbols?: string[];
  /** `exchange.name`: the folder under `user_data/data/` the pairs' data come from. */
  exchange?: string;
  timeframe?: string;
  /** `stake_amount`: a quote amount, or `"unlimited"` (the free cash shared among the free trade slots). */
  stake?: StakeSpec;
  fee?: number;
  /** `dry_run_wallet`: the starting cash. */
  cash?: number;
  /** `max_open_trades` (absent: no limit, as Freqtrade's -1). */
  maxOpenTrades?: number;
  exits: ExitConfig;
}

// Keys that do not change a backtest's trades (notification, API, bot identity, storage): read and ignored.
const IGNORED = new Set([
  '$schema',
  'bot_name',
  'telegram',
  'api_server',
  'webhook',
  'discord',
  'initial_state',
  'internals',
  'db_url',
  'logfile',
  'dry_run',
  'force_entry_enable',
  'cancel_open_orders_on_exit',
  'fiat_display_currency',
  'stake_currency',
  'dataformat_ohlcv',
  'dataformat_trades',
  'datadir',
  'user_data_dir',
  'strategy_path',
  'exchange.key',
  'exchange.secret',
  'exchange.password',
  'exchange.uid',
  'exchange.ccxt_config',
  'exchange.ccxt_async_config',
  'exchange.pair_blacklist',
]);

function where(file: string, key: string): string {
  return `${key} (in ${file})`;
}

function fail(file: string, key: string, message: string): never {
  throw new ConfigError(where(file, key), message);
}

function num(v: unknown, file: string, key: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, key, `expected a number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, file: string, key: string): boolean {
  if (typeof v !== 'boolean') fail(file, key, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function record(v: unknown, file: string, key: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(file, key, 'expected an object');
  return v as Record<string, unknown>;
}

/**
 * Reads a parsed Freqtrade config (`raw`, read from `file`). Supported: `minimal_roi`, `stoploss`,
 * `trailing_stop`, `trailing_stop_positive`, `trailing_stop_positive_offset`, `trailing_only_offset_is_reached`,
 * `use_exit_signal`, `exit_profit_only`, `exit_profit_offset`, `ignore_roi_if_entry_signal`, `stake_amount`,
 * `tradable_balance_ratio`, `fee`, `timeframe`, `max_open_trades`, `dry_run_wallet`, `exchange.name`,
 * `exchange.pair_whitelist`, and a `pairlists` of only `StaticPairList`. A ConfigError names the first key we
 * do not support.
 */
export function parseFreqtradeConfig(raw: unknown, file: string): FreqtradeRunSettings {
  const root = record(raw, file, '(root)');
  const out: FreqtradeRunSettings = { exits: {} };
  const exits: Record<string, unknown> = {};
  const trailing: Record<string, unknown> = {};
  let stakeRaw: unknown;
  let ratio = 0.99;
  for (const [key, v] of Object.entries(root)) {
    if (IGNORED.has(key)) continue;
    switch (key) {
      case 'minimal_roi': {
        const roi: Record<string, number> = {};
        for (const [minutes, r] of Object.entries(record(v, file, key))) {
          if (!/^\d+(\.\d+)?$/.test(minutes)) fail(file, `${key}.${minutes}`, 'ROI keys are minutes held, e.g. "0"');
          roi[minutes] = num(r, file, `${key}.${minutes}`);
        }
        exits.roi = roi;
        break;
      }
      case 'stoploss': {
        const s = num(v, file, key);
        if (!(s < 0 && s >= -1)) fail(file, key, `expected a negative ratio in [-1, 0), got ${s}`);
        // Freqtrade's -1 means no stop (a 100% loss); ours is the same distance.
        exits.stopLoss = -s;
        break;
      }
      case 'trailing_stop':
        trailing.enabled = bool(v, file, key);
        break;
      case 'trailing_stop_positive':
        trailing.positive = num(v, file, key);
        break;
      case 'trailing_stop_positive_offset':
        trailing.offset = num(v, file, key);
        break;
      case 'trailing_only_offset_is_reached':
        trailing.onlyOffsetReached = bool(v, file, key);
        break;
      case 'use_exit_signal':
        exits.useExitSignal = bool(v, file, key);
        break;
      case 'exit_profit_only':
        exits.exitProfitOnly = bool(v, file, key);
        break;
      case 'exit_profit_offset':
        exits.exitProfitOffset = num(v, file, key);
        break;
      case 'ignore_roi_if_entry_signal':
        exits.ignoreRoiIfEntrySignal = bool(v, file, key);
        break;
      case 'stake_amount':
        stakeRaw = v;
        break;
      case 'tradable_balance_ratio': {
        ratio = num(v, file, key);
        if (!(ratio > 0 && ratio <= 1)) fail(file, key, `expected a ratio in (0, 1], got ${ratio}`);
        break;
      }
      case 'fee': {
        const f = num(v, file, key);
        if (!(f >= 0 && f < 0.5)) fail(file, key, `expected a fee rate in [0, 0.5), got ${f}`);
        out.fee = f;
        break;
      }
      case 'timeframe':
        if (typeof v !== 'string') fail(file, key, `expected a timeframe like "5m", got ${JSON.stringify(v)}`);
        out.timeframe = v;
        break;
      case 'max_open_trades': {
        const m = num(v, file, key);
        if (m === -1) break;
        if (!(Number.isInteger(m) && m >= 1)) fail(file, key, `expected a positive integer or -1, got ${m}`);
        out.maxOpenTrades = m;
        break;
      }
      case 'dry_run_wallet': {
        const w = num(v, file, key);
        if (!(w > 0)) fail(file, key, `expected a positive amount, got ${w}`);
        out.cash = w;
        break;
      }
      case 'exchange':
        readExchange(record(v, file, key), file, out);
        break;
      case 'pairlists': {
        if (!Array.isArray(v)) fail(file, key, 'expected a list');
        v.forEach((p, i) => {
          const method = record(p, file, `${key}.${i}`).method;
          if (method !== 'StaticPairList' || Object.keys(p as object).length !== 1) {
            fail(file, `${key}.${i}`, `pairlist ${JSON.stringify(method)} is not supported (only StaticPairList)`);
          }
        });
        break;
      }
      default:
        fail(file, key, 'not supported by tradeforge (docs/backtesting.md, "Freqtrade configs")');
    }
  }
  if (Object.keys(trailing).length > 0) {
    // Freqtrade reads the trailing_* numbers only when trailing_stop is on.
    if (trailing.enabled === true) exits.trailingStop = { ...trailing };
  }
  out.exits = exits as ExitConfig;
  if (stakeRaw !== undefined) {
    if (stakeRaw === 'unlimited') {
      // Freqtrade: (free cash x tradable_balance_ratio) / (max_open_trades - open trades).
      out.stake = { kind: 'percent', value: ratio * 100, perFreeSlot: true };
    } else {
      const a = num(stakeRaw, file, 'stake_amount');
      if (!(a > 0)) fail(file, 'stake_amount', `expected a positive amount or "unlimited", got ${a}`);
      out.stake = { kind: 'amount', value: a };
    }
  }
  return out;
}

function readExchange(ex: Record<string, unknown>, file: string, out: FreqtradeRunSettings): void {
  for (const [k, v] of Object.entries(ex)) {
    const key = `exchange.${k}`;
    if (IGNORED.has(key)) continue;
    if (k === 'name') {
      if (typeof v !== 'string' || v.length === 0) fail(file, key, 'expected an exchange name');
      out.exchange = v;
    } else if (k === 'pair_whitelist') {
      if (!Array.isArray(v) || v.length === 0 || v.some((p) => typeof p !== 'string' || !p.includes('/'))) {
        fail(file, key, 'expected a list of pairs like "BTC/USDT"');
      }
      for (const p of v as string[]) {
        if (/[*?[\]()|+\\]/.test(p)) fail(file, key, `wildcard pair "${p}" is not supported; list the pairs`);
      }
      out.symbols = v as string[];
    } else fail(file, key, 'not supported by tradeforge (docs/backtesting.md, "Freqtrade configs")');
  }
}
