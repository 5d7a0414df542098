/**
 * The live runtime (DEPLOY-4): the composition root that turns a config into running deployments. Each step is a
 * small builder in `live/`: alerting, venues and their clock-drift guards, the one account-level risk engine with
 * its durable state, one kernel per deployment (the same `buildKernel` as a backtest), heartbeat and watchdog, the
 * control API and the HTTP server; `stop` shuts down gracefully and leaves protective stops on the venue.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { DomainEvent, EventBus, EventName } from '../core/events.js';
import { parseTimeframe } from '../core/timeframe.js';
import { InProcessEventBus } from '../engine/event-bus.js';
import type { Logger } from 'pino';
import { QUEUE_HALT_ACTOR, QueueGuard } from './live/queue-guard.js';
import { ClockDriftGuard, createLogger, Heartbeat, type OpsLogger, OpsMetrics, Watchdog } from '../ops/index.js';
import { redact } from '../security/index.js';
import { tryUnlockFromEnv } from '../security/cli-unlock.js';
import { AuditCheckpointer } from '../store/audit-checkpoint.js';
import { type Store, openStore } from '../store/index.js';
import { resolveStrategy } from '../authoring/resolve.js';
import { parseVersionRef } from '../authoring/versions.js';
import { type AttachApiDeps, attachRuntimeApi } from './api-port.js';
import { newRunId } from '../venues/live/client-order-id.js';
import { agentDeps, DOCS_DIR } from './agent-services.js';
import type { HomePaths } from './home.js';
import { buildAlerting } from './live/alerting.js';
import { buildControl, lateBoundControl } from './live/control.js';
import { type DeploymentConfig, type DeploymentDeps, startDeployment } from './live/deployment.js';
import { deploymentControl } from './live/deployment-control.js';
import type { DeploymentInput, DeploymentStatus } from '../store/repositories/catalogue.js';
import { clockDriftRule, EntriesSwitch, staleDataRule } from './live/gates.js';
import { FundingBooker, fundingOwners, replayFunding } from './live/funding-booker.js';
import { buildRuntimeHttp, listen } from './live/http.js';
import { subscribePrinter } from './live/printer.js';
import { buildAccountRisk } from './live/risk-state.js';
import type { AlertChannelsService } from './live/alert-channels.js';
import type { RiskPreferencesService } from './live/risk-preferences.js';
import type { DeploymentRuntime, Runtime } from './live/runtime-types.js';
import { buildStatus } from './live/status.js';
import { TradeTrail } from './live/trade-trail.js';
import { audit } from './reconcile.js';
import { paperAccountsIn } from './paper-accounts.js';
import { Promotion } from './promotion.js';
import { type BuiltVenue, buildVenues, type Profile } from './venues.js';
import { CcxtVenue, FUTURES_EXCHANGES } from '../venues/ccxt/index.js';

export type { DeploymentRuntime, Runtime, RuntimeStatus } from './live/runtime-types.js';

/** Options of startRuntime. */
export interface StartRuntimeOptions {
  config: Config;
  /** Default: config.profile. */
  profile?: Profile;
  home: HomePaths;
  /** Required for the live profile (money safety). */
  confirmLive?: boolean;
  env?: Record<string, string | undefined>;
  /** Human-readable lines (orders, fills, P&L) for the console; off when absent. */
  print?: (line: string) => void;
  /** Print every closed bar too (the demo). */
  printBars?: boolean;
  /** The config file, recorded in the run file. */
  configFile?: string;
  /** Write $HOME/run/runtime.json (default true). */
  runFile?: boolean;
}

/** The app version recorded with deployments. */
const APP_VERSION = '0.1.0';

/** The run file of a running runtime: `$TRADEFORGE_HOME/run/runtime.json`. */
export function runFilePath(home: HomePaths): string {
  return join(home.run, 'runtime.json');
}

function writeRunFile(home: HomePaths, body: unknown): void {
  mkdirSync(home.run, { recursive: true });
  const file = runFilePath(home);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * A view of the bus for the store's batched persister without order and fill events: the live journal writes
 * those itself (keyed by client order id and venue trade id, unique across restarts).
 */
function withoutOrderEvents(bus: EventBus): EventBus {
  return {
    publish: (e) => bus.publish(e),
    hasSubscribers: (n) => bus.hasSubscribers(n),
    subscribe: ((name: EventName | '*', handler: (e: DomainEvent) => void) => {
      if (name === 'fill.executed.v1' || (typeof name === 'string' && name.startsWith('order.'))) return () => {};
      return bus.subscribe(name as EventName, handler);
    }) as EventBus['subscribe'],
  };
}

/** Cleanups run at shutdown in reverse order of registration. */
class Cleanups {
  private readonly list: (() => Promise<void> | void)[] = [];
  add = (fn: () => Promise<void> | void): void => {
    this.list.push(fn);
  };
  async run(): Promise<void> {
    for (const c of this.list.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  }
}

/**
 * Audit checkpoints outside the database (issue 10): on a schedule and on every kill switch, to the configured file
 * and/or the alert channels. Needs the unlocked vault (they are signed with the audit key).
 */
function startAuditCheckpoints(
  config: Config,
  homeRoot: string,
  bus: InProcessEventBus,
  store: Store,
  auditor: { flush(): Promise<void> } | undefined,
  log: { warn(o: object, msg: string): void },
  cleanups: Cleanups,
): void {
  const a = config.audit;
  if (!store.audit.canAppend || (!a.checkpointFile && !a.checkpointAlerts)) return;
  const alert = (message: string) =>
    bus.publish({
      name: 'alert.raised.v1',
      payload: { severity: 'info', title: 'audit checkpoint', message, key: 'audit.checkpoint' },
      time: Date.now(),
      correlationId: 'audit-checkpoint',
      source: 'audit',
    });
  const cp = new AuditCheckpointer(
    store.audit,
    {
      ...(a.checkpointFile ? { file: a.checkpointFile, home: homeRoot } : {}),
      ...(a.checkpointAlerts ? { alert } : {}),
      ...(auditor ? { settle: () => auditor.flush() } : {}),
    },
    (err) => log.warn({ err }, 'audit checkpoint failed'),
  ).start(bus, a.checkpointIntervalMinutes * 60_000);
  cleanups.add(() => cp.close());
}

/** Refuses configs that would be unsafe or impossible to run, before anything is opened. */
function validateRunConfig(config: Config, profile: Profile, confirmLive: boolean | undefined): void {
  if (profile === 'live' && !confirmLive) {
    throw new ConfigError('profile', 'the live profile trades real money: add --confirm-live to confirm');
  }
  const ids = new Set<string>();
  const venueIds = new Set(config.venues.map((v) => v.id));
  for (const [i, d] of config.deployments.entries()) {
    if (ids.has(d.id)) throw new ConfigError(`deployments.${i}.id`, `duplicate deployment id "${d.id}"`);
    ids.add(d.id);
    // A stored version (ID@vN) is checked when its deployment starts, against the store.
    if (parseVersionRef(d.strategy) === undefined) resolveStrategy(d.strategy);
    parseTimeframe(d.timeframe);
    if (venueIds.size > 0 && !venueIds.has(d.venue)) {
      throw new ConfigError(
        `deployments.${i}.venue`,
        `no venue "${d.venue}" in "venues" (${[...venueIds].join(', ')})`,
      );
    }
  }
  // A futures account nets every deployment's trades of a symbol into one position: its funding is booked to the one
  // deployment trading that symbol there, so two sharing one are refused.
  for (const v of config.venues) {
    if (v.exchange !== undefined && FUTURES_EXCHANGES.includes(v.exchange)) fundingOwners(v.id, config.deployments);
  }
}

/**
 * The deployments created over the API that the store carries (origin `api`, not archived). An id also in the config
 * file is refused: two run specs under one id would share one book and one journal.
 */
async function storedApiDeployments(store: Store, config: Config): Promise<DeploymentInput[]> {
  const stored = (await store.deployments.list()).filter((d) => d.origin === 'api' && d.status !== 'archived');
  for (const d of stored) {
    const k = config.deployments.findIndex((c) => c.id === d.id);
    if (k >= 0) {
      throw new ConfigError(
        `deployments.${k}.id`,
        `"${d.id}" is also a deployment created over the API: rename one (or archive the API one)`,
      );
    }
  }
  return stored;
}

/**
 * The live profile runs only stored strategy versions (`ID@vN`) in the lifecycle state `live` (DEPLOY-4): they passed
 * the gate and a dry run and were promoted by an admin (docs/promotion.md). Anything else is refused before a venue
 * is touched.
 */
async function checkLive(store: Store, config: Config): Promise<void> {
  const refused = await new Promotion({ store, dataDir: '' }).notLive(config.deployments.map((d) => d.strategy));
  for (const [i, d] of config.deployments.entries()) {
    const why = refused.get(d.strategy);
    if (why !== undefined) {
      throw new ConfigError(
        `deployments.${i}.strategy`,
        `strategy "${d.strategy}" is not approved for live trading: ${why}; the live profile runs only stored versions promoted to live (docs/promotion.md)`,
      );
    }
  }
}

/** One clock-drift guard per venue (OPS-6): new orders blocked while the venue's clock disagrees with ours. */
async function startDriftGuards(
  venues: ReadonlyMap<string, BuiltVenue>,
  bus: EventBus,
  metrics: OpsMetrics,
  log: Logger,
  cleanups: Cleanups,
): Promise<Map<string, ClockDriftGuard>> {
  const guards = new Map<string, ClockDriftGuard>();
  for (const v of venues.values()) {
    const g = new ClockDriftGuard({
      fetchServerTime: () => v.resilient.fetchServerTime(),
      // IG's clock is the 1 s Date header, and each sample spends one of its 30 requests a minute: fewer, rarer.
      ...(v.serverTimeResolutionMs ? { resolutionMs: v.serverTimeResolutionMs, samples: 2, intervalMs: 300_000 } : {}),
      bus,
      reference: v.id,
      onChange: (_allowed, drift) => drift !== undefined && metrics.setClockDrift(drift),
      onError: (err) => log.warn({ err, venue: v.id }, 'clock drift measurement failed'),
    });
    await g.start();
    guards.set(v.id, g);
    cleanups.add(() => g.stop());
  }
  return guards;
}

/** Heartbeat into the store every interval (OPS-2) and the watchdog that alerts when it goes missing. */
function startHeartbeat(config: Config, bus: EventBus, store: Store, log: Logger, cleanups: Cleanups) {
  let last: { seq: number; time: number } | undefined;
  const heartbeat = new Heartbeat({
    bus,
    intervalMs: config.runtime.heartbeatSeconds * 1000,
    source: 'runtime',
    persist: async (b) => {
      last = b;
      await store.heartbeats.beat('runtime', b.seq, b.time);
    },
    onError: (err) => log.error({ err }, 'heartbeat write failed'),
  });
  heartbeat.start();
  cleanups.add(() => heartbeat.stop());
  const watchdog = new Watchdog({
    bus,
    maxAgeMs: 2 * config.runtime.heartbeatSeconds * 1000,
    checkIntervalMs: Math.max(1000, (config.runtime.heartbeatSeconds * 1000) / 4),
    lastBeat: async () => (await store.heartbeats.list()).find((h) => h.component === 'runtime')?.time,
  });
  watchdog.start();
  cleanups.add(() => watchdog.stop());
  return {
    lastBeat: () => last,
    stop: () => {
      heartbeat.stop();
      watchdog.stop();
    },
  };
}

/** Starts the runtime for a config and profile. Throws ConfigError for anything that would be unsafe to run. */
/**
 * The runtime's store. The journal's commits reach the OS before an order is sent (kill -9 keeps them); fsync is
 * batched off the event loop within the sync window (docs/live.md, "Durability of the journal"). Its fsync errors
 * go to the log once there is one (`reportSyncErrors`).
 */
async function openRuntimeStore(config: Config, home: HomePaths) {
  mkdirSync(home.root, { recursive: true });
  mkdirSync(home.logs, { recursive: true });
  let onSyncError: (err: unknown) => void = () => {};
  const store = await openStore({
    home,
    ...(config.database.url ? { databaseUrl: config.database.url } : {}),
    sqliteSync: 'batched',
    onSyncError: (err) => onSyncError(err),
  });
  const reportSyncErrors = (log: Logger): void => {
    onSyncError = (err) => log.error({ err }, 'journal fsync failed (commits stay in the OS until the next round)');
  };
  return { store, reportSyncErrors };
}

/** The runtime's shared parts that come before any venue: logs, the event bus, the audit trail, metrics, secrets. */
interface RuntimeCore {
  logs: OpsLogger;
  log: Logger;
  bus: InProcessEventBus;
  trail: TradeTrail;
  metrics: OpsMetrics;
  /** The bounded queues on /metrics; an overflow halts new exposure and alerts. */
  queues: QueueGuard;
  vault: Awaited<ReturnType<typeof tryUnlockFromEnv>>;
  secret: (name: string) => Promise<string | undefined>;
}

async function buildRuntimeCore(
  config: Config,
  home: HomePaths,
  store: Store,
  env: NodeJS.ProcessEnv,
  cleanups: Cleanups,
  onLog: (log: Logger) => void,
): Promise<RuntimeCore> {
  let vaultError: unknown;
  const vault = await tryUnlockFromEnv(store, env).catch((err: unknown) => {
    vaultError = err;
    return undefined;
  });
  const logs: OpsLogger = createLogger({
    level: config.log.level,
    file: config.log.file ?? join(home.logs, 'tradeforge.log'),
    maxBytes: config.log.maxBytes,
    maxFiles: config.log.maxFiles,
    stdout: false,
    redact: (v) => redact(v),
    base: { component: 'runtime' },
  });
  cleanups.add(() => logs.close());
  const log = logs.child('runtime');
  onLog(log);
  const bus = new InProcessEventBus();
  const metrics = new OpsMetrics({ bus });
  cleanups.add(() => metrics.close());
  const queues = new QueueGuard(bus, metrics);
  cleanups.add(() => queues.close());
  const persister = store.persistEvents(withoutOrderEvents(bus), {
    onError: (err) => log.error({ err }, 'store write failed'),
    onOverflow: queues.overflow,
  });
  queues.watch(persister.gauge);
  const trail = new TradeTrail({
    bus,
    store,
    logger: logs.logger,
    onError: (err) => log.error({ err }, 'audit write failed'),
    onOverflow: queues.overflow,
  });
  cleanups.add(() => trail.close());
  if (trail.auditor) queues.watch(trail.auditor.gauge);
  if (vaultError)
    log.warn({ err: vaultError }, 'the vault could not be unlocked: secrets (alerts, venue keys) unavailable');
  const secret = async (name: string) => (vault && (await vault.has(name)) ? vault.get(name, 'runtime') : undefined);
  return { logs, log, bus, trail, metrics, queues, vault, secret };
}

/** What a run of the runtime is: its start time, run tag, config hash and paper/live mode. */
interface RunIdentity {
  mode: 'paper' | 'live';
  /** The profile the run was started with (recorded with each deployment: a dry run is a `dry_run` run). */
  profile: Profile;
  configHash: string;
  startedAt: number;
  runTag: string;
}

/** The venues (with their clock-drift guards), the account's risk engine with its saved state, and the kill switch. */
async function buildTrading(
  config: Config,
  /** The config with every deployment whose venue the runtime connects (the API's stopped ones too). */
  venueConfig: Config,
  profile: Profile,
  store: Store,
  core: RuntimeCore,
  entries: EntriesSwitch,
  run: RunIdentity,
  cleanups: Cleanups,
) {
  const { bus, log, metrics } = core;
  // Venue-side trouble (IG allowance refusals, positions found without a stop, stop hits) as alerts.
  const venueAlert = (venueId: string, message: string, key = `venue.${venueId}.${message.slice(0, 60)}`) =>
    bus.publish({
      name: 'alert.raised.v1',
      time: Date.now(),
      correlationId: `venue:${venueId}`,
      source: `venue:${venueId}`,
      payload: { severity: 'warning', title: `Venue ${venueId}`, message, key },
    });
  const venues = await buildVenues(
    venueConfig,
    profile,
    core.secret,
    paperAccountsIn(store, (err) => log.error({ err }, 'paper account not saved')),
    venueAlert,
    // Which path brings orders and fills: logged at each switch; falling back to polling is also an alert.
    (venueId, { feed, mode, cause }) => {
      if (mode === 'stream') {
        log.info({ venue: venueId, feed }, `venue ${venueId} ${feed}: user-data stream`);
        return;
      }
      const message = `${feed}: REST polling, the user-data stream is down (${cause?.message ?? 'unknown'}); retrying it`;
      log.warn({ venue: venueId, feed, err: cause }, `venue ${venueId} ${message}`);
      venueAlert(venueId, message, `venue.${venueId}.${feed}.poll`);
    },
  );
  for (const v of venues.values())
    if (v.venue instanceof CcxtVenue)
      log.info(
        { venue: v.id, userStream: v.venue.userStreaming },
        `venue ${v.id} orders and fills: ${v.venue.userStreaming ? 'user-data stream first, REST polling while it is down' : 'REST polling'}`,
      );
  cleanups.add(async () => {
    for (const v of venues.values()) await v.close().catch(() => undefined);
  });
  const guards = await startDriftGuards(venues, bus, metrics, log, cleanups);
  const venueOf = new Map(venueConfig.deployments.map((d) => [d.id, d.venue]));
  const { account, saver, preferences } = await buildAccountRisk({
    config,
    mode: run.mode,
    bus,
    store,
    extraRules: [staleDataRule, clockDriftRule((id) => guards.get(venueOf.get(id) ?? '')), entries],
    onSaveError: (err) => log.error({ err }, 'risk state write failed'),
  });
  cleanups.add(() => saver.flush());
  core.queues.bindHalt((reason) => account.engine.halt(QUEUE_HALT_ACTOR, reason));
  const killState = await store.kv.get<{ event?: string }>('killswitch.state');
  const killed = killState?.event === 'killswitch.triggered.v1' || killState?.event === 'killswitch.completed.v1';
  return { venues, guards, account, killed, venueOf, preferences };
}

/** What every deployment of the runtime is started with (the run config's, and the API's later). */
function deploymentDeps(
  opts: StartRuntimeOptions,
  config: Config,
  core: RuntimeCore,
  store: Store,
  account: Awaited<ReturnType<typeof buildAccountRisk>>['account'],
  run: RunIdentity,
  killed: boolean,
  cleanups: Cleanups,
): DeploymentDeps {
  return {
    config,
    store,
    bus: core.bus,
    logs: core.logs,
    metrics: core.metrics,
    queues: core.queues,
    account,
    mode: run.mode,
    runTag: run.runTag,
    killed,
    trail: core.trail,
    liveDataDir: join(opts.home.data, 'live'),
    onCleanup: cleanups.add,
    ...(opts.print ? { print: opts.print } : {}),
    ...(opts.printBars ? { printBars: true } : {}),
  };
}

/**
 * Starts every deployment of the run config in order (the config file's, then the API's that were running) and
 * records each as running.
 */
async function startDeployments(
  config: Config,
  deps: DeploymentDeps,
  store: Store,
  venues: ReadonlyMap<string, BuiltVenue>,
  run: RunIdentity,
  apiIds: ReadonlySet<string>,
): Promise<DeploymentRuntime[]> {
  const deployments: DeploymentRuntime[] = [];
  for (const [k, d] of config.deployments.entries()) {
    const built = venues.get(d.venue) as BuiltVenue;
    const dep = await startDeployment(deps, d, k, built);
    // Funding booked in earlier runs, back into the book after its fills.
    await replayFunding(store, dep);
    deployments.push(dep);
    await recordDeployment(store, d, { ...run, status: 'running', ...(apiIds.has(d.id) ? { origin: 'api' } : {}) });
  }
  startFundingBookers(config, deps.bus, store, venues, deployments, deps.logs, deps.onCleanup);
  return deployments;
}

/** One funding booker per futures venue: its funding payments booked into the deployments trading there. */
function startFundingBookers(
  config: Config,
  bus: EventBus,
  store: Store,
  venues: ReadonlyMap<string, BuiltVenue>,
  deployments: readonly DeploymentRuntime[],
  logs: OpsLogger,
  onCleanup: DeploymentDeps['onCleanup'],
): void {
  const log = logs.child('runtime');
  for (const built of venues.values()) {
    const venue = built.venue;
    if (!(venue instanceof CcxtVenue) || !venue.futuresMode) continue;
    const booker = new FundingBooker({
      venueId: built.id,
      source: venue,
      deployments: deployments.filter((d) => d.venue.id === built.id),
      store,
      bus,
      pollMs: config.runtime.fundingPollSeconds * 1000,
      onError: (err) => log.warn({ err, venue: built.id }, 'funding poll failed'),
    }).start();
    onCleanup(() => booker.close());
  }
}

/** The runtime's HTTP server: health, metrics, the authenticated API (and MCP); returns the URL it listens on. */
async function serveRuntime(
  opts: StartRuntimeOptions,
  core: RuntimeCore,
  store: Store,
  parts: Omit<Parameters<typeof buildRuntimeHttp>[0], 'metrics' | 'profile' | 'version' | 'configHash'> & {
    profile: Profile;
    configHash: string;
    deploymentControl: AttachApiDeps['deploymentControl'];
    preferences: RiskPreferencesService;
    alertChannels: AlertChannelsService;
  },
  cleanups: Cleanups,
): Promise<string> {
  const { config, home } = opts;
  const app = buildRuntimeHttp({ ...parts, metrics: core.metrics, version: APP_VERSION });
  // Generation (API and MCP) builds its providers on demand, with the runtime's store, bus and vault.
  const agents =
    config.agents.providers.length > 0
      ? () => agentDeps({ config, store, bus: core.bus, ...(core.vault ? { vault: core.vault } : {}) })
      : undefined;
  cleanups.add(() => app.close());
  // The authenticated API (issue 13) on the same server; the CLI authenticates with the token in run/.
  const detachApi = await attachRuntimeApi({
    app,
    server: config.server,
    queue: config.queue,
    store,
    ...(core.vault ? { vault: core.vault } : {}),
    ...(opts.runFile !== false ? { runDir: home.run } : {}),
    control: parts.control,
    status: parts.status,
    bus: core.bus,
    watchQueue: (q) => core.queues.watch(q),
    risk: config.risk,
    riskInForce: () => parts.account.engine.config,
    riskPreferences: parts.preferences,
    alertChannels: parts.alertChannels,
    version: { version: APP_VERSION, gitSha: null, configHash: parts.configHash },
    deployments: () => parts.deployments,
    ...(parts.deploymentControl ? { deploymentControl: parts.deploymentControl } : {}),
    home,
    config,
    promotion: new Promotion({ store, dataDir: home.data, accountRisk: config.risk }),
    ...(agents ? { agents } : {}),
    mcp: { home, docsDir: DOCS_DIR, ...(agents ? { agents } : {}) },
  });
  cleanups.add(detachApi);
  return (await listen(app, config.server.host, config.server.port)).url;
}

/**
 * Starts the live runtime: store, logs and audit trail, alerting, venues, the account's risk engine, one kernel per
 * deployment, the HTTP server and API; returns its handle. Each step is a builder; this only wires them in order.
 */
export async function startRuntime(opts: StartRuntimeOptions): Promise<Runtime> {
  const { config, home } = opts;
  const profile: Profile = opts.profile ?? config.profile;
  validateRunConfig(config, profile, opts.confirmLive);
  const { store, reportSyncErrors } = await openRuntimeStore(config, home);
  const cleanups = new Cleanups();
  cleanups.add(async () => store.close());
  try {
    // Deployments created over the API resume in the state they had: running ones start (and reconcile) like the
    // config file's; the others wait for a start over the API, their venues connected.
    const stored = await storedApiDeployments(store, config);
    if (config.deployments.length === 0 && stored.length === 0) {
      throw new ConfigError('deployments', 'nothing to run: the config has no deployments (see docs/live.md)');
    }
    const apiIds = new Set(stored.filter((d) => d.status === 'running').map((d) => d.id));
    const apiSpecs = (list: DeploymentInput[]) => list.map((d) => d.config as DeploymentConfig);
    const runConfig: Config = {
      ...config,
      deployments: [...config.deployments, ...apiSpecs(stored.filter((d) => apiIds.has(d.id)))],
    };
    const venueConfig: Config = { ...config, deployments: [...config.deployments, ...apiSpecs(stored)] };
    if (profile === 'live') await checkLive(store, runConfig);
    // Traces only when an OTLP endpoint is configured: otherwise no SDK is loaded and nothing is traced.
    const otlpUrl = config.telemetry.otlpUrl;
    if (otlpUrl !== undefined) {
      const { startTelemetry } = await import('./telemetry.js');
      const telemetry = startTelemetry({ otlpUrl });
      cleanups.add(() => telemetry.shutdown());
    }
    const core = await buildRuntimeCore(config, home, store, opts.env ?? process.env, cleanups, reportSyncErrors);
    const { bus, log } = core;
    let boundControl: Runtime['control'] | undefined;
    const alerting = await buildAlerting({
      config,
      bus,
      store,
      logs: core.logs,
      secret: core.secret,
      vaultOpen: core.vault !== undefined,
      control: lateBoundControl(() => boundControl),
    });
    cleanups.add(() => alerting.close());
    core.queues.watch(alerting.router);
    startAuditCheckpoints(config, home.root, bus, store, core.trail.auditor, log, cleanups);
    const entries = new EntriesSwitch();
    const startedAt = Date.now();
    const run: RunIdentity = {
      mode: profile === 'live' ? 'live' : 'paper',
      profile,
      configHash: createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16),
      startedAt,
      runTag: newRunId(startedAt),
    };
    const { venues, guards, account, killed, venueOf, preferences } = await buildTrading(
      runConfig,
      venueConfig,
      profile,
      store,
      core,
      entries,
      run,
      cleanups,
    );
    await core.trail.configLoaded(config, run.configHash, opts.configFile, startedAt);
    const depDeps = deploymentDeps(opts, runConfig, core, store, account, run, killed, cleanups);
    const deployments = await startDeployments(runConfig, depDeps, store, venues, run, apiIds);
    const offPrinter = opts.print ? subscribePrinter(bus, opts.print) : () => {};
    const beat = startHeartbeat(config, bus, store, log, cleanups);
    let state: 'running' | 'stopping' = 'running';
    let url = '';
    const stopping = () => state === 'stopping';
    const common = { deployments, account, entries, profile, lastBeat: beat.lastBeat };
    const statusNow = buildStatus({ ...common, store, startedAt, url: () => url, stopping });
    const control = buildControl({ ...common, bus, store, statusNow, lastBeat: () => beat.lastBeat()?.time });
    boundControl = control;
    // Telegram control (OPS-4): the same ControlApi, for the configured chat ids only.
    const bot = alerting.telegramBot;
    if (bot) {
      await bot.start().catch((err: unknown) => log.error({ err }, 'telegram control could not start'));
      cleanups.add(() => bot.stop());
    }
    const deploymentsApi = deploymentControl({
      config,
      profile,
      store,
      promotion: new Promotion({ store, dataDir: home.data }),
      venues,
      account,
      running: deployments,
      stopping,
      startOne: (d, onCleanup) => {
        venueOf.set(d.id, d.venue);
        // A fresh run tag: client order ids of this start never repeat an earlier start's in this run.
        const deps = { ...depDeps, runTag: newRunId(Date.now()), killed: false, onCleanup };
        return startDeployment(deps, d, 0, venues.get(d.venue) as BuiltVenue);
      },
      record: (d, status, extra) =>
        recordDeployment(store, d, {
          ...run,
          status,
          origin: 'api',
          configHash: createHash('sha256').update(JSON.stringify(d)).digest('hex').slice(0, 16),
          ...(status === 'created' ? { startedAt: Date.now() } : {}),
          ...extra,
        }),
    });
    cleanups.add(() => deploymentsApi.close());
    const serverParts = {
      ...common,
      guards,
      control,
      status: statusNow,
      configHash: run.configHash,
      stopping,
      deploymentControl: deploymentsApi,
      preferences,
      alertChannels: alerting.channels,
    };
    url = await serveRuntime(opts, core, store, serverParts, cleanups);
    if (opts.runFile !== false) {
      writeRunFile(home, { pid: process.pid, url, startedAt, profile, configFile: opts.configFile ?? null });
    }
    const started = { profile, deployments: deployments.map((d) => d.id), configHash: run.configHash };
    await audit(store, { action: 'runtime.started', subject: 'runtime', details: started, time: startedAt });
    log.info({ url, profile }, 'runtime started');
    const { stop, stopped } = stopsRuntime(async (reason) => {
      state = 'stopping';
      entries.enabled = false;
      beat.stop();
      await drainDeployments(deployments, log);
      // The config file's deployments are recorded stopped; the API's keep "running", the state they resume in.
      for (const d of deployments) {
        const dc = config.deployments.find((x) => x.id === d.id);
        if (dc) await recordDeployment(store, dc, { ...run, status: 'stopped' }).catch(() => undefined);
      }
      offPrinter();
      await audit(store, { action: 'runtime.stopped', subject: 'runtime', details: { reason }, time: Date.now() });
      log.info({ reason }, 'runtime stopped; protective stops stay on the venue');
      if (opts.runFile !== false) rmSync(runFilePath(home), { force: true });
      await cleanups.run();
    });
    return { profile, bus, store, deployments, control, url, status: statusNow, stop, stopped };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}

/** A stop that runs `shutdown` once, however often it is called, and a promise that settles when it is done. */
function stopsRuntime(shutdown: (reason: string) => Promise<void>): Pick<Runtime, 'stop' | 'stopped'> {
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });
  let stopping: Promise<void> | undefined;
  const stop = (reason = 'stop'): Promise<void> => {
    stopping ??= shutdown(reason).then(resolveStopped);
    return stopping;
  };
  return { stop, stopped };
}

/** Records a deployment's run (config, hash, version, status) in the store (OPS-7). */
async function recordDeployment(
  store: Store,
  d: DeploymentConfig,
  r: {
    mode: 'paper' | 'live';
    profile: Profile;
    configHash: string;
    startedAt: number;
    status: DeploymentStatus;
    origin?: 'api';
    createdBy?: string;
  },
): Promise<void> {
  const now = Date.now();
  await store.deployments.upsert({
    id: d.id,
    strategyId: d.strategy,
    ...(parseVersionRef(d.strategy) ? { strategyVersionId: d.strategy } : {}),
    profile: r.profile,
    venue: d.venue,
    mode: r.mode,
    symbols: d.symbols,
    config: d,
    configHash: r.configHash,
    appVersion: APP_VERSION,
    status: r.status,
    createdAt: r.startedAt,
    updatedAt: now,
    ...(r.status === 'stopped' ? { stoppedAt: now } : {}),
    ...(r.origin ? { origin: r.origin } : {}),
    ...(r.createdBy ? { createdBy: r.createdBy } : {}),
  });
}

// Graceful stop of the order flow: feeds closed, in-flight placements finished (they were written ahead), late
// fills booked, strategy state saved, journals flushed. Nothing new is sent after this.
async function drainDeployments(deployments: readonly DeploymentRuntime[], log: Logger): Promise<void> {
  for (const d of deployments) d.feed.close();
  await Promise.race([Promise.all(deployments.map((d) => d.bridge.drain())), sleep(10_000)]);
  await Promise.race([
    Promise.all(
      deployments.map((d) => d.bridge.syncOpenOrders().catch((err) => log.warn({ err }, 'final order sync failed'))),
    ),
    sleep(10_000),
  ]);
  // The final sync may have queued work (a stop cancelled for a position found flat): let it finish too.
  await Promise.race([Promise.all(deployments.map((d) => d.bridge.drain())), sleep(10_000)]);
  for (const d of deployments) {
    d.bridge.close();
    d.journal.saveStrategyState(d.id, d.gate.getState(), Date.now());
    await d.journal.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
