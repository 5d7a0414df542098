/** The shapes of a running runtime: its deployments, its status and its handle. */
import type { EventBus } from '../../core/events.js';
import type { Engine } from '../../engine/engine.js';
import type { ControlApi } from '../../ops/index.js';
import type { Store } from '../../store/index.js';
import type { RiskEngine } from '../../risk/index.js';
import type { LiveVenueBridge } from '../../venues/live/bridge.js';
import type { ReconcileReport } from '../reconcile.js';
import type { BuiltVenue, Profile } from '../venues.js';
import type { WarmupGate } from './gates.js';
import type { StoreJournal } from './journal.js';
import type { LiveFeed } from './live-feed.js';
import type { ProtectiveStops } from './protective-stops.js';

/** One running deployment. */
export interface DeploymentRuntime {
  id: string;
  strategy: string;
  venue: BuiltVenue;
  symbols: string[];
  engine: Engine;
  /** The account-level risk engine (shared by every deployment of the runtime). */
  risk: RiskEngine;
  bridge: LiveVenueBridge;
  feed: LiveFeed;
  journal: StoreJournal;
  gate: WarmupGate;
  stops: ProtectiveStops | null;
  reconcile: ReconcileReport;
}

/** The runtime's full status (`GET /api/status`, `tradeforge status --json`). */
export interface RuntimeStatus {
  source: 'runtime' | 'store';
  pid: number;
  profile: Profile;
  state: 'running' | 'stopping' | 'halted';
  startedAt: number;
  url?: string;
  entriesEnabled: boolean;
  killSwitchActive: boolean;
  heartbeat: { lastAt: number | null; seq: number | null };
  deployments: {
    id: string;
    strategy: string;
    venue: string;
    mode: string;
    symbols: string[];
    equity: number;
    cash: number;
    realizedPnl: number;
    /** Exact decimal text of the booked cash and realised P&L (paper and live; docs/money.md). */
    exact?: { cash: string; realizedPnl: string; fees: string };
    unrealizedPnl: number;
    /** Perpetual funding booked into the book (received positive, paid negative); part of cash and realizedPnl. */
    fundingPnl: number;
    closedTrades: number;
    liveBars: number;
    stale: string[];
    protectiveStops: number;
  }[];
  positions: {
    deployment: string;
    symbol: string;
    quantity: number;
    averagePrice: number;
    last: number;
    /** Exact decimal text of the booked position (signed quantity; docs/money.md). */
    exact?: { quantity: string; averagePrice: string };
  }[];
  openOrders: {
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
    /** Exact decimal text of the amounts sent (paper and live; docs/money.md). */
    exact?: { quantity: string; price?: string; stopPrice?: string; filledQuantity: string };
  }[];
  recentFills: {
    id: string;
    orderId: string;
    symbol: string;
    side: string;
    price: number;
    quantity: number;
    fee: number;
    time: number;
    /** Exact decimal text as stored (docs/money.md). */
    exact?: { price: string; quantity: string; fee: string };
  }[];
  /** The account: the sum of every deployment's book. */
  account: { equity: number; cash: number };
  /** Active breakers of the account's one risk engine (`deployment` is "account"). */
  breakers: { deployment: string; active: { breaker: string; symbol?: string; until?: number; detail?: string }[] }[];
  risk: { deployment: string; checked: number; accepted: number; rejected: number; byCode: Record<string, number> }[];
  /** The prop-firm rule set's standing (distance to each limit, objectives), when `risk.propFirm` is set. */
  propFirm?: import('../../risk/index.js').PropFirmStatus & { ruleSet: string };
}

/** A running runtime. */
export interface Runtime {
  readonly profile: Profile;
  readonly bus: EventBus;
  readonly store: Store;
  readonly deployments: readonly DeploymentRuntime[];
  readonly control: ControlApi;
  /** The ops/API server URL. */
  readonly url: string;
  status(): Promise<RuntimeStatus>;
  /** Graceful shutdown: no new entries, state persisted, protective stops left on the venue, streams closed. */
  stop(reason?: string): Promise<void>;
  /** Resolves when the runtime has stopped. */
  readonly stopped: Promise<void>;
}
