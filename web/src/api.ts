/** The dashboard's API client: cookie session, CSRF header on state-changing calls, JSON errors as messages. */

/** An API error with the server's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field-level problems of a 400 (`body.maxOrderNotional` ...). */
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let csrf: string | null = null;

/** Remembers the CSRF token from login or /api/auth/me. */
export function setCsrf(token: string | null): void {
  csrf = token;
}

/** The CSRF token for calls made outside {@link api} (the assistant's streamed answers). */
export function csrfToken(): string | null {
  return csrf;
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
  const json = (await res.json().catch(() => ({}))) as {
    error?: string;
    message?: string;
    fields?: { field: string; message: string }[];
  };
  if (!res.ok) throw new ApiError(res.status, json.error ?? 'error', json.message ?? res.statusText, json.fields ?? []);
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
  entryTime: number;
  entryPrice: number;
  exitTime: number;
  exitPrice: number;
  quantity: number;
  pnl: number;
  exitReason: string;
}

type Handler = (topic: string, data: unknown) => void;

/** The one WebSocket of the page: every component's topics ride on it, and a reconnect resumes from the last token. */
class SharedStream {
  private ws: WebSocket | undefined;
  private token: string | undefined;
  private delay = 500;
  private readonly handlers = new Map<Handler, Set<string>>();

  private topics(): string[] {
    const all = new Set<string>();
    for (const t of this.handlers.values()) for (const x of t) all.add(x);
    return [...all];
  }

  add(topics: string[], h: Handler): () => void {
    this.handlers.set(h, new Set(topics));
    if (!this.ws) this.connect();
    else if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ op: 'subscribe', topics }));
    return () => {
      this.handlers.delete(h);
      const still = new Set(this.topics());
      const gone = topics.filter((t) => !still.has(t));
      if (this.handlers.size === 0) {
        const ws = this.ws;
        this.ws = undefined;
        ws?.close();
      } else if (gone.length > 0 && this.ws?.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ op: 'unsubscribe', topics: gone }));
      }
    };
  }

  private connect(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      const topics = this.topics();
      if (topics.length > 0) {
        ws.send(JSON.stringify({ op: 'subscribe', topics, ...(this.token ? { resume: this.token } : {}) }));
      }
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as {
        type: string;
        topic?: string;
        token?: string;
        data?: unknown;
        resync?: boolean;
      };
      if (msg.token) this.token = msg.token;
      for (const [h, topics] of this.handlers) {
        if (msg.type === 'event' && msg.topic && topics.has(msg.topic)) h(msg.topic, msg.data);
        if (msg.resync) h('resync', null);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.handlers.size === 0) return;
      setTimeout(() => {
        if (!this.ws && this.handlers.size > 0) this.connect();
      }, this.delay);
      this.delay = Math.min(this.delay * 2, 10_000);
    };
  }
}

const shared = new SharedStream();

/**
 * Calls `onEvent` for each event of the topics, over the page's one WebSocket (reconnecting with the last resume
 * token so nothing is missed). Returns a function that stops listening.
 */
export function openStream(topics: string[], onEvent: (topic: string, data: unknown) => void): () => void {
  return shared.add(topics, onEvent);
}
