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
import { ClockDriftGuard, createLogger, Heartbeat, type OpsLogger, OpsMetrics, Watchdog } from '../ops/index.js';
import { redact } from '../security/index.js';
import { tryUnlockFromEnv } from '../security/cli-unlock.js';
import { AuditCheckpointer } from '../store/audit-checkpoint.js';
import { type Store, openStore } from '../store/index.js';
import { resolveStrategy } from '../authoring/resolve.js';
import { parseVersionRef } from '../authoring/versions.js';
import { attachRuntimeApi } from './api-port.js';
import { newRunId } from '../venues/live/client-order-id.js';
import { agentDeps, DOCS_DIR } from './agent-services.js';
import type { HomePaths } from './home.js';
import { buildAlerting } from './live/alerting.js';
import { buildControl, lateBoundControl } from './live/control.js';
import { type DeploymentConfig, startDeployment } from './live/deployment.js';
import { clockDriftRule, EntriesSwitch, staleDataRule } from './live/gates.js';
import { buildRuntimeHttp, listen } from './live/http.js';
import { subscribePrinter } from './live/printer.js';
import { buildAccountRisk } from './live/risk-state.js';
import type { DeploymentRuntime, Runtime } from './live/runtime-types.js';
import { buildStatus } from './live/status.js';
import { TradeTrail } from './live/trade-trail.js';
import { audit } from './reconcile.js';
import { paperAccountsIn } from './paper-accounts.js';
import { type BuiltVenue, buildVenues, type Profile } from './venues.js';

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
  if (config.deployments.length === 0) {
    throw new ConfigError('deployments', 'nothing to run: the config has no deployments (see docs/live.md)');
  }
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
}

/** The live profile runs only strategies approved by config or by the promotion gates (recorded in the store). */
async function checkApproved(store: Store, config: Config): Promise<void> {
  const approvedStore = (await store.kv.get<string[]>('strategies.approved')) ?? [];
  const approved = new Set([...config.approvedStrategies, ...approvedStore]);
  for (const [i, d] of config.deployments.entries()) {
    if (!approved.has(d.strategy)) {
      throw new ConfigError(
        `deployments.${i}.strategy`,
        `strategy "${d.strategy}" is not approved for live trading (add it to "approvedStrategies" once it passed its gates)`,
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
export async function startRuntime(opts: StartRuntimeOptions): Promise<Runtime> {
  const config = opts.config;
  const profile: Profile = opts.profile ?? config.profile;
  const env = opts.env ?? process.env;
  const home = opts.home;
  validateRunConfig(config, profile, opts.confirmLive);

  mkdirSync(home.root, { recursive: true });
  mkdirSync(home.logs, { recursive: true });
  // The journal's commits reach the OS before an order is sent (kill -9 keeps them); fsync is batched off the
  // event loop within the sync window (docs/live.md, "Durability of the journal").
  let onSyncError: (err: unknown) => void = () => {};
  const store = await openStore({
    home,
    ...(config.database.url ? { databaseUrl: config.database.url } : {}),
    sqliteSync: 'batched',
    onSyncError: (err) => onSyncError(err),
  });
  const cleanups = new Cleanups();
  cleanups.add(async () => store.close());
  try {
    if (profile === 'live') await checkApproved(store, config);
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
    onSyncError = (err) => log.error({ err }, 'journal fsync failed (commits stay in the OS until the next round)');
    const bus = new InProcessEventBus();
    store.persistEvents(withoutOrderEvents(bus), { onError: (err) => log.error({ err }, 'store write failed') });
    const trail = new TradeTrail({
      bus,
      store,
      logger: logs.logger,
      onError: (err) => log.error({ err }, 'audit write failed'),
    });
    cleanups.add(() => trail.close());
    const auditor = trail.auditor;
    const metrics = new OpsMetrics({ bus });
    cleanups.add(() => metrics.close());
    if (vaultError)
      log.warn({ err: vaultError }, 'the vault could not be unlocked: secrets (alerts, venue keys) unavailable');
    const secret = async (name: string) => (vault && (await vault.has(name)) ? vault.get(name, 'runtime') : undefined);

    let boundControl: Runtime['control'] | undefined;
    const alerting = await buildAlerting({
      config,
      bus,
      store,
      logs,
      secret,
      vaultOpen: vault !== undefined,
      control: lateBoundControl(() => boundControl),
    });
    cleanups.add(() => alerting.close());
    startAuditCheckpoints(config, home.root, bus, store, auditor, log, cleanups);

    const venues = await buildVenues(
      config,
      profile,
      secret,
      paperAccountsIn(store, (err) => log.error({ err }, 'paper account not saved')),
    );
    cleanups.add(async () => {
      for (const v of venues.values()) await v.close().catch(() => undefined);
    });
    const guards = await startDriftGuards(venues, bus, metrics, log, cleanups);
    const venueOf = new Map(config.deployments.map((d) => [d.id, d.venue]));

    const entries = new EntriesSwitch();
    const mode: 'paper' | 'live' = profile === 'live' ? 'live' : 'paper';
    const { account, saver } = await buildAccountRisk({
      config,
      mode,
      bus,
      store,
      extraRules: [staleDataRule, clockDriftRule((id) => guards.get(venueOf.get(id) ?? '')), entries],
      onSaveError: (err) => log.error({ err }, 'risk state write failed'),
    });
    cleanups.add(() => saver.flush());
    const killState = await store.kv.get<{ event?: string }>('killswitch.state');
    const killed = killState?.event === 'killswitch.triggered.v1' || killState?.event === 'killswitch.completed.v1';
    const configHash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
    const startedAt = Date.now();
    const runTag = newRunId(startedAt);
    await trail.configLoaded(config, configHash, opts.configFile, startedAt);

    const deployments: DeploymentRuntime[] = [];
    for (const [k, d] of config.deployments.entries()) {
      const built = venues.get(d.venue) as BuiltVenue;
      const dep = await startDeployment(
        {
          config,
          store,
          bus,
          logs,
          metrics,
          account,
          mode,
          runTag,
          killed,
          trail,
          liveDataDir: join(home.data, 'live'),
          onCleanup: cleanups.add,
          ...(opts.print ? { print: opts.print } : {}),
          ...(opts.printBars ? { printBars: true } : {}),
        },
        d,
        k,
        built,
      );
      deployments.push(dep);
      await recordDeployment(store, d, { mode, configHash, startedAt, status: 'running' });
    }
    const offPrinter = opts.print ? subscribePrinter(bus, opts.print) : () => {};

    const beat = startHeartbeat(config, bus, store, log, cleanups);
    let state: 'running' | 'stopping' = 'running';
    const queueTimer = setInterval(() => {
      let depth = 0;
      for (const d of deployments) depth += d.bridge.queueDepth + d.journal.depth;
      metrics.setQueueDepth('orders', depth);
    }, 1000);
    queueTimer.unref();

    let url = '';
    const statusNow = buildStatus({
      deployments,
      account,
      store,
      profile,
      startedAt,
      entries,
      url: () => url,
      stopping: () => state === 'stopping',
      lastBeat: beat.lastBeat,
    });
    const control = buildControl({
      deployments,
      account,
      entries,
      profile,
      bus,
      store,
      statusNow,
      lastBeat: () => beat.lastBeat()?.time,
    });
    boundControl = control;
    // Telegram control (OPS-4): the same ControlApi, for the configured chat ids only.
    const bot = alerting.telegramBot;
    if (bot) {
      await bot.start().catch((err: unknown) => log.error({ err }, 'telegram control could not start'));
      cleanups.add(() => bot.stop());
    }
    const app = buildRuntimeHttp({
      metrics,
      deployments,
      account,
      guards,
      entries,
      control,
      status: statusNow,
      profile,
      version: APP_VERSION,
      configHash,
      stopping: () => state === 'stopping',
      lastBeat: beat.lastBeat,
    });
    cleanups.add(() => app.close());
    // The authenticated API (issue 13) on the same server; the CLI authenticates with the token in run/.
    const detachApi = await attachRuntimeApi({
      app,
      server: config.server,
      queue: config.queue,
      store,
      ...(vault ? { vault } : {}),
      ...(opts.runFile !== false ? { runDir: home.run } : {}),
      control,
      status: statusNow,
      bus,
      risk: config.risk,
      version: { version: APP_VERSION, gitSha: null, configHash },
      deployments: () => deployments,
      mcp: {
        home,
        docsDir: DOCS_DIR,
        ...(config.agents.providers.length > 0
          ? { agents: () => agentDeps({ config, store, bus, ...(vault ? { vault } : {}) }) }
          : {}),
      },
    });
    cleanups.add(detachApi);
    url = (await listen(app, config.server.host, config.server.port)).url;
    if (opts.runFile !== false) {
      writeRunFile(home, { pid: process.pid, url, startedAt, profile, configFile: opts.configFile ?? null });
    }
    await audit(store, {
      action: 'runtime.started',
      subject: 'runtime',
      details: { profile, deployments: deployments.map((d) => d.id), configHash },
      time: startedAt,
    });
    log.info({ url, profile }, 'runtime started');

    let resolveStopped!: () => void;
    const stopped = new Promise<void>((r) => {
      resolveStopped = r;
    });
    let stopping: Promise<void> | undefined;
    const stop = (reason = 'stop'): Promise<void> => {
      stopping ??= (async () => {
        state = 'stopping';
        entries.enabled = false;
        clearInterval(queueTimer);
        beat.stop();
        await drainDeployments(deployments, log);
        for (const d of deployments) {
          const dc = config.deployments.find((x) => x.id === d.id) as DeploymentConfig;
          await recordDeployment(store, dc, { mode, configHash, startedAt, status: 'stopped' }).catch(() => undefined);
        }
        offPrinter();
        await audit(store, { action: 'runtime.stopped', subject: 'runtime', details: { reason }, time: Date.now() });
        log.info({ reason }, 'runtime stopped; protective stops stay on the venue');
        if (opts.runFile !== false) rmSync(runFilePath(home), { force: true });
        await cleanups.run();
        resolveStopped();
      })();
      return stopping;
    };
    return { profile, bus, store, deployments, control, url, status: statusNow, stop, stopped };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}

/** Records a deployment's run (config, hash, version, status) in the store (OPS-7). */
async function recordDeployment(
  store: Store,
  d: DeploymentConfig,
  r: { mode: 'paper' | 'live'; configHash: string; startedAt: number; status: 'running' | 'stopped' },
): Promise<void> {
  const now = Date.now();
  await store.deployments.upsert({
    id: d.id,
    strategyId: d.strategy,
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
  for (const d of deployments) {
    d.bridge.close();
    d.journal.saveStrategyState(d.id, d.gate.getState(), Date.now());
    await d.journal.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
