/**
 * The operator control port (OPS-4): every remote control surface — Telegram commands, the HTTP API, the dashboard
 * — calls these same methods, so a `/kill` from Telegram and a kill from the API run the same code path. The
 * runtime implements it; ops only formats the plain data it returns.
 */

/** Who asked, for the audit log: `telegram:<chatId>`, `api:<user>`, `cli` ... */
export type Actor = string;

/** Runtime summary for `/status`. */
export interface ControlStatus {
  state: 'running' | 'stopped' | 'halted';
  profile: string;
  /** False after `/stopentry` (exits still run). */
  entriesEnabled: boolean;
  killSwitchActive: boolean;
  deployments: { id: string; strategy: string; symbols: string[]; venue: string; state: string }[];
  openOrders: number;
  openPositions: number;
  /** Epoch ms of the last heartbeat. */
  lastHeartbeat?: number;
  /** Names of tripped breakers. */
  breakersTripped: string[];
}

/** Realised and unrealised P&L for `/profit`. */
export interface ControlProfit {
  currency: string;
  realisedPnl: number;
  unrealisedPnl: number;
  closedTrades: number;
  winningTrades: number;
  /** Best and worst closed trade P&L, when any. */
  bestTrade?: number;
  worstTrade?: number;
}

/** Account balances for `/balance`. */
export interface ControlBalance {
  currency: string;
  equity: number;
  assets: { asset: string; free: number; used: number; total: number }[];
}

/** One open position for `/positions` and `/forceexit`. */
export interface ControlPosition {
  /** Id accepted by `forceExit` (e.g. `<deployment>:<symbol>`). */
  id: string;
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  entryPrice: number;
  markPrice?: number;
  unrealisedPnl?: number;
  strategyId?: string;
  /** The venue id it is held at. */
  venue?: string;
  /** The exact decimals of the booked position (paper and live), as decimal text: `quantity` is unsigned. */
  exact?: { quantity: string; entryPrice: string };
}

/** Result of a state-changing command. `ok: false` means refused or failed; `message` says why. */
export interface ControlResult {
  ok: boolean;
  message: string;
  /** Extra figures (orders cancelled, positions closing ...). */
  detail?: Record<string, number | string | boolean>;
}

/** Operations shared by Telegram, the HTTP API and the dashboard. Implementations audit every state change. */
export interface ControlApi {
  status(): Promise<ControlStatus>;
  profit(): Promise<ControlProfit>;
  balance(): Promise<ControlBalance>;
  positions(): Promise<ControlPosition[]>;
  /** Stop opening new positions; exits and protective stops keep working. */
  stopEntries(actor: Actor): Promise<ControlResult>;
  startEntries(actor: Actor): Promise<ControlResult>;
  /** Close one position by id, or every position with `'all'`, through the risk engine's exit path. */
  forceExit(target: string | 'all', actor: Actor): Promise<ControlResult>;
  /** Kill switch: cancel all orders, close all positions, halt trading until `recover`. */
  kill(actor: Actor): Promise<ControlResult>;
  /** Release the kill switch. */
  recover(actor: Actor): Promise<ControlResult>;
  /**
   * Pause a deployment's strategy by id, or every pausable one with `'all'` (a grid: its resting orders cancelled,
   * inventory kept, nothing placed until `resume`). Breakers and the kill switch pause too; only this resumes.
   */
  pause?(target: string | 'all', actor: Actor): Promise<ControlResult>;
  /** Resume a paused strategy by deployment id, or every paused one with `'all'` (its resting orders placed again). */
  resume?(target: string | 'all', actor: Actor): Promise<ControlResult>;
  /** Explicit reset of a tripped breaker (e.g. `BREAKER_MAX_DRAWDOWN`), audited; a halt lasts until this. */
  resetBreaker?(breaker: string, actor: Actor): Promise<ControlResult>;
}
