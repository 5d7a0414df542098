import { LlmError, type RetryInfo } from './llm.js';

/** Retry and timeout settings of one provider. */
export interface RetryPolicy {
  /** Retries after the first attempt for 429, 5xx and unreachable servers (default 2). */
  maxRetries: number;
  /** First backoff; doubled per retry, ±20 % jitter (default 500 ms). */
  baseDelayMs: number;
  /** Longest wait between attempts, Retry-After included (default 30 s). */
  maxDelayMs: number;
  /** An attempt with no answer byte for this long is abandoned as a timeout (default 30 s). */
  idleTimeoutMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  idleTimeoutMs: 30_000,
};

/** One attempt's controls: its signal, and `alive()` to call on every byte of answer (resets the idle timer). */
export interface AttemptControl {
  signal: AbortSignal;
  alive(): void;
}

interface HttpishError {
  status?: unknown;
  headers?: unknown;
  name?: unknown;
  message?: unknown;
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

/** The wait a server asked for (`retry-after-ms`, or `Retry-After` in seconds or as an HTTP date), in ms. */
export function retryAfterMs(headers: unknown, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const ra = header(headers, 'retry-after');
  if (ra === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Number(ra) * 1000;
  const at = Date.parse(ra);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as HttpishError | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

// The SDKs' connection errors (no HTTP answer at all): by class name, so both SDKs' classes match.
function isConnectionError(err: unknown): boolean {
  let proto: unknown = err === null || typeof err !== 'object' ? undefined : Object.getPrototypeOf(err);
  while (proto && proto !== Object.prototype) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === 'APIConnectionError') return true;
    proto = Object.getPrototypeOf(proto);
  }
  return err instanceof TypeError;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` with the provider's retry policy: 429 and 5xx answers and unreachable servers are retried with
 * exponential backoff (the server's Retry-After wins, capped at `maxDelayMs`); an attempt that receives nothing
 * for `idleTimeoutMs` is abandoned as a timeout (not retried: the caller's deadline is what is left). Every failure
 * becomes an {@link LlmError}; a stream that `attempt` reports cut stays a `stream_cut` LlmError.
 */
export async function withRetries<T>(
  provider: string,
  policy: RetryPolicy,
  outer: AbortSignal | undefined,
  attempt: (ctl: AttemptControl, attemptNo: number) => Promise<T>,
  onRetry?: (info: RetryInfo) => void,
): Promise<{ value: T; attempts: number }> {
  const outerSignal = outer ?? new AbortController().signal;
  for (let n = 1; ; n++) {
    if (outerSignal.aborted) throw new LlmError(provider, 'aborted', 'cancelled before an answer');
    const ac = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        ac.abort(new Error('idle timeout'));
      }, policy.idleTimeoutMs);
    };
    const onOuter = () => ac.abort(outerSignal.reason);
    outerSignal.addEventListener('abort', onOuter, { once: true });
    arm();
    try {
      const value = await attempt({ signal: ac.signal, alive: arm }, n);
      return { value, attempts: n };
    } catch (err) {
      if (err instanceof LlmError && err.reason !== 'http' && err.reason !== 'unreachable') throw err;
      if (outerSignal.aborted) throw new LlmError(provider, 'aborted', 'cancelled while waiting for an answer');
      if (timedOut) {
        throw new LlmError(provider, 'timeout', `no answer within ${policy.idleTimeoutMs} ms`);
      }
      const status = err instanceof LlmError ? err.status : statusOf(err);
      const unreachable = status === undefined && isConnectionError(err);
      const retryable = status === 429 || (status !== undefined && status >= 500) || unreachable;
      const message = err instanceof Error ? err.message : String(err);
      if (!retryable || n > policy.maxRetries) {
        if (status !== undefined) throw new LlmError(provider, 'http', `HTTP ${status}: ${message}`, status);
        if (unreachable) throw new LlmError(provider, 'unreachable', `cannot reach the server: ${message}`);
        throw new LlmError(provider, 'http', message);
      }
      const fromServer = retryAfterMs((err as HttpishError).headers);
      const backoff = policy.baseDelayMs * 2 ** (n - 1) * (0.8 + Math.random() * 0.4);
      const delayMs = Math.min(policy.maxDelayMs, Math.round(fromServer ?? backoff));
      onRetry?.({ attempt: n, status: status ?? 0, delayMs, fromHeader: fromServer !== undefined });
      try {
        await sleep(delayMs, outerSignal);
      } catch {
        throw new LlmError(provider, 'aborted', 'cancelled while waiting to retry');
      }
    } finally {
      if (timer) clearTimeout(timer);
      outerSignal.removeEventListener('abort', onOuter);
    }
  }
}
