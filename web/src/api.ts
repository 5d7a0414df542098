/** The dashboard's API client: cookie session, CSRF header on state-changing calls, JSON errors as messages. */

/** An API error with the server's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf: string | null = null;

/** Remembers the CSRF token from login or /api/auth/me. */
export function setCsrf(token: string | null): void {
  csrf = token;
}

/** Calls the API; throws ApiError for a non-2xx answer. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok) throw new ApiError(res.status, json.error ?? 'error', json.message ?? res.statusText);
  return json as T;
}

/** The logged-in user. */
export interface Me {
  user: { id: string; username: string; role: 'admin' | 'viewer' };
  csrfToken: string | null;
  permissions: string[];
}

/** One live position. */
export interface Position {
  id: string;
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  entryPrice: number;
  markPrice?: number;
  unrealisedPnl?: number;
}

/** Risk state. */
export interface RiskState {
  killSwitchActive: boolean;
  entriesEnabled: boolean;
  breakers: { deployment: string; breaker: string; detail?: string; until?: number }[];
  checks: { deployment: string; checked: number; accepted: number; rejected: number }[];
  limits: Record<string, number>;
}

/** A control action's result. */
export interface ControlResult {
  ok: boolean;
  message: string;
  detail?: Record<string, number | string | boolean>;
}

/** The risk engine's decision on an order. */
export interface OrderDecision {
  accepted: boolean;
  code?: string;
  detail?: string;
  orderId?: string;
  estimatedCost?: number;
}

/** One closed trade. */
export interface Trade {
  strategyId: string;
  symbol: string;
  side: string;
  exitTime: number;
  pnl: number;
  exitReason: string;
}

/**
 * Opens the WebSocket and calls `onEvent` for each event of the topics; reconnects with the last resume token so
 * nothing is missed. Returns a function that closes it.
 */
export function openStream(topics: string[], onEvent: (topic: string, data: unknown) => void): () => void {
  let token: string | undefined;
  let ws: WebSocket | undefined;
  let closed = false;
  let delay = 500;
  const connect = () => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
    ws = new WebSocket(url);
    ws.onopen = () => {
      delay = 500;
      ws?.send(JSON.stringify({ op: 'subscribe', topics, ...(token ? { resume: token } : {}) }));
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as {
        type: string;
        topic?: string;
        token?: string;
        data?: unknown;
        resync?: boolean;
      };
      if (msg.token) token = msg.token;
      if (msg.type === 'event' && msg.topic) onEvent(msg.topic, msg.data);
      if (msg.resync) onEvent('resync', null);
    };
    ws.onclose = () => {
      if (closed) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  connect();
  return () => {
    closed = true;
    ws?.close();
  };
}
