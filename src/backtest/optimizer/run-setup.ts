import type { BarColumns } from '../../core/bar.js';
import type { RiskConfig } from '../../core/config.js';
import { ValidationError } from '../../core/errors.js';
import { parseTimeframe, type Timeframe } from '../../core/timeframe.js';
import { loadBars } from '../../data/load.js';
import type { ParamValue } from '../../strategy/types.js';
import { windowColumns } from '../runner.js';
import { type BacktestConfig, parseDateBound, parseStake } from '../settings.js';
import type { SharedRunOptions } from './backtest-trial.js';

/** Run flags shared by `optimize` and `check-warmup` (strings as commander hands them over). */
export interface RunFlags {
  data?: string;
  strategy?: string;
  timeframe?: string;
  cash?: string;
  fee?: string;
  stake?: string;
  lot?: string;
  allowShort?: boolean;
  margin?: boolean;
  leverage?: string;
  tradingDays?: string;
  periodsPerYear?: string;
  from?: string;
  to?: string;
  riskDefaults?: boolean;
}

/** Loaded data ready for trials. */
export interface RunData {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly columns: BarColumns;
  readonly loadMs: number;
}

/** Risk settings, as plain data: each worker builds its own risk hook from them. */
export interface RiskSettings {
  readonly config?: RiskConfig;
  readonly defaults: boolean;
}

/** Everything a trial needs besides the data and the searched parameters. */
export interface RunSetup {
  readonly strategy: string | undefined;
  /** Parameters from the config file (the `--param` axes override them). */
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly options: SharedRunOptions;
  readonly risk: RiskSettings;
}

function num(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n))
    throw new ValidationError(`--${flag} expects a number, got "${raw}"`, flag);
  return n;
}

/** Loads `--data` (or the config's `data`), cut to `--from/--to`; needs a known timeframe. */
export function loadRunData(flags: RunFlags, cfg: BacktestConfig = {}): RunData {
  const source = flags.data ?? cfg.data;
  if (!source) throw new ValidationError('missing --data FILE_OR_SYMBOL', 'data');
  const t0 = performance.now();
  const tfRaw = flags.timeframe ?? cfg.timeframe;
  const tf = tfRaw ? parseTimeframe(tfRaw) : undefined;
  const loaded = loadBars(source, tf ? { timeframe: tf } : {});
  const timeframe = loaded.timeframe ?? tf;
  if (!timeframe)
    throw new ValidationError(`cannot tell the timeframe of ${source}; pass --timeframe (e.g. 1d)`, 'timeframe');
  const fromRaw = flags.from ?? cfg.from;
  const toRaw = flags.to ?? cfg.to;
  const from = fromRaw !== undefined ? parseDateBound(fromRaw, 'from') : undefined;
  const to = toRaw !== undefined ? parseDateBound(toRaw, 'to') : undefined;
  const columns = windowColumns(loaded.columns, from, to);
  if (columns.length < 2) throw new ValidationError(`${source}: fewer than 2 bars in the selected range`, 'data');
  return { symbol: loaded.symbol, timeframe, columns, loadMs: performance.now() - t0 };
}

/**
 * The run settings: the config file (same schema as `tradeforge backtest --config`) overridden by the flags.
 * Defaults are the runner's (cash 100000, fee 0.1 %, stake 95 %).
 */
export function runSetupFromFlags(flags: RunFlags, cfg: BacktestConfig = {}): RunSetup {
  const cash = num('cash', flags.cash) ?? cfg.cash;
  if (cash !== undefined && !(cash > 0)) throw new ValidationError(`--cash must be positive, got ${cash}`, 'cash');
  const fee = num('fee', flags.fee) ?? cfg.fee;
  if (fee !== undefined && !(fee >= 0 && fee < 0.5))
    throw new ValidationError(`--fee must be in [0, 0.5), got ${fee}`, 'fee');
  const lot = num('lot', flags.lot) ?? cfg.lot;
  if (lot !== undefined && !(lot > 0)) throw new ValidationError(`--lot must be positive, got ${lot}`, 'lot');
  const leverage = num('leverage', flags.leverage) ?? cfg.leverage;
  const days = num('trading-days', flags.tradingDays) ?? cfg.tradingDaysPerYear;
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 366)) {
    throw new ValidationError(`--trading-days must be an integer in [1, 366], got ${days}`, 'trading-days');
  }
  const periods = num('periods-per-year', flags.periodsPerYear) ?? cfg.periodsPerYear;
  if (periods !== undefined && !(periods > 0)) {
    throw new ValidationError(`--periods-per-year must be positive, got ${periods}`, 'periods-per-year');
  }
  const stake = flags.stake ?? cfg.stake;
  const allowShort = flags.allowShort ?? cfg.allowShort;
  const margin = flags.margin ?? cfg.margin;
  const options: SharedRunOptions = {
    ...(cash !== undefined ? { cash } : {}),
    ...(fee !== undefined ? { fee } : cfg.fees ? { fees: cfg.fees } : {}),
    ...(stake !== undefined ? { stake: parseStake(stake) } : {}),
    ...(lot !== undefined ? { lot } : {}),
    ...(allowShort !== undefined ? { allowShort } : {}),
    ...(margin !== undefined ? { margin } : {}),
    ...(leverage !== undefined ? { leverage } : {}),
    ...(days !== undefined ? { tradingDaysPerYear: days } : {}),
    ...(periods !== undefined ? { periodsPerYear: periods } : {}),
    ...(cfg.exits ? { exits: cfg.exits } : {}),
    ...(cfg.slippage ? { slippage: cfg.slippage } : {}),
    ...(cfg.participation !== undefined ? { participation: cfg.participation } : {}),
    ...(cfg.latency ? { latency: cfg.latency } : {}),
    ...(cfg.marketFill ? { marketFill: cfg.marketFill } : {}),
  };
  return {
    strategy: flags.strategy ?? cfg.strategy,
    params: cfg.params ?? {},
    options,
    risk: { ...(cfg.risk ? { config: cfg.risk } : {}), defaults: flags.riskDefaults ?? cfg.riskDefaults ?? false },
  };
}
