/**
 * Starts one deployment of a runtime: its kernel (built from the deployment's run spec by the same `buildKernel`
 * as a backtest), its live feed, the venue bridge with the write-ahead journal, protective stops, replay of booked
 * fills, strategy state, warm-up and startup reconciliation.
 */
import type { Config } from '../../core/config.js';
import { ConfigError, ValidationError } from '../../core/errors.js';
import type { EventBus } from '../../core/events.js';
import type { Instrument } from '../../core/instrument.js';
import type { Order } from '../../core/order.js';
import { parseTimeframe } from '../../core/timeframe.js';
import { RealClock } from '../../engine/clock.js';
import { buildKernel } from '../../engine/kernel.js';
import { SymbolFeed } from '../../engine/market-data.js';
import { Atr } from '../../indicators/index.js';
import type { OpsLogger, OpsMetrics } from '../../ops/index.js';
import type { AccountRisk } from '../../risk/index.js';
import type { Store } from '../../store/index.js';
import { resolveParams } from '../../strategy/params.js';
import { resolveStrategyRef, strategyExits } from '../../authoring/resolve.js';
import { LiveVenueBridge } from '../../venues/live/bridge.js';
import type { QueueGuard } from './queue-guard.js';
import { tracedRiskHook } from './traced-risk.js';
import { tracingEnabled } from '../../core/tracing.js';
import { reconcileDeployment } from '../reconcile.js';
import type { BuiltVenue } from '../venues.js';
import { deploymentCash, saveMultipliers } from './book.js';
import { WarmupGate } from './gates.js';
import { replayFills, StoreJournal } from './journal.js';
import { LiveColumns, LiveFeed } from './live-feed.js';
import { LiveBarRecorder } from './bar-recorder.js';
import { barLine } from './printer.js';
import { ProtectiveStops } from './protective-stops.js';
import { StrategyOrders } from './strategy-orders.js';
import { TradeTrail } from './trade-trail.js';
import { clientOrderIdPrefix, deploymentClientIdPrefix } from '../../venues/live/client-order-id.js';
import type { DeploymentRuntime } from './runtime-types.js';

/** Rows preallocated per symbol for live bars (about half a year of 1m bars). */
const LIVE_CAPACITY = 262_144;

/** One deployment as configured (a run spec plus id, venue and capital). */
export type DeploymentConfig = Config['deployments'][number];

/** What every deployment of a runtime shares. */
export interface DeploymentDeps {
  config: Config;
  store: Store;
  bus: EventBus;
  logs: OpsLogger;
  metrics: OpsMetrics;
  /** Publishes the bridge's queues and halts on their overflow (absent: unwatched, overflow only alerted). */
  queues?: QueueGuard;
  account: AccountRisk;
  mode: 'paper' | 'live';
  /** A tag unique to this start of the runtime (client order ids). */
  runTag: string;
  /** The kill switch was engaged when the runtime last stopped. */
  killed: boolean;
  /** Registers a cleanup run at shutdown (in reverse order). */
  onCleanup: (fn: () => Promise<void> | void) => void;
  print?: (line: string) => void;
  printBars?: boolean;
  /** The runtime's audit/log trail (venue messages, client order ids, correlation ids). */
  trail?: TradeTrail;
  /** Where the bars each deployment is served are recorded for `tradeforge replay` (`<home>/data/live`). */
  liveDataDir?: string;
}

/** Builds and starts deployment `k` of the config on its venue. Throws ConfigError for a symbol the venue lacks. */
export async function startDeployment(deps: DeploymentDeps, d: DeploymentConfig, k: number, built: BuiltVenue) {
  const { store, bus, logs, metrics, account, config } = deps;
  const log = logs.child('runtime');
  // A built-in name or a strategy file (.ts/.js gated and sandboxed, .rules compiled), relative to the working folder.
  // Code we did not write runs in a sandbox worker: a CPU budget per callback and a heap cap (docs/security.md).
  // `ID@vN` names a stored version: read from the store, hash-checked, then compiled like a file of its kind.
  const def = await resolveStrategyRef(d.strategy, { versions: store.strategies, sandbox: { isolate: true } });
  const sandbox = (def as { sandbox?: { close(): Promise<unknown> } }).sandbox;
  if (sandbox !== undefined) {
    deps.onCleanup(async () => {
      await sandbox.close();
    });
  }
  const params = resolveParams(def, d.params);
  const timeframe = parseTimeframe(d.timeframe);
  const all = await built.resilient.fetchInstruments();
  const instruments: Instrument[] = d.symbols.map((sym) => {
    const inst = all.find((x) => x.symbol === sym);
    if (!inst) throw new ConfigError(`deployments.${k}.symbols`, `venue ${d.venue} has no symbol ${sym}`);
    return inst;
  });
  // Its contract multipliers, for the book `tradeforge status` rebuilds while the runtime is down (book.ts).
  await saveMultipliers(store, d.id, instruments);
  // What the venue and the capital cap decide (a grid: tick size, minimum notional, its whole possible inventory).
  try {
    def.checkVenue?.(params, { instruments, capital: deploymentCash(d) });
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new ConfigError(`deployments.${k}.params${err.field ? `.${err.field}` : ''}`, err.message);
    }
    throw err;
  }
  const columns = d.symbols.map(() => new LiveColumns(LIVE_CAPACITY));
  const feeds = d.symbols.map((sym, i) => new SymbolFeed(sym, columns[i], timeframe));
  const gate = new WarmupGate(def.create(params));
  let bridgeRef: LiveVenueBridge | undefined;
  const journal = new StoreJournal(
    store,
    d.id,
    (o) => (bridgeRef ? bridgeRef.clientOrderIdOf(o) : o.clientOrderId),
    (err) => log.error({ err, deploymentId: d.id }, 'journal write failed'),
  );
  // Exits a rules file declares apply unless the deployment sets its own.
  const declaredExits = strategyExits(def);
  const engine = buildKernel(!d.exits && declaredExits ? { ...d, exits: declaredExits } : d, {
    mode: deps.mode,
    strategy: gate,
    strategyId: d.id,
    params,
    feeds,
    timeframe,
    instruments,
    venue: {
      // The engine attaches its venue at construction; the bridge needs the engine's id scheme, so it comes after.
      id: built.id,
      attach: (l) => bridgeRef?.attach(l),
      submit: (o) => bridgeRef?.submit(o),
      cancel: (o, r) => bridgeRef?.cancel(o, r),
    },
    clock: new RealClock(),
    bus,
    risk: tracingEnabled() ? tracedRiskHook(account.hookFor(d.id)) : account.hookFor(d.id),
    cash: deploymentCash(d),
    atrFactory: () => new Atr(14),
    log: (level, message) => logs.child('strategy', { deploymentId: d.id })[level](message),
    correlationPrefix: TradeTrail.correlationPrefix(d.id, deps.runTag),
  });
  account.bindView(d.id, engine.riskView);
  const replay = await replayFills(store, engine);
  let stops: ProtectiveStops | null = null;
  const strategyOrders = new StrategyOrders({
    deploymentId: d.id,
    engine,
    strategy: gate,
    bus,
    store,
    journal,
    log,
  });
  const bridge = new LiveVenueBridge({
    venue: deps.trail ? deps.trail.venueFor(built.resilient, built.id) : built.resilient,
    journal,
    // A hash of the full deployment id and the run: unique across deployments sharing the account and restarts.
    clientIdPrefix: clientOrderIdPrefix(d.id, deps.runTag),
    ...(built.maxClientIdLength !== undefined ? { maxClientIdLength: built.maxClientIdLength } : {}),
    strategyId: d.id,
    seenFillKeys: replay.fillKeys,
    instruments,
    onProtectionNeeded: (symbol) => stops?.sync(symbol),
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
    ...(deps.queues ? { onOverflow: deps.queues.overflow } : {}),
    onFillApplied: (order: Order) => {
      journal.saveStrategyState(d.id, gate.getState(), Date.now());
      stops?.sync(order.symbol);
      strategyOrders.checkSelfStop();
    },
  });
  bridgeRef = bridge;
  deps.queues?.watch(bridge.orderQueue);
  deps.queues?.watch(bridge.reportQueue);
  deps.trail?.addDeployment(d.id, bridge);
  deps.onCleanup(() => bridge.close());
  // Before anything can be placed: a strategy keeping resting orders has its state saved on every order event, and
  // its capital was checked for its whole possible inventory (checkVenue), not order by order.
  strategyOrders.start();
  if (strategyOrders.active) account.engine.setStandingOrders(d.id);
  deps.onCleanup(() => strategyOrders.close());
  // Whoever trips the kill switch (control, a breaker), its orders take the bridge's urgent lane until released.
  const offKill = [
    bus.subscribe('killswitch.triggered.v1', () => bridge.engageKillSwitch()),
    bus.subscribe('killswitch.recovered.v1', () => bridge.releaseKillSwitch()),
  ];
  deps.onCleanup(() => {
    for (const off of offKill) off();
  });
  if (deps.killed) bridge.engageKillSwitch();
  // The engine attached its listener to the placeholder before the bridge existed: attach it now.
  bridge.attach(engine.exec);
  journal.attach(bus, d.id);
  // The run spec's stop-loss is kept on the venue as well (RISK-3), so the position stays protected in an outage.
  const stopLoss = d.exits?.stopLoss;
  let protective: ProtectiveStops | null = null;
  if (stopLoss !== undefined) {
    if (built.venue.capabilities.stopOrders) protective = new ProtectiveStops(engine, bridge, stopLoss);
    else log.warn({ deploymentId: d.id }, 'venue has no stop orders: exits.stopLoss is not kept on the venue');
  }
  const saved = await store.strategyState.load(d.id, d.id);
  if (saved !== undefined) gate.restore(saved.state);
  if (deps.killed) engine.halt('KILL_SWITCH');
  engine.start();
  // Stopped by the kill switch: a pausable strategy stays paused until the operator resumes it.
  if (deps.killed && engine.pausable && !engine.strategyPaused) engine.pauseStrategy('kill switch');
  const print = deps.print;
  const recorder =
    deps.liveDataDir !== undefined
      ? new LiveBarRecorder(deps.liveDataDir, d.id, timeframe, instruments, (err) =>
          log.warn({ err, deploymentId: d.id }, 'recording live bars failed'),
        )
      : undefined;
  const printBar = deps.printBars && print ? print : undefined;
  const feed = new LiveFeed({
    engine,
    venue: built.venue,
    columns,
    timeframe,
    bus,
    ...(config.runtime.barSeconds !== undefined ? { barMs: config.runtime.barSeconds * 1000 } : {}),
    staleAfterMs: config.runtime.staleAfterSeconds * 1000,
    reconnectBaseMs: 250,
    onBarClosed:
      recorder || printBar || strategyOrders.active
        ? (s, row, live) => {
            if (!live) return;
            strategyOrders.checkSelfStop();
            const c = columns[s];
            recorder?.record(
              d.symbols[s],
              c.time[row],
              c.open[row],
              c.high[row],
              c.low[row],
              c.close[row],
              c.volume[row],
            );
            printBar?.(barLine(engine, s, row));
          }
        : undefined,
    onError: (err, symbol) => log.warn({ err, symbol, deploymentId: d.id }, 'market data stream error'),
  });
  deps.onCleanup(() => {
    feed.close();
    recorder?.flush();
  });
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
    instruments,
    ownClientIdPrefix: deploymentClientIdPrefix(d.id),
  });
  // The strategy's own resting orders (a grid): missing ones placed again, unknown ones cancelled.
  const strategyRec = await strategyOrders.reconcile(bridge);
  gate.warming = false;
  feed.start();
  // Protection syncs only once reconciliation has found every order of ours: a fill it books (an entry whose journal
  // record was lost) would otherwise place a stop beside the venue's, which it recovers only later.
  stops = protective;
  if (stops) for (const sym of d.symbols) stops.sync(sym);
  const runtime: DeploymentRuntime = {
    id: d.id,
    strategy: d.strategy,
    venue: built,
    symbols: d.symbols,
    engine,
    risk: account.engine,
    bridge,
    feed,
    journal,
    gate,
    stops,
    reconcile: rec,
  };
  log.info(
    { deploymentId: d.id, replayedFills: replay.fills, reconcile: rec, strategyOrders: strategyRec },
    'deployment started',
  );
  print?.(
    `deployment ${d.id}: ${d.strategy} on ${d.venue} ${d.symbols.join(',')} (${deps.mode}); ${replay.fills} fills replayed; reconcile: ${rec.checked} checked, ${rec.fillsApplied} fills applied, ${rec.notPlaced} not placed, ${rec.unknownCancelled} unknown cancelled, ${rec.recovered} recovered${strategyOrders.active ? `; strategy orders: ${strategyRec.kept} kept, ${strategyRec.replaced} placed again, ${strategyRec.unknownCancelled} unknown cancelled` : ''}`,
  );
  return runtime;
}
