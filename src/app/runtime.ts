/**
 * The live runtime (DEPLOY-4): the composition root that turns a config into running deployments — bus, store and
 * its event subscribers, logger, venues, one Engine per deployment (paper or live mode) on a live feed and the live
 * bridge, risk engine with the live defaults plus the runtime gates, startup reconciliation, heartbeat and
 * watchdog, alerts, the ops HTTP server with the control API, and a graceful shutdown that leaves protective stops
 * on the venue.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { DomainEvent, EventBus, EventName } from '../core/events.js';
import type { Instrument } from '../core/instrument.js';
import type { Order } from '../core/order.js';
import { parseTimeframe } from '../core/timeframe.js';
import { RealClock } from '../engine/clock.js';
import { Engine } from '../engine/engine.js';
import { InProcessEventBus } from '../engine/event-bus.js';
import { SymbolFeed } from '../engine/market-data.js';
import { Atr } from '../indicators/index.js';
import {
  AlertRouter,
  type AlertChannel,
  ClockDriftGuard,
  type ControlApi,
  type ControlBalance,
  type ControlPosition,
  type ControlProfit,
  type ControlResult,
  type ControlStatus,
  createLogger,
  DiscordChannel,
  EmailChannel,
  Heartbeat,
  type OpsLogger,
  OpsMetrics,
  subscribeAlerts,
  TelegramChannel,
  TelegramControl,
  Watchdog,
} from '../ops/index.js';
import { createRiskEngine, type RiskEngine } from '../risk/index.js';
import { redact } from '../security/index.js';
import { tryUnlockFromEnv } from '../security/cli-unlock.js';
import { buildOpsServer } from '../server/ops-server.js';
import { type Store, openStore } from '../store/index.js';
import { resolveParams } from '../strategy/params.js';
import { getStrategy } from '../strategy/registry.js';
import { LiveVenueBridge } from '../venues/live/bridge.js';
import { clientOrderIdPrefix, newRunId } from '../venues/live/client-order-id.js';
import type { HomePaths } from './home.js';
import { clockDriftRule, EntriesSwitch, staleDataRule, WarmupGate } from './live/gates.js';
import { replayFills, StoreJournal } from './live/journal.js';
import { LiveColumns, LiveFeed } from './live/live-feed.js';
import { ProtectiveStops } from './live/protective-stops.js';
import { audit, type ReconcileReport, reconcileDeployment } from './reconcile.js';
import { type BuiltVenue, buildVenues, type Profile } from './venues.js';

/** Rows preallocated per symbol for live bars (about half a year of 1m bars). */
const LIVE_CAPACITY = 262_144;
/** Stake of live deployments: under the default 50% concentration limit. */
const LIVE_STAKE_PERCENT = 40;

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

/** One running deployment. */
export interface DeploymentRuntime {
  id: string;
  strategy: string;
  venue: BuiltVenue;
  symbols: string[];
  engine: Engine;
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
    unrealizedPnl: number;
    closedTrades: number;
    liveBars: number;
    stale: string[];
    protectiveStops: number;
  }[];
  positions: { deployment: string; symbol: string; quantity: number; averagePrice: number; last: number }[];
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
  }[];
  breakers: { deployment: string; active: { breaker: string; symbol?: string; until?: number; detail?: string }[] }[];
  risk: { deployment: string; checked: number; accepted: number; rejected: number; byCode: Record<string, number> }[];
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

/** Starts the runtime for a config and profile. Throws ConfigError for anything that would be unsafe to run. */
export async function startRuntime(opts: StartRuntimeOptions): Promise<Runtime> {
  const config = opts.config;
  const profile: Profile = opts.profile ?? config.profile;
  const env = opts.env ?? process.env;
  const home = opts.home;
  const print = opts.print;
  if (config.deployments.length === 0) {
    throw new ConfigError('deployments', 'nothing to run: the config has no deployments (see docs/live.md)');
  }
  if (profile === 'live') {
    if (!opts.confirmLive) {
      throw new ConfigError('profile', 'the live profile trades real money: add --confirm-live to confirm');
    }
  }
  const ids = new Set<string>();
  for (const [i, d] of config.deployments.entries()) {
    if (ids.has(d.id)) throw new ConfigError(`deployments.${i}.id`, `duplicate deployment id "${d.id}"`);
    ids.add(d.id);
    getStrategy(d.strategy);
    parseTimeframe(d.timeframe);
  }

  mkdirSync(home.root, { recursive: true });
  mkdirSync(home.logs, { recursive: true });
  const store = await openStore({ home, ...(config.database.url ? { databaseUrl: config.database.url } : {}) });
  const cleanups: (() => Promise<void> | void)[] = [async () => store.close()];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    if (profile === 'live') {
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
    let vaultError: unknown;
    const vault = await tryUnlockFromEnv(store, env).catch((err: unknown) => {
      vaultError = err;
      return undefined;
    });
    const logs: OpsLogger = createLogger({
      level: config.log.level,
      file: config.log.file ?? join(home.logs, 'runtime.log'),
      maxBytes: config.log.maxBytes,
      maxFiles: config.log.maxFiles,
      stdout: false,
      redact: (v) => redact(v),
      base: { component: 'runtime' },
    });
    cleanups.push(() => logs.close());
    const log = logs.child('runtime');
    const bus = new InProcessEventBus();
    store.persistEvents(withoutOrderEvents(bus), { onError: (err) => log.error({ err }, 'store write failed') });
    if (store.audit.canAppend) store.auditEvents(bus);
    const metrics = new OpsMetrics({ bus });
    cleanups.push(() => metrics.close());

    if (vaultError)
      log.warn({ err: vaultError }, 'the vault could not be unlocked: secrets (alerts, venue keys) unavailable');

    // Alerts: the channels the config names and the vault can unlock; always logged.
    const channels: AlertChannel[] = [];
    const secret = async (name: string) => (vault && (await vault.has(name)) ? vault.get(name, 'runtime') : undefined);
    const missing = (what: string, name: string) =>
      vault
        ? `${what}: secret "${name}" is not in the vault (tradeforge secrets set ${name})`
        : `${what}: the vault is locked (set TRADEFORGE_MASTER_KEY or TRADEFORGE_PASSWORD) so secret "${name}" cannot be read`;
    // One bot for alerts and control (OPS-3/OPS-4): the control bot is built here so the alert channel can share
    // its Bot API client; it starts polling once the control API exists, below.
    let boundControl: ControlApi | undefined;
    let telegramBot: TelegramControl | undefined;
    const tg = config.alerts.telegram;
    if (tg) {
      const token = await secret(tg.tokenSecret);
      if (!token)
        log.warn(missing('alerts.telegram is configured but Telegram alerts and control are off', tg.tokenSecret));
      else if (tg.chatIds.length === 0) {
        log.warn('alerts.telegram.chatIds is empty: Telegram alerts and control are off (no chat to alert or obey)');
      } else {
        telegramBot = new TelegramControl({
          token,
          allowedChatIds: tg.chatIds,
          control: lateBoundControl(() => boundControl),
          bus,
          ...(tg.apiRoot ? { apiRoot: tg.apiRoot } : {}),
          audit: (e) =>
            audit(store, {
              action: 'telegram.command',
              subject: 'runtime',
              details: e,
              time: Date.now(),
              actor: 'telegram',
            }),
          logger: logs.child('ops:telegram'),
        });
        channels.push(
          new TelegramChannel({ token, chatIds: tg.chatIds, minSeverity: tg.minSeverity, api: telegramBot.bot.api }),
        );
      }
    }
    const dc = config.alerts.discord;
    if (dc) {
      const webhookUrl = await secret(dc.webhookSecret);
      if (webhookUrl) channels.push(new DiscordChannel({ webhookUrl, minSeverity: dc.minSeverity }));
      else log.warn(missing('alerts.discord is configured but Discord alerts are off', dc.webhookSecret));
    }
    const em = config.alerts.email;
    if (em) {
      // Without a user the SMTP server takes mail unauthenticated (a local relay): there is no password to read.
      const password = em.user !== undefined ? await secret(em.passwordSecret) : undefined;
      if (em.user !== undefined && password === undefined) {
        log.warn(missing('alerts.email is configured but email alerts are off', em.passwordSecret));
      } else {
        channels.push(
          new EmailChannel({
            host: em.host,
            port: em.port,
            secure: em.secure,
            ...(em.user !== undefined ? { user: em.user, password } : {}),
            from: em.from,
            to: em.to,
            minSeverity: em.minSeverity,
          }),
        );
      }
    }
    const router = new AlertRouter({
      channels,
      ratePerMinute: config.alerts.ratePerMinute,
      dedupSeconds: config.alerts.dedupSeconds,
      onError: (channel, err) => log.warn({ err, channel }, 'alert delivery failed'),
    });
    // Pending deliveries (the kill switch alert of a shutdown) get a bounded chance; then the transports close.
    cleanups.push(() => Promise.race([router.close(), sleep(5_000)]));
    const offAlerts = subscribeAlerts(bus, (a) => {
      log.warn({ alert: a }, `alert: ${a.title}`);
      void router.notify(a);
    });
    cleanups.push(() => offAlerts());

    const venues = await buildVenues(config, profile, async (name) => secret(name));
    cleanups.push(async () => {
      for (const v of venues.values()) await v.close().catch(() => undefined);
    });

    // Clock drift per venue (OPS-6): new orders blocked while the venue's clock disagrees with ours.
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
      cleanups.push(() => g.stop());
    }

    const entries = new EntriesSwitch();
    const runTag = newRunId();
    const mode = profile === 'live' ? 'live' : 'paper';
    const killState = await store.kv.get<{ event?: string }>('killswitch.state');
    const killed = killState?.event === 'killswitch.triggered.v1' || killState?.event === 'killswitch.completed.v1';
    const configHash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
    const startedAt = Date.now();
    const deployments: DeploymentRuntime[] = [];
    const onShutdown: (() => void)[] = [];

    for (const [k, d] of config.deployments.entries()) {
      const built = venues.get(d.venue) as BuiltVenue;
      const def = getStrategy(d.strategy);
      const params = resolveParams(def, d.params);
      const timeframe = parseTimeframe(d.timeframe);
      const all = await built.resilient.fetchInstruments();
      const instruments: Instrument[] = d.symbols.map((sym) => {
        const inst = all.find((x) => x.symbol === sym);
        if (!inst) throw new ConfigError(`deployments.${k}.symbols`, `venue ${d.venue} has no symbol ${sym}`);
        return inst;
      });
      const columns = d.symbols.map(() => new LiveColumns(LIVE_CAPACITY));
      const feeds = d.symbols.map((sym, i) => new SymbolFeed(sym, columns[i], timeframe));
      const gate = new WarmupGate(def.create(params));
      const guard = guards.get(d.venue) as ClockDriftGuard;
      const risk = createRiskEngine(config.risk, {
        useDefaults: true,
        mode,
        bus,
        strategyOverrides: {
          [d.id]: { ...(d.risk ?? {}), ...(d.capitalCap !== undefined ? { capitalCap: d.capitalCap } : {}) },
        },
        extraRules: [staleDataRule, clockDriftRule(guard), entries],
      });
      let bridgeRef: LiveVenueBridge | undefined;
      const journal = new StoreJournal(
        store,
        d.id,
        (o) => (bridgeRef ? bridgeRef.clientOrderIdOf(o) : o.clientOrderId),
        (err) => log.error({ err, deploymentId: d.id }, 'journal write failed'),
      );
      const engine = new Engine({
        mode,
        strategy: gate,
        strategyId: d.id,
        params,
        feeds,
        timeframe,
        instruments,
        venue: {
          // Filled in below: the engine attaches its venue at construction, the bridge needs the engine's id scheme.
          id: built.id,
          attach: (l) => bridgeRef?.attach(l),
          submit: (o) => bridgeRef?.submit(o),
          cancel: (o, r) => bridgeRef?.cancel(o, r),
        },
        clock: new RealClock(),
        bus,
        risk,
        cash: d.capitalCap ?? 10_000,
        stake: { kind: 'percent', value: LIVE_STAKE_PERCENT },
        feeRate: 0.001,
        atrFactory: () => new Atr(14),
        log: (level, message) => logs.child('strategy', { deploymentId: d.id })[level](message),
      });
      const replay = await replayFills(store, engine);
      let stops: ProtectiveStops | null = null;
      const bridge = new LiveVenueBridge({
        venue: built.resilient,
        journal,
        clientIdPrefix: clientOrderIdPrefix(d.id, runTag),
        instruments,
        onProtectionNeeded: (symbol) => stops?.sync(symbol),
        strategyId: d.id,
        seenFillKeys: replay.fillKeys,
        notify: (n) =>
          bus.publish({
            name: 'alert.raised.v1',
            time: Date.now(),
            correlationId: n.clientOrderId ?? `bridge:${d.id}`,
            source: `venue:${built.id}`,
            payload: {
              severity: n.severity,
              title: n.title,
              message: n.message,
              key: `bridge.${n.title}.${n.clientOrderId ?? ''}`,
            },
          }),
        onPlaced: (_o, ms) => metrics.observeOrderLatency(ms, 'venue_rtt'),
        onFillApplied: (order: Order) => {
          journal.saveStrategyState(d.id, gate.getState(), Date.now());
          stops?.sync(order.symbol);
        },
      });
      bridgeRef = bridge;
      cleanups.push(() => bridge.close());
      // The engine attached its listener to the placeholder before the bridge existed: attach it now.
      bridge.attach(engine.exec);
      journal.attach(bus, d.id);
      if (d.stopLoss !== undefined) {
        if (built.venue.capabilities.stopOrders) stops = new ProtectiveStops(engine, bridge, d.stopLoss);
        else log.warn({ deploymentId: d.id }, 'venue has no stop orders: stopLoss is not kept on the venue');
      }
      const saved = await store.strategyState.load(d.id, d.id);
      if (saved !== undefined) gate.restore(saved.state);
      if (killed) engine.halt('KILL_SWITCH');
      engine.start();
      const feed = new LiveFeed({
        engine,
        venue: built.venue,
        columns,
        timeframe,
        bus,
        ...(config.runtime.barSeconds !== undefined ? { barMs: config.runtime.barSeconds * 1000 } : {}),
        staleAfterMs: config.runtime.staleAfterSeconds * 1000,
        reconnectBaseMs: 250,
        onBarClosed: opts.printBars && print ? (s, row, live) => live && print(barLine(engine, s, row)) : undefined,
        onError: (err, symbol) => log.warn({ err, symbol, deploymentId: d.id }, 'market data stream error'),
      });
      cleanups.push(() => feed.close());
      await feed.warmUp(
        (sym, tf, since, limit) => built.resilient.fetchCandles(sym, tf, since, limit),
        config.runtime.warmupBars,
      );
      bridge.start();
      const rec = await reconcileDeployment({
        store,
        journal,
        deploymentId: d.id,
        symbols: d.symbols,
        venue: built.resilient,
        bridge,
        bus,
        unknownOrders: config.reconcile.unknownOrders,
      });
      gate.warming = false;
      feed.start();
      if (stops) for (const sym of d.symbols) stops.sync(sym);
      await store.deployments.upsert({
        id: d.id,
        strategyId: d.strategy,
        venue: d.venue,
        mode,
        symbols: d.symbols,
        config: d,
        configHash,
        appVersion: APP_VERSION,
        status: 'running',
        createdAt: startedAt,
        updatedAt: startedAt,
      });
      deployments.push({
        id: d.id,
        strategy: d.strategy,
        venue: built,
        symbols: d.symbols,
        engine,
        risk,
        bridge,
        feed,
        journal,
        gate,
        stops,
        reconcile: rec,
      });
      log.info({ deploymentId: d.id, replayedFills: replay.fills, reconcile: rec }, 'deployment started');
      print?.(
        `deployment ${d.id}: ${d.strategy} on ${d.venue} ${d.symbols.join(',')} (${mode}); ${replay.fills} fills replayed; reconcile: ${rec.checked} checked, ${rec.fillsApplied} fills applied, ${rec.notPlaced} not placed, ${rec.unknownCancelled} unknown cancelled`,
      );
    }
    if (print) onShutdown.push(subscribePrinter(bus, print));

    // Heartbeat into the store every interval (OPS-2) and the watchdog that alerts when it goes missing.
    let lastBeat: { seq: number; time: number } | undefined;
    const heartbeat = new Heartbeat({
      bus,
      intervalMs: config.runtime.heartbeatSeconds * 1000,
      source: 'runtime',
      persist: async (b) => {
        lastBeat = b;
        await store.heartbeats.beat('runtime', b.seq, b.time);
      },
      onError: (err) => log.error({ err }, 'heartbeat write failed'),
    });
    heartbeat.start();
    cleanups.push(() => heartbeat.stop());
    const watchdog = new Watchdog({
      bus,
      maxAgeMs: 2 * config.runtime.heartbeatSeconds * 1000,
      checkIntervalMs: Math.max(1000, (config.runtime.heartbeatSeconds * 1000) / 4),
      lastBeat: async () => (await store.heartbeats.list()).find((h) => h.component === 'runtime')?.time,
    });
    watchdog.start();
    cleanups.push(() => watchdog.stop());

    let state: 'running' | 'stopping' = 'running';
    const killActive = () => deployments.some((d) => d.engine.haltCode === 'KILL_SWITCH');
    const queueTimer = setInterval(() => {
      let depth = 0;
      for (const d of deployments) depth += d.bridge.queueDepth + d.journal.depth;
      metrics.setQueueDepth('orders', depth);
    }, 1000);
    queueTimer.unref();

    const statusNow = async (): Promise<RuntimeStatus> => {
      const positions: RuntimeStatus['positions'] = [];
      const openOrders: RuntimeStatus['openOrders'] = [];
      for (const d of deployments) {
        const pf = d.engine.portfolio;
        for (let s = 0; s < d.symbols.length; s++) {
          if (pf.qty[s] !== 0) {
            positions.push({
              deployment: d.id,
              symbol: d.symbols[s],
              quantity: pf.qty[s],
              averagePrice: pf.avg[s],
              last: pf.last[s],
            });
          }
        }
        const seen = new Set<Order>();
        for (const o of [...d.engine.exec.openOrders(), ...d.bridge.trackedOpenOrders()]) {
          if (seen.has(o)) continue;
          seen.add(o);
          openOrders.push({
            deployment: d.id,
            id: o.id,
            clientOrderId: d.bridge.clientOrderIdOf(o),
            symbol: o.symbol,
            side: o.side,
            type: o.type,
            quantity: o.quantity,
            ...(o.price !== undefined ? { price: o.price } : {}),
            ...(o.stopPrice !== undefined ? { stopPrice: o.stopPrice } : {}),
            status: o.status,
            ...(o.tag !== undefined ? { tag: o.tag } : {}),
          });
        }
      }
      const recent = (await store.fills.list({ limit: 100_000 })).slice(-20);
      return {
        source: 'runtime',
        pid: process.pid,
        profile,
        state: state === 'stopping' ? 'stopping' : killActive() ? 'halted' : 'running',
        startedAt,
        url: server.url,
        entriesEnabled: entries.enabled,
        killSwitchActive: killActive(),
        heartbeat: { lastAt: lastBeat?.time ?? null, seq: lastBeat?.seq ?? null },
        deployments: deployments.map((d) => {
          const pf = d.engine.portfolio;
          let unreal = 0;
          for (let s = 0; s < d.symbols.length; s++) unreal += pf.unrealizedPnl(d.symbols[s]);
          return {
            id: d.id,
            strategy: d.strategy,
            venue: d.venue.id,
            mode: d.engine.mode,
            symbols: d.symbols,
            equity: pf.equity(),
            cash: pf.cash,
            realizedPnl: pf.realizedPnl,
            unrealizedPnl: unreal,
            closedTrades: pf.trades.length,
            liveBars: d.feed.liveBars,
            stale: [...d.feed.stale],
            protectiveStops: d.stops?.placed ?? 0,
          };
        }),
        positions,
        openOrders,
        recentFills: recent.map((f) => ({
          id: f.id,
          orderId: f.orderId,
          symbol: f.symbol,
          side: f.side,
          price: f.price,
          quantity: f.quantity,
          fee: f.fee,
          time: f.time,
        })),
        breakers: deployments.map((d) => ({ deployment: d.id, active: d.risk.status() })),
        risk: deployments.map((d) => ({ deployment: d.id, ...d.risk.stats() })),
      };
    };

    const control = buildControl({
      deployments,
      entries,
      profile,
      bus,
      store,
      statusNow,
      lastBeat: () => lastBeat?.time,
    });
    boundControl = control;

    // Telegram control (OPS-4): the same ControlApi, for the configured chat ids only.
    if (telegramBot) {
      const bot = telegramBot;
      await bot.start().catch((err: unknown) => log.error({ err }, 'telegram control could not start'));
      cleanups.push(() => bot.stop());
    }

    const app = buildOpsServer({
      metrics,
      health: {
        snapshot: () => {
          const stale = deployments.flatMap((d) => [...d.feed.stale]);
          const drift = [...guards.values()].find((g) => !g.allowsTrading());
          let open = 0;
          const syms: string[] = [];
          for (const d of deployments) {
            for (let s = 0; s < d.symbols.length; s++) {
              if (d.engine.portfolio.qty[s] !== 0) {
                open++;
                syms.push(d.symbols[s]);
              }
            }
          }
          return {
            killSwitchActive: killActive(),
            breakers: deployments.flatMap((d) =>
              d.risk
                .status()
                .map((t) => ({ name: t.breaker, tripped: true, ...(t.detail ? { detail: t.detail } : {}) })),
            ),
            positions: { open, symbols: syms },
            ...(lastBeat ? { lastHeartbeatAt: lastBeat.time } : {}),
            halted: state === 'stopping',
            entriesEnabled: entries.enabled,
            staleSymbols: stale,
            clockDrift: drift
              ? {
                  allowed: false,
                  ...(drift.lastDriftMs !== undefined ? { driftMs: drift.lastDriftMs } : {}),
                  ...(drift.blockReason ? { reason: drift.blockReason } : {}),
                }
              : { allowed: true },
            profile,
            version: APP_VERSION,
            configHash,
          };
        },
      },
    });
    cleanups.push(() => app.close());
    // Loopback only until the API issue adds authentication.
    const loopback = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
    const local =
      <T>(fn: () => Promise<T>) =>
      async (req: { ip: string }, reply: { code(n: number): { send(b: unknown): unknown } }) =>
        loopback.has(req.ip)
          ? fn()
          : reply.code(403).send({ error: 'forbidden', message: 'the control API is loopback only' });
    app.get('/api/status', local(statusNow));
    app.post(
      '/api/kill',
      local(() => control.kill('api:local')),
    );
    app.post(
      '/api/recover',
      local(() => control.recover('api:local')),
    );
    app.post(
      '/api/stop-entries',
      local(() => control.stopEntries('api:local')),
    );
    app.post(
      '/api/start-entries',
      local(() => control.startEntries('api:local')),
    );

    const server = await listen(app, config.server.host, config.server.port);
    if (opts.runFile !== false) {
      writeRunFile(home, {
        pid: process.pid,
        url: server.url,
        startedAt,
        profile,
        configFile: opts.configFile ?? null,
      });
    }
    await audit(store, {
      action: 'runtime.started',
      subject: 'runtime',
      details: { profile, deployments: deployments.map((d) => d.id), configHash },
      time: startedAt,
    });
    log.info({ url: server.url, profile }, 'runtime started');

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
        heartbeat.stop();
        watchdog.stop();
        for (const d of deployments) d.feed.close();
        // In-flight placements finish (they were written ahead); nothing new is sent after this.
        await Promise.race([Promise.all(deployments.map((d) => d.bridge.drain())), sleep(10_000)]);
        // Orders that filled while their fills were still on the way: book them now so the store is current.
        await Promise.race([
          Promise.all(
            deployments.map((d) =>
              d.bridge.syncOpenOrders().catch((err) => log.warn({ err }, 'final order sync failed')),
            ),
          ),
          sleep(10_000),
        ]);
        for (const d of deployments) {
          d.bridge.close();
          d.journal.saveStrategyState(d.id, d.gate.getState(), Date.now());
          await d.journal.close();
          await store.deployments
            .upsert({
              id: d.id,
              strategyId: d.strategy,
              venue: d.venue.id,
              mode,
              symbols: d.symbols,
              config: config.deployments.find((x) => x.id === d.id),
              configHash,
              appVersion: APP_VERSION,
              status: 'stopped',
              createdAt: startedAt,
              updatedAt: Date.now(),
              stoppedAt: Date.now(),
            })
            .catch(() => undefined);
        }
        for (const f of onShutdown) f();
        await audit(store, { action: 'runtime.stopped', subject: 'runtime', details: { reason }, time: Date.now() });
        log.info({ reason }, 'runtime stopped; protective stops stay on the venue');
        if (opts.runFile !== false) rmSync(runFilePath(home), { force: true });
        await cleanup();
        resolveStopped();
      })();
      return stopping;
    };

    return {
      profile,
      bus,
      store,
      deployments,
      control,
      url: server.url,
      status: statusNow,
      stop,
      stopped,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Listens on host:port (default 127.0.0.1:8080) with a one-line error for a port in use. */
async function listen(app: FastifyInstance, host: string, port: number): Promise<{ url: string }> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new ConfigError(
        'server.port',
        `cannot listen on ${host}:${port} (${code}); set server.host/server.port or TRADEFORGE__SERVER__PORT`,
      );
    }
    throw err;
  }
  const a = app.server.address();
  const p = typeof a === 'object' && a ? a.port : port;
  const h = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { url: `http://${h}:${p}` };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function fmt(x: number, d = 2): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

function barLine(engine: Engine, s: number, row: number): string {
  const f = engine.feeds[s];
  const c = f.columns;
  const pf = engine.portfolio;
  const t = new Date(c.time[row]).toISOString().slice(11, 19);
  return `bar   ${t} ${f.symbol} close ${fmt(c.close[row])}  position ${fmt(pf.qty[s], 5)}  equity ${fmt(pf.equity())}  realised P&L ${fmt(pf.realizedPnl)} (fees ${fmt(pf.feesPaid)})`;
}

/** Prints orders, fills, trades, risk rejections and alerts as readable lines; returns the unsubscribe. */
function subscribePrinter(bus: EventBus, print: (line: string) => void): () => void {
  const t = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const offs = [
    bus.subscribe('order.submitted.v1', (e) => {
      const o = e.payload.order;
      const px = o.type === 'stop' ? ` stop ${o.stopPrice}` : o.price !== undefined ? ` @ ${o.price}` : '';
      print(
        `order ${t(e.time)} ${o.strategyId} ${o.side.toUpperCase()} ${o.quantity} ${o.symbol} ${o.type}${px}${o.tag ? ` [${o.tag}]` : ''}`,
      );
    }),
    bus.subscribe('order.rejected.v1', (e) =>
      print(`order ${t(e.time)} REJECTED ${e.payload.order.symbol}: ${e.payload.order.reason ?? ''}`),
    ),
    bus.subscribe('fill.executed.v1', (e) => {
      const f = e.payload.fill;
      print(
        `fill  ${t(e.time)} ${f.strategyId} ${f.side.toUpperCase()} ${f.quantity} ${f.symbol} @ ${fmt(f.price)} fee ${fmt(f.fee, 4)}`,
      );
    }),
    bus.subscribe('trade.closed.v1', (e) => {
      const tr = e.payload.trade;
      print(
        `trade ${t(e.time)} ${tr.strategyId} ${tr.symbol} ${tr.side} closed: P&L ${fmt(tr.pnl)} (${fmt(tr.pnlPct * 100)}%) ${tr.exitReason}`,
      );
    }),
    bus.subscribe('risk.rejected.v1', (e) =>
      print(`risk  ${t(e.time)} ${e.payload.intent.symbol} blocked: ${e.payload.code} ${e.payload.detail}`),
    ),
    bus.subscribe('alert.raised.v1', (e) =>
      print(`alert ${t(e.time)} [${e.payload.severity}] ${e.payload.title}: ${e.payload.message}`),
    ),
    bus.subscribe('killswitch.triggered.v1', (e) =>
      print(`KILL  ${t(e.time)} kill switch by ${e.payload.actor}: ${e.payload.reason}`),
    ),
  ];
  return () => {
    for (const o of offs) o();
  };
}

interface ControlDeps {
  deployments: DeploymentRuntime[];
  entries: EntriesSwitch;
  profile: Profile;
  bus: EventBus;
  store: Store;
  statusNow: () => Promise<RuntimeStatus>;
  lastBeat: () => number | undefined;
}

/** A ControlApi that forwards to one bound later (the Telegram bot is built before the runtime's control API). */
function lateBoundControl(get: () => ControlApi | undefined): ControlApi {
  const c = (): ControlApi => {
    const api = get();
    if (!api) throw new Error('the runtime is still starting');
    return api;
  };
  return {
    status: () => c().status(),
    profit: () => c().profit(),
    balance: () => c().balance(),
    positions: () => c().positions(),
    stopEntries: (actor) => c().stopEntries(actor),
    startEntries: (actor) => c().startEntries(actor),
    forceExit: (target, actor) => c().forceExit(target, actor),
    kill: (actor) => c().kill(actor),
    recover: (actor) => c().recover(actor),
  };
}

/** The ControlApi of the runtime: what Telegram, the HTTP API and the CLI all call. */
function buildControl(c: ControlDeps): ControlApi {
  const record = (action: string, actor: string, details: unknown) =>
    audit(c.store, { action: `control.${action}`, subject: 'runtime', details, time: Date.now(), actor });
  const ok = (message: string, detail?: ControlResult['detail']): ControlResult => ({
    ok: true,
    message,
    ...(detail ? { detail } : {}),
  });
  return {
    async status(): Promise<ControlStatus> {
      const s = await c.statusNow();
      return {
        state: s.killSwitchActive ? 'halted' : s.state === 'stopping' ? 'stopped' : 'running',
        profile: c.profile,
        entriesEnabled: s.entriesEnabled,
        killSwitchActive: s.killSwitchActive,
        deployments: c.deployments.map((d) => ({
          id: d.id,
          strategy: d.strategy,
          symbols: d.symbols,
          venue: d.venue.id,
          state: d.engine.haltCode ?? 'running',
        })),
        openOrders: s.openOrders.length,
        openPositions: s.positions.length,
        ...(c.lastBeat() !== undefined ? { lastHeartbeat: c.lastBeat() } : {}),
        breakersTripped: c.deployments.flatMap((d) => d.risk.status().map((t) => t.breaker)),
      };
    },
    async profit(): Promise<ControlProfit> {
      let realised = 0;
      let unrealised = 0;
      const pnls: number[] = [];
      for (const d of c.deployments) {
        const pf = d.engine.portfolio;
        realised += pf.realizedPnl;
        for (const sym of d.symbols) unrealised += pf.unrealizedPnl(sym);
        for (const t of pf.trades) pnls.push(t.pnl);
      }
      return {
        currency: 'USDT',
        realisedPnl: realised,
        unrealisedPnl: unrealised,
        closedTrades: pnls.length,
        winningTrades: pnls.filter((p) => p > 0).length,
        ...(pnls.length ? { bestTrade: Math.max(...pnls), worstTrade: Math.min(...pnls) } : {}),
      };
    },
    async balance(): Promise<ControlBalance> {
      let equity = 0;
      const assets: ControlBalance['assets'] = [];
      for (const d of c.deployments) equity += d.engine.portfolio.equity();
      const seen = new Set<string>();
      for (const d of c.deployments) {
        if (seen.has(d.venue.id)) continue;
        seen.add(d.venue.id);
        for (const b of await d.venue.resilient.fetchBalances()) if (b.total > 0) assets.push(b);
      }
      return { currency: 'USDT', equity, assets };
    },
    async positions(): Promise<ControlPosition[]> {
      const out: ControlPosition[] = [];
      for (const d of c.deployments) {
        const pf = d.engine.portfolio;
        for (let s = 0; s < d.symbols.length; s++) {
          const q = pf.qty[s];
          if (q === 0) continue;
          out.push({
            id: `${d.id}:${d.symbols[s]}`,
            symbol: d.symbols[s],
            side: q > 0 ? 'long' : 'short',
            quantity: Math.abs(q),
            entryPrice: pf.avg[s],
            markPrice: pf.last[s],
            unrealisedPnl: pf.unrealizedPnl(d.symbols[s]),
            strategyId: d.id,
          });
        }
      }
      return out;
    },
    async stopEntries(actor) {
      c.entries.enabled = false;
      await record('stop_entries', actor, {});
      return ok('new entries stopped; exits and protective stops keep working');
    },
    async startEntries(actor) {
      c.entries.enabled = true;
      await record('start_entries', actor, {});
      return ok('new entries allowed');
    },
    async forceExit(target, actor) {
      let n = 0;
      for (const d of c.deployments) {
        for (let s = 0; s < d.symbols.length; s++) {
          const id = `${d.id}:${d.symbols[s]}`;
          if (target !== 'all' && target !== id) continue;
          if (d.engine.portfolio.qty[s] === 0) continue;
          d.engine.flattenAll('force_exit', d.symbols[s]);
          n++;
        }
      }
      await record('force_exit', actor, { target, positions: n });
      return n > 0
        ? ok(`closing ${n} position(s)`, { closing: n })
        : { ok: false, message: `no open position ${target}` };
    },
    async kill(actor) {
      let cancelled = 0;
      let closing = 0;
      for (const d of c.deployments) {
        const r = d.engine.killSwitch(actor, 'kill switch');
        cancelled += r.cancelled;
        closing += r.closing;
        // Orders of an earlier run are tracked by the bridge, not the execution engine.
        for (const o of d.bridge.trackedOpenOrders()) {
          if (d.engine.exec.getOrder(o.id) !== o) {
            d.bridge.cancelAdopted(o, 'KILL_SWITCH');
            cancelled++;
          }
        }
      }
      await record('kill', actor, { cancelled, closing });
      return ok(`kill switch engaged: ${cancelled} order(s) cancelled, ${closing} position(s) closing`, {
        cancelled,
        closing,
      });
    },
    async recover(actor) {
      let n = 0;
      for (const d of c.deployments) {
        if (d.engine.haltCode !== null) {
          d.engine.recover(actor);
          n++;
        }
      }
      await record('recover', actor, { deployments: n });
      return n > 0
        ? ok('kill switch released; trading resumes')
        : { ok: false, message: 'the kill switch is not engaged' };
    },
  };
}
