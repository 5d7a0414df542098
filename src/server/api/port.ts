/**
 * The port the API is built on: what a running runtime offers the HTTP/WebSocket API. The runtime implements it;
 * the server never imports runtime internals. Reads that live in the store (trades, audit, users, secrets) are
 * served from the store directly.
 */
import type { ControlApi, ControlResult } from '../../ops/control-port.js';
import type { Loosening, RiskPreferences, RiskPreferencesPatch } from '../../risk/preferences.js';
import type { ApiAlertChannels } from './alert-port.js';
import type { ApiMarketData } from './market-port.js';
import type { ApiVenues } from './routes-venues.js';

/** WebSocket topics a client may subscribe to. */
export const STREAM_TOPICS = [
  'tickers',
  'candles',
  'orderbook',
  'orders',
  'fills',
  'positions',
  'pnl',
  'risk',
  'heartbeat',
  'backtest',
  'agent',
] as const;

/** One WebSocket topic. */
export type StreamTopic = (typeof STREAM_TOPICS)[number];

/** Topics whose updates are conflated per key and sent at most once per throttle interval. */
export const THROTTLED_TOPICS: ReadonlySet<StreamTopic> = new Set<StreamTopic>([
  'tickers',
  'candles',
  'orderbook',
  'pnl',
]);

/** One event for WebSocket clients; `key` (e.g. a symbol) is what throttled topics conflate on. */
export interface StreamEvent {
  topic: StreamTopic;
  key?: string;
  time: number;
  data: unknown;
}

/** An open order as the API shows it. */
export interface ApiOpenOrder {
  deployment: string;
  id: string;
  clientOrderId: string;
  symbol: string;
  side: string;
  type: string;
  quantity: number;
  price?: number;
  stopPrice?: number;
  status: string;
  tag?: string;
}

/** One point of the equity curve. */
export interface EquityPoint {
  time: number;
  equity: number;
}

/** One tripped breaker or active limit. */
export interface ApiBreaker {
  deployment: string;
  breaker: string;
  symbol?: string;
  until?: number;
  detail?: string;
}

/** Risk state: breakers, kill switch, entries and the pre-trade counters. */
export interface ApiRiskState {
  killSwitchActive: boolean;
  entriesEnabled: boolean;
  breakers: ApiBreaker[];
  checks: { deployment: string; checked: number; accepted: number; rejected: number; byCode: Record<string, number> }[];
  /** Configured limits by name (e.g. maxOrderNotional), for distance-to-limit displays. */
  limits: Record<string, number>;
}

/** Engine version, git SHA and config hash (OPS-7). */
export interface ApiVersion {
  version: string;
  gitSha: string | null;
  configHash: string | null;
}

/** A manual order request (market, limit or stop). */
export interface ManualOrder {
  deployment?: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit' | 'stop';
  quantity: number;
  price?: number;
  stopPrice?: number;
}

/** The risk engine's decision on a manual order (preview or placement). */
export interface OrderDecision {
  accepted: boolean;
  /** Risk reason code when refused (e.g. MAX_NOTIONAL). */
  code?: string;
  detail?: string;
  /** Order id when placed. */
  orderId?: string;
  estimatedCost?: number;
}

/** Who asks for a deployment change: the API's actor name (`api:alice`, `cli`) and role. */
export interface DeploymentActor {
  name: string;
  role: string;
}

/** A deployment as the API shows it (the store's record plus where it came from). */
export interface ApiDeploymentView {
  id: string;
  strategy: string;
  strategyVersion: string | null;
  venue: string;
  mode: string;
  profile: string | null;
  symbols: string[];
  configHash: string;
  appVersion: string;
  status: string;
  origin: 'config' | 'api';
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  stoppedAt: number | null;
}

/** What a stop did: orders cancelled, and the positions closed or kept (with protective stops left on the venue). */
export interface DeploymentStopReport {
  flatten: boolean;
  cancelledOrders: number;
  /** Positions that stay open (flatten false, or a close that did not fill in time), by symbol. */
  positionsKept: { symbol: string; quantity: number }[];
  /** Positions closed by the stop. */
  positionsClosed: { symbol: string; quantity: number }[];
  /** Protective stop orders left on the venue to guard the kept positions. */
  protectiveStopsKept: number;
}

/** The answer to a deployment change: done, or refused with the HTTP status, a code and (for 400) the field. */
export type DeploymentOutcome =
  | { ok: true; message: string; deployment: ApiDeploymentView; stop?: DeploymentStopReport }
  | { ok: false; status: 400 | 403 | 404 | 409; error: string; message: string; field?: string };

/** One deployment's run spec as `POST /api/deployments` takes it (validated by the config file's schema). */
export interface DeploymentRequest {
  /** The deployment config (`deploymentConfigSchema`): id, run spec, venue, capital cap. */
  spec: import('../../core/config.js').DeploymentSpec;
  mode: 'paper' | 'dry_run' | 'live';
  confirmLive?: boolean;
}

/** Creating, starting, stopping and archiving deployments (docs/api.md "Deployments"). */
export interface ApiDeploymentControl {
  create(req: DeploymentRequest, who: DeploymentActor): Promise<DeploymentOutcome>;
  start(id: string, who: DeploymentActor): Promise<DeploymentOutcome>;
  stop(id: string, opts: { flatten: boolean }, who: DeploymentActor): Promise<DeploymentOutcome>;
  archive(id: string, who: DeploymentActor): Promise<DeploymentOutcome>;
}

/** The risk limits as the API shows them: in force, from the config file (over the defaults), and saved. */
export interface ApiRiskPreferencesView {
  effective: RiskPreferences;
  file: RiskPreferences;
  saved: RiskPreferences;
}

/** Editing the account's risk limits while running (docs/risk.md "Risk preferences"). */
export interface ApiRiskPreferences {
  view(): ApiRiskPreferencesView;
  /** Applies a change; refused (nothing changed) when it loosens without `confirmLoosening`. */
  apply(
    patch: RiskPreferencesPatch,
    confirmLoosening: boolean,
    actor: string,
  ): Promise<{ ok: true; view: ApiRiskPreferencesView; loosened: Loosening[] } | { ok: false; loosened: Loosening[] }>;
}

/** What the runtime offers the API. */
export interface ApiPort {
  /** The same control functions Telegram and the CLI use (kill, recover, entries, force exit, positions...). */
  readonly control: ControlApi;
  /** Full status (the CLI's `status --json`): a plain JSON object. */
  status(): Promise<Record<string, unknown>>;
  openOrders(): Promise<ApiOpenOrder[]>;
  equity(): Promise<EquityPoint[]>;
  riskState(): Promise<ApiRiskState>;
  version(): ApiVersion;
  /** The risk engine's decision on a manual order without placing it. Absent: previews are off (501). */
  previewOrder?(order: ManualOrder): Promise<OrderDecision>;
  /** Places a manual order through the risk engine; a refusal carries the rule's code. Absent: off (501). */
  placeOrder?(order: ManualOrder, actor: string): Promise<OrderDecision>;
  /** Cancels an open order by id. Absent: cancelling from the API is off. */
  cancelOrder?(orderId: string, actor: string): Promise<ControlResult>;
  /** Candles, order books and live market streams. Absent: the market routes answer 501. */
  readonly market?: ApiMarketData;
  /** The deployments' venues and their connection test. Absent: the venue routes answer 501. */
  readonly venues?: ApiVenues;
  /** Creates, starts and stops deployments. Absent: those routes answer 501. */
  readonly deploymentControl?: ApiDeploymentControl;
  /** The account's risk limits, editable. Absent: the preference routes answer 501. */
  readonly riskPreferences?: ApiRiskPreferences;
  /** The alert channels, editable, and a test send. Absent: channels are the config's, read-only. */
  readonly alertChannels?: ApiAlertChannels;
  /** The last price of every traded symbol (the assistant's context and signal tracking). Absent: none known. */
  prices?(): Promise<Record<string, number>>;
  /** Live events for WebSocket clients; returns the unsubscribe. */
  subscribe(listener: (event: StreamEvent) => void): () => void;
}
