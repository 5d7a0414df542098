import type { MessagePort } from 'node:worker_threads';

/**
 * The synchronous call protocol between the host thread and a sandbox worker. Messages travel on a MessagePort
 * and are taken with `receiveMessageOnPort`; the state word (an Int32Array over a SharedArrayBuffer) says whose
 * turn it is, and each side blocks on it with `Atomics.wait`. The host bounds its waits by the callback's CPU
 * budget, so a strategy that never answers is found without the worker's cooperation.
 */

/** The worker is loading its modules. */
export const STARTING = 0;
/** The worker waits for a call. */
export const IDLE = 1;
/** The host posted a call. */
export const CALL = 2;
/** The worker posted a bridge request (a context read or an order) and waits for the answer. */
export const BRIDGE = 3;
/** The host answered a bridge request. */
export const REPLY = 4;
/** The worker posted the call's outcome. */
export const DONE = 5;

/** A call from the host into the worker. */
export type SandboxCall =
  | { op: 'load'; js: string; file: string }
  | { op: 'validate'; params: Record<string, unknown> }
  | { op: 'create'; params: Record<string, unknown> }
  | { op: 'hook'; id: number; hook: string; arg?: unknown }
  | { op: 'getState'; id: number }
  | { op: 'restore'; id: number; state: unknown };

/** An error crossing the thread boundary: name, message, and a ValidationError's field. */
export interface WireError {
  name: string;
  message: string;
  field?: string;
}

/** What the worker posts: a bridge request, or the outcome of the call. */
export type WorkerPost =
  | { kind: 'bridge'; id: number; name: string; args: unknown[] }
  | { kind: 'done'; value: unknown }
  | { kind: 'error'; error: WireError };

/** The host's answer to a bridge request: a value, or an error message the membrane re-throws in the sandbox. */
export type BridgeReply = { v: unknown } | { e: string };

/** Data a sandbox worker starts with. */
export interface SandboxWorkerData {
  state: SharedArrayBuffer;
  port: MessagePort;
  sdkBundle: string;
}
