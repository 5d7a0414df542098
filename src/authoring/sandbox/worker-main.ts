/**
 * A sandbox worker: loads one strategy file's transpiled code into its own V8 context (realm.ts) inside this
 * thread, then serves the host's calls one at a time, synchronously. Every context read or order a strategy makes
 * is a bridge request back to the host. The thread runs under `resourceLimits` (the heap cap) and the host
 * terminates it when a call overruns its budget.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ValidationError } from '../../core/errors.js';
import type { ParamValues, Strategy, StrategyContext, StrategyDefinition } from '../../strategy/types.js';
import {
  BRIDGE,
  type BridgeReply,
  CALL,
  DONE,
  IDLE,
  REPLY,
  type SandboxCall,
  type SandboxWorkerData,
  type WorkerPost,
} from './protocol.js';
import { BRIDGE_FUNCTIONS, loadSandboxedStrategy } from './realm.js';
import { adoptSdkBundle } from './sdk-bundle.js';
import { currentThreadId } from './thread-cpu.js';

const data = workerData as SandboxWorkerData;
const state = new Int32Array(data.state);
const port = data.port;
adoptSdkBundle(data.sdkBundle);

function post(message: WorkerPost, next: number): void {
  port.postMessage(message);
  Atomics.store(state, 0, next);
  Atomics.notify(state, 0);
}

function take(): unknown {
  const m = receiveMessageOnPort(port);
  if (m === undefined) throw new Error('sandbox protocol: no message on the port');
  return m.message;
}

/**
 * A bridge request to the host; blocks this thread until the host answers. The host may call back in before it
 * answers (an order that fills at once delivers onOrderUpdate/onFill while ctx.buy() is still running): such a
 * nested call is served here, then the wait for the answer goes on.
 */
function request(id: number, name: string, args: unknown[]): unknown {
  post({ kind: 'bridge', id, name, args }, BRIDGE);
  for (let s = Atomics.load(state, 0); s !== REPLY; s = Atomics.load(state, 0)) {
    if (s === CALL) answerCall();
    else Atomics.wait(state, 0, s);
  }
  const reply = take() as BridgeReply;
  if ('e' in reply) throw reply.e;
  return reply.v;
}

// The "context" the realm sees in this thread is a token naming the instance; its bridge forwards to the host.
interface Token {
  readonly id: number;
}
const remoteBridge = (ctx: StrategyContext): object => {
  const id = (ctx as unknown as Token).id;
  const b: Record<string, (...args: unknown[]) => unknown> = {};
  for (const name of BRIDGE_FUNCTIONS) b[name] = (...args: unknown[]) => request(id, name, args);
  return b;
};

let def: StrategyDefinition | undefined;
const instances: { strategy: Strategy; token: StrategyContext }[] = [];

function loaded(): StrategyDefinition {
  if (def === undefined) throw new Error('sandbox protocol: no strategy loaded');
  return def;
}

function serve(call: SandboxCall): unknown {
  switch (call.op) {
    case 'load': {
      def = loadSandboxedStrategy(call.js, call.file, remoteBridge);
      return { name: def.name, description: def.description, params: def.params, requires: def.requires };
    }
    case 'validate':
      loaded().validate?.(call.params as ParamValues);
      return null;
    case 'create': {
      const id = instances.length;
      instances.push({
        strategy: loaded().create(call.params as ParamValues),
        token: { id } as unknown as StrategyContext,
      });
      return id;
    }
    case 'hook': {
      const { strategy, token } = instances[call.id];
      const f = (strategy as unknown as Record<string, unknown>)[call.hook];
      if (typeof f === 'function') (f as (ctx: StrategyContext, arg?: unknown) => void).call(strategy, token, call.arg);
      return null;
    }
    case 'getState':
      return instances[call.id].strategy.getState?.();
    case 'restore':
      instances[call.id].strategy.restore?.(call.state);
      return null;
  }
}

/** Takes the host's call, runs it and posts its outcome. */
function answerCall(): void {
  const call = take() as SandboxCall;
  try {
    post({ kind: 'done', value: serve(call) }, DONE);
  } catch (err) {
    const e = err as { name?: unknown; message?: unknown; field?: unknown } | null;
    post(
      {
        kind: 'error',
        error: {
          name: err instanceof ValidationError ? 'ValidationError' : typeof e?.name === 'string' ? e.name : 'Error',
          message: typeof e?.message === 'string' ? e.message : String(err),
          ...(typeof e?.field === 'string' ? { field: e.field } : {}),
        },
      },
      DONE,
    );
  }
}

// The ready message carries this thread's kernel id: the host reads its CPU time from /proc while it waits.
post({ kind: 'done', value: { tid: currentThreadId() ?? null } }, IDLE);
for (;;) {
  const s = Atomics.load(state, 0);
  if (s === CALL) answerCall();
  else Atomics.wait(state, 0, s);
}
