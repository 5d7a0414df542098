import { performance } from 'node:perf_hooks';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { tsxWorkerSource } from '../../backtest/optimizer/pool.js';
import type { Tick } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import type { Fill } from '../../core/fill.js';
import type { Order } from '../../core/order.js';
import type { ParamValues, Strategy, StrategyContext, StrategyDefinition } from '../../strategy/types.js';
import {
  DEFAULT_SANDBOX_LIMITS,
  type SandboxLimits,
  type SandboxStopCause,
  type SandboxStopReport,
  SandboxStoppedError,
} from './limits.js';
import {
  BRIDGE,
  type BridgeReply,
  CALL,
  DONE,
  REPLY,
  type SandboxCall,
  type SandboxWorkerData,
  STARTING,
  type WireError,
  type WorkerPost,
} from './protocol.js';
import { bridge } from './realm.js';
import { sdkBundleSource } from './sdk-bundle.js';
import { threadCpuMs } from './thread-cpu.js';

/** How long the host waits for a new worker to load its modules (not the strategy's time: no user code runs yet). */
const START_TIMEOUT_MS = 120_000;
/**
 * A call that uses no CPU but never answers (Atomics.wait, a deadlock) is stopped after this many budgets of
 * wall time; one that computes is stopped on its CPU time, so a loaded machine does not stop a healthy strategy.
 */
const WALL_BUDGETS = 10;

type BridgeFn = (...args: unknown[]) => unknown;

/** Where a call happens, for the stop report. */
interface CallSite {
  readonly callback: string;
  readonly barIndex?: number;
  readonly barTime?: number;
}

function fromWire(e: WireError): Error {
  return e.name === 'ValidationError' ? new ValidationError(e.message, e.field) : new Error(e.message);
}

/**
 * One sandbox worker holding one strategy file, driven synchronously: `call` posts a call and blocks the host
 * thread until the worker answers, serving the worker's bridge requests (context reads, orders) meanwhile. The
 * time the worker computes (host work excluded) is held against the budget; past it, or once the worker is gone
 * (heap cap), the worker is terminated and a SandboxStoppedError names the strategy, callback and bar.
 */
export class SandboxWorker {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly state: Int32Array;
  private stopped: SandboxStopReport | undefined;
  private closing = false;
  /** The worker thread's kernel id, when /proc tells its CPU time (else budgets are wall time). */
  private readonly tid: number | undefined;
  private exitCause: SandboxStopCause | undefined;
  /** Resolves once the worker thread has ended, with the reason it ended. */
  readonly exited: Promise<SandboxStopCause | 'closed'>;
  private readonly bridges = new Map<number, { ctx: StrategyContext; fns: Record<string, BridgeFn> }>();
  strategyName = '?';

  constructor(
    readonly file: string,
    readonly limits: SandboxLimits,
  ) {
    const shared = new SharedArrayBuffer(4);
    this.state = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: SandboxWorkerData = { state: shared, port: port2, sdkBundle: sdkBundleSource() };
    this.worker = new Worker(tsxWorkerSource(new URL('./worker-main.ts', import.meta.url)), {
      eval: true,
      workerData,
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    this.exited = new Promise((resolve) => {
      this.worker.on('error', (err: Error & { code?: string }) => {
        this.exitCause = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory-cap' : 'worker-exit';
      });
      this.worker.on('exit', () => {
        this.exitCause ??= this.stopped?.cause ?? 'worker-exit';
        resolve(this.stopped === undefined && this.closing ? 'closed' : this.exitCause);
      });
    });
    this.awaitWall(START_TIMEOUT_MS, STARTING, { callback: 'start' });
    const ready = this.take();
    const tid = ready.kind === 'done' ? (ready.value as { tid: number | null }).tid : null;
    this.tid = tid !== null && threadCpuMs(tid) !== undefined ? tid : undefined;
  }

  /** Why the worker is gone, once its exit has been seen (the heap cap shows here, not in the stop report). */
  get endedBy(): SandboxStopCause | undefined {
    return this.exitCause;
  }

  /** The report of the stop, when the sandbox stopped this strategy. */
  get stopReport(): SandboxStopReport | undefined {
    return this.stopped;
  }

  private take(): WorkerPost {
    const m = receiveMessageOnPort(this.port);
    if (m === undefined) throw new Error(`${this.file}: sandbox protocol: the worker posted nothing`);
    return m.message as WorkerPost;
  }

  private stop(cause: SandboxStopCause, site: CallSite): never {
    this.stopped ??= {
      strategy: this.strategyName,
      file: this.file,
      callback: site.callback,
      cause,
      barIndex: site.barIndex,
      barTime: site.barTime,
      limits: this.limits,
    };
    // A worker that ended by itself (the heap cap) reports why through its 'error' event: let that arrive.
    if (cause !== 'worker-exit') void this.worker.terminate();
    throw new SandboxStoppedError(this.stopped);
  }

  /** Blocks while the state word is `expected`, for at most `ms` of wall time (start-up: no user code runs). */
  private awaitWall(ms: number, expected: number, site: CallSite): void {
    const t0 = performance.now();
    while (Atomics.load(this.state, 0) === expected) {
      const left = ms - (performance.now() - t0);
      if (left <= 0) this.stop('worker-exit', site);
      Atomics.wait(this.state, 0, expected, left);
    }
  }

  /**
   * Blocks while the state word is `expected` (the worker computes) and returns the worker CPU milliseconds
   * charged to the call. The thread's CPU time is read only once a quarter budget of wall time has passed, so a
   * quick call costs no /proc read; the CPU of that first quarter is charged as a quarter budget.
   */
  private awaitWorker(budgetMs: number, expected: number, site: CallSite): number {
    const slice = Math.max(1, budgetMs / 4);
    const t0 = performance.now();
    let cpu0: number | undefined;
    for (;;) {
      if (Atomics.load(this.state, 0) !== expected) {
        const wall = performance.now() - t0;
        if (cpu0 === undefined) return wall;
        const cpu = this.tid === undefined ? undefined : threadCpuMs(this.tid);
        return cpu === undefined ? wall : slice + Math.max(0, cpu - cpu0);
      }
      const wall = performance.now() - t0;
      if (wall >= slice) {
        const cpu = this.tid === undefined ? undefined : threadCpuMs(this.tid);
        // The thread is gone without answering: V8 ended it at the heap cap (or it crashed).
        if (cpu === undefined && this.tid !== undefined) this.stop('worker-exit', site);
        if (cpu === undefined) {
          if (wall >= budgetMs) this.stop('cpu-budget', site);
        } else {
          cpu0 ??= cpu;
          if (slice + (cpu - cpu0) >= budgetMs || wall >= budgetMs * WALL_BUDGETS) this.stop('cpu-budget', site);
        }
      }
      Atomics.wait(this.state, 0, expected, slice);
    }
  }

  /** Makes a call into the worker and returns its value; `ctx` answers the bridge requests of instance `id`. */
  call(msg: SandboxCall, site: CallSite, budgetMs = this.limits.callbackMs): unknown {
    if (this.stopped !== undefined) throw new SandboxStoppedError(this.stopped);
    if (this.exitCause !== undefined) this.stop(this.exitCause, site);
    this.port.postMessage(msg);
    Atomics.store(this.state, 0, CALL);
    Atomics.notify(this.state, 0);
    let spent = 0;
    let expected = CALL;
    for (;;) {
      spent += this.awaitWorker(budgetMs - spent, expected, site);
      const s = Atomics.load(this.state, 0);
      // A call that finished is taken even if it finished late; one still running past its budget is stopped.
      if (s !== DONE && spent >= budgetMs) this.stop('cpu-budget', site);
      const post = this.take();
      if (s === BRIDGE && post.kind === 'bridge') {
        this.port.postMessage(this.answer(post.id, post.name, post.args));
        expected = REPLY;
        Atomics.store(this.state, 0, REPLY);
        Atomics.notify(this.state, 0);
        continue;
      }
      if (s !== DONE) throw new Error(`${this.file}: sandbox protocol: unexpected state ${s}`);
      if (post.kind === 'error') throw fromWire(post.error);
      if (post.kind === 'done') return post.value;
    }
  }

  /** Sets the host context that answers instance `id`'s bridge requests. */
  bind(id: number, ctx: StrategyContext): void {
    const b = this.bridges.get(id);
    if (b === undefined || b.ctx !== ctx) {
      this.bridges.set(id, { ctx, fns: bridge(ctx) as Record<string, BridgeFn> });
    }
  }

  private answer(id: number, name: string, args: unknown[]): BridgeReply {
    const fns = this.bridges.get(id)?.fns;
    const f = fns?.[name];
    if (f === undefined) return { e: `no host function ${name}` };
    try {
      return { v: f(...args) };
    } catch (err) {
      return { e: typeof err === 'string' ? err : err instanceof Error ? err.message : String(err) };
    }
  }

  /** Ends the worker (a deployment that stops, a finished backtest). */
  close(): Promise<unknown> {
    this.closing = true;
    return this.worker.terminate();
  }
}

/** A strategy living in a sandbox worker; each engine callback is one synchronous, budgeted call. */
class WorkerStrategy implements Strategy {
  constructor(
    private readonly sandbox: SandboxWorker,
    private readonly id: number,
  ) {}

  private hook(hook: string, ctx: StrategyContext, arg?: unknown): void {
    this.sandbox.bind(this.id, ctx);
    const bar = ctx.bar as { index?: number; time?: number } | undefined;
    this.sandbox.call(
      { op: 'hook', id: this.id, hook, ...(arg === undefined ? {} : { arg }) },
      { callback: hook, barIndex: bar?.index, barTime: ctx.time },
    );
  }

  onStart(ctx: StrategyContext): void {
    this.hook('onStart', ctx);
  }
  onBar(ctx: StrategyContext): void {
    this.hook('onBar', ctx);
  }
  onTick(ctx: StrategyContext, tick: Tick): void {
    this.hook('onTick', ctx, tick);
  }
  onOrderUpdate(ctx: StrategyContext, order: Readonly<Order>): void {
    this.hook('onOrderUpdate', ctx, { ...order });
  }
  onFill(ctx: StrategyContext, fill: Readonly<Fill>): void {
    this.hook('onFill', ctx, { ...fill });
  }
  onStop(ctx: StrategyContext): void {
    this.hook('onStop', ctx);
  }
  getState(): unknown {
    // A stopped strategy has no state to save: its deployment is halted and the stop report says why.
    if (this.sandbox.stopReport !== undefined) return undefined;
    return this.sandbox.call({ op: 'getState', id: this.id }, { callback: 'getState' });
  }
  restore(state: unknown): void {
    this.sandbox.call({ op: 'restore', id: this.id, state }, { callback: 'restore' });
  }
}

/** A strategy definition whose code runs in a sandbox worker; `sandbox` is that worker (its stop report, close). */
export type IsolatedStrategyDefinition = StrategyDefinition & { readonly sandbox: SandboxWorker };

/**
 * Loads transpiled (CommonJS) strategy code into a new sandbox worker: the strategy's own thread with a heap cap,
 * its own V8 context inside it (realm.ts), and a CPU budget per callback. A strategy that overruns is stopped
 * with a SandboxStoppedError (the engine stops that strategy and alerts; the host and other strategies go on).
 */
export function loadIsolatedStrategy(
  js: string,
  file: string,
  limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS,
): IsolatedStrategyDefinition {
  const sandbox = new SandboxWorker(file, limits);
  let meta: Pick<StrategyDefinition, 'name' | 'description' | 'params' | 'requires'>;
  try {
    meta = sandbox.call({ op: 'load', js, file }, { callback: 'load' }, limits.loadMs) as typeof meta;
  } catch (err) {
    void sandbox.close();
    if (err instanceof SandboxStoppedError) {
      throw new ValidationError(`${err.message} (while loading the file)`, 'strategy');
    }
    throw err;
  }
  sandbox.strategyName = meta.name;
  return {
    name: meta.name,
    description: meta.description,
    params: meta.params,
    ...(meta.requires ? { requires: meta.requires } : {}),
    validate: (p: ParamValues) => void sandbox.call({ op: 'validate', params: { ...p } }, { callback: 'validate' }),
    create: (p: ParamValues) =>
      new WorkerStrategy(sandbox, sandbox.call({ op: 'create', params: { ...p } }, { callback: 'create' }) as number),
    sandbox,
  };
}
