import type { Generated } from 'kysely';

/*
 * Kysely table types: the ONE schema shared by SQLite and PostgreSQL.
 * Conventions (docs/store.md): times are UTC epoch milliseconds (`bigint` in PostgreSQL, INTEGER in SQLite, read back
 * as JS numbers); money and quantities are decimal strings (lossless, `String(number)` or a decimal.js value's
 * `toString()`); structured values are canonical JSON text; booleans are 0/1 integers.
 */

/** A named strategy (rules text, Pine, code or built-in). */
export interface StrategiesTable {
  id: string;
  name: string;
  kind: string;
  description: string | null;
  /** Lifecycle state (DEPLOY-1): `draft` on import; the promotion flow adds the later states. */
  state: Generated<string>;
  created_at: number;
  updated_at: number;
}

/** One immutable version of a strategy's source and default parameters. */
export interface StrategyVersionsTable {
  id: string;
  strategy_id: string;
  version: number;
  source: string;
  params: string;
  source_hash: string;
  note: string | null;
  /** What the source is: ts, js, rules or pine (null on versions stored before migration 0005). */
  source_kind: string | null;
  /** The compiled form the sandbox or engine runs (transpiled code, the parsed rules program); null if none. */
  compiled: string | null;
  /** The safety gate's verdict as canonical JSON: `{"ok":true,"findings":[]}`. */
  gate: string | null;
  /** Lifecycle state of this version (DEPLOY-1, migration 0007): draft, backtested, gated, dry_run, live, retired. */
  state: Generated<string>;
  created_at: number;
}

/** One lifecycle transition of a strategy version: who moved it, why, and the evidence (canonical JSON). */
export interface StrategyTransitionsTable {
  seq: Generated<number>;
  strategy_id: string;
  version: number;
  from_state: string;
  to_state: string;
  actor: string;
  reason: string;
  evidence: string;
  time: number;
}

/** A backtest run: its configuration, metrics, result fingerprint and artefact paths. */
export interface BacktestsTable {
  id: string;
  strategy_id: string | null;
  strategy_version_id: string | null;
  status: string;
  config: string;
  metrics: string | null;
  fingerprint: string | null;
  artefacts: string;
  started_at: number;
  finished_at: number | null;
}

/** A strategy deployed to a venue (paper or live), with the config hash and app version it ran with. */
export interface DeploymentsTable {
  id: string;
  strategy_id: string;
  strategy_version_id: string | null;
  venue: string;
  mode: string;
  /** The runtime profile it ran under (`dev`, `dry_run`, `live`; null before migration 0007). */
  profile: string | null;
  symbols: string;
  config: string;
  config_hash: string;
  app_version: string;
  status: string;
  created_at: number;
  updated_at: number;
  stopped_at: number | null;
  /** `config` (the config file) or `api` (created over the API); null before migration 0009. */
  origin: string | null;
  /** The user who created it over the API. */
  created_by: string | null;
}

/** The latest known state of each order (upserted by id). */
export interface OrdersTable {
  id: string;
  client_order_id: string;
  venue_order_id: string | null;
  deployment_id: string | null;
  strategy_id: string;
  symbol: string;
  side: string;
  type: string;
  quantity: string;
  price: string | null;
  stop_price: string | null;
  time_in_force: string;
  reduce_only: number;
  status: string;
  filled_quantity: string;
  average_fill_price: string;
  fees: string;
  created_at: number;
  updated_at: number;
  signal_time: number | null;
  tag: string | null;
  source: string;
  correlation_id: string;
  reason: string | null;
}

/** One execution (idempotent on id). */
export interface FillsTable {
  id: string;
  order_id: string;
  client_order_id: string;
  strategy_id: string;
  symbol: string;
  side: string;
  price: string;
  quantity: string;
  fee: string;
  liquidity: string;
  time: number;
  venue_trade_id: string | null;
  correlation_id: string | null;
}

/** A closed round trip; id is derived from its identity so replays upsert instead of duplicating. */
export interface TradesTable {
  id: string;
  strategy_id: string;
  symbol: string;
  side: string;
  entry_time: number;
  entry_price: string;
  exit_time: number;
  exit_price: string;
  quantity: string;
  fees: string;
  pnl: string;
  pnl_pct: string;
  exit_reason: string;
  entry_tag: string | null;
}

/** Latest net position per (strategy, symbol); strategy_id is '' for an account-level position. */
export interface PositionsTable {
  strategy_id: string;
  symbol: string;
  quantity: string;
  average_price: string;
  realized_pnl: string;
  fees: string;
  opened_at: number;
  updated_at: number;
}

/** Balance of one asset on one venue at one time. */
export interface BalanceSnapshotsTable {
  id: Generated<number>;
  venue: string;
  asset: string;
  free: string;
  used: string;
  total: string;
  time: number;
}

/** A risk decision worth keeping (rejections, dry-run passes). */
export interface RiskEventsTable {
  id: Generated<number>;
  time: number;
  strategy_id: string;
  symbol: string;
  code: string;
  detail: string;
  limit_value: string | null;
  actual_value: string | null;
  dry_run: number;
  intent: string;
  correlation_id: string | null;
}

/** Current state of each circuit breaker (restored on restart). */
export interface BreakerStatesTable {
  breaker: string;
  state: string;
  detail: string;
  values: string;
  until: number | null;
  actor: string | null;
  updated_at: number;
}

/** An LLM/authoring agent run. */
export interface AgentRunsTable {
  id: string;
  agent: string;
  status: string;
  input: string;
  output: string | null;
  steps: string;
  cost: string | null;
  started_at: number;
  finished_at: number | null;
}

/** A trade the assistant suggested (a signal card), its execution and the order it became. */
export interface AssistantSignalsTable {
  id: string;
  run_id: string;
  provider: string;
  model: string;
  action: string;
  symbol: string;
  size: string;
  price: string | null;
  confidence: number;
  reasoning: string;
  reference_price: string | null;
  status: string;
  order_id: string | null;
  decision: string | null;
  actor: string | null;
  created_at: number;
  decided_at: number | null;
}

/** A person who may log in. */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  is_owner: number;
  totp_enabled: number;
  failed_attempts: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  /** Last TOTP time step accepted (each step is single use); null before the first code. */
  totp_last_step: number | null;
}

/** One link of a refresh-token family; token values are stored only as sha256 hashes. */
export interface SessionsTable {
  id: string;
  user_id: string;
  family_id: string;
  access_hash: string;
  access_expires_at: number;
  refresh_hash: string;
  refresh_expires_at: number;
  created_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
  revoke_reason: string | null;
}

/** An encrypted secret: base64(nonce | ciphertext | tag) under the vault's data key; never plaintext. */
export interface SecretsTable {
  name: string;
  ciphertext: string;
  key_version: number;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
}

/** The vault's single key record: KDF parameters, salt, and the wrapped data and audit keys. */
export interface VaultMetaTable {
  id: number;
  mode: string;
  kdf: string;
  salt: string;
  wrapped_data_key: string;
  wrapped_audit_key: string;
  key_version: number;
  created_at: number;
  rotated_at: number | null;
  /** Epoch of the current audit HMAC key (1, 2, ...: it changes with every rotation). */
  audit_epoch: number;
  /** First audit record signed with the current audit key. */
  audit_epoch_first_seq: number;
}

/** A retired audit HMAC key, kept (wrapped under the current data key) so earlier chain segments stay verifiable. */
export interface AuditKeysTable {
  epoch: number;
  /** First and last records signed with this key. */
  first_seq: number;
  last_seq: number;
  wrapped_key: string;
  retired_at: number;
}

/** The append-only, hash-chained, HMAC-signed audit log. */
export interface AuditEventsTable {
  seq: number;
  time: number;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
  hmac: string;
}

/** Last heartbeat per component. */
export interface HeartbeatsTable {
  component: string;
  seq: number;
  time: number;
  detail: string | null;
}

/** Opaque strategy state saved by the live runtime so a restart resumes where it stopped. */
export interface StrategyStateTable {
  deployment_id: string;
  strategy_id: string;
  state: string;
  updated_at: number;
}

/** A perpetual's funding payment booked into one deployment's book (unique per venue, income id, deployment). */
export interface FundingPaymentsTable {
  venue: string;
  income_id: string;
  deployment_id: string;
  symbol: string;
  /** Signed: positive received, negative paid. */
  amount: string;
  asset: string;
  time: number;
  booked_at: number;
}

/** Small settings and runtime flags (kill-switch state, last reconcile time ...). */
export interface KvTable {
  key: string;
  value: string;
  updated_at: number;
}

/** Every table of the store, by name. */
export interface Database {
  strategies: StrategiesTable;
  strategy_versions: StrategyVersionsTable;
  strategy_transitions: StrategyTransitionsTable;
  backtests: BacktestsTable;
  deployments: DeploymentsTable;
  orders: OrdersTable;
  fills: FillsTable;
  trades: TradesTable;
  positions: PositionsTable;
  balance_snapshots: BalanceSnapshotsTable;
  risk_events: RiskEventsTable;
  breaker_states: BreakerStatesTable;
  agent_runs: AgentRunsTable;
  assistant_signals: AssistantSignalsTable;
  users: UsersTable;
  sessions: SessionsTable;
  secrets: SecretsTable;
  vault_meta: VaultMetaTable;
  audit_keys: AuditKeysTable;
  audit_events: AuditEventsTable;
  heartbeats: HeartbeatsTable;
  strategy_state: StrategyStateTable;
  kv: KvTable;
  funding_payments: FundingPaymentsTable;
}

/** Which database engine a store runs on. */
export type Dialect = 'sqlite' | 'postgres';
