/**
 * Test doubles at the edge of the outside world for the ops tests: a hand-driven clock, and local HTTP servers that
 * speak the Telegram Bot API and the Discord webhook API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { OpsClock } from '../src/ops/clock.js';
import { waitFor as waitUntil } from './fixtures/wait.js';

interface Timer {
  at: number;
  every?: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when the test calls `advance`; fires due timers in time order. */
export class ManualClock implements OpsClock {
  private timers: Timer[] = [];
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  every(ms: number, fn: () => void): () => void {
    const t: Timer = { at: this.time + ms, every: ms, fn, cancelled: false };
    this.timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }
  after(ms: number, fn: () => void): () => void {
    const t: Timer = { at: this.time + ms, fn, cancelled: false };
    this.timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }
  /** Number of live timers (checks that `stop()` cancels everything). */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
  /** Moves time forward by `ms`, firing timers as their time comes, and lets promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.time = next.at;
      if (next.every !== undefined) next.at += next.every;
      else next.cancelled = true;
      next.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise chains run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * `fixtures/wait.ts`'s `waitFor` in the argument order the venue tests still call it with (`ms` its hang guard);
 * other tests import that one.
 */
export function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  return waitUntil(what, cond, { guardMs: ms, everyMs: 10 });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseParams(req: IncomingMessage, body: string, url: URL): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json') && body) return JSON.parse(body) as Record<string, unknown>;
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  return Object.fromEntries(url.searchParams);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A recorded Bot API call. */
export interface BotApiCall {
  token: string;
  method: string;
  params: Record<string, unknown>;
}

/**
 * A local Telegram Bot API: `POST /bot<token>/<method>`, answers `{ ok, result }` / `{ ok:false, error_code,
 * description }` like the real one. Supports getMe, sendMessage, deleteWebhook, setMyCommands and long-polling
 * getUpdates (held open until an update arrives or the timeout passes, capped at 2 s to keep tests fast).
 */
export class FakeTelegramServer {
  readonly calls: BotApiCall[] = [];
  private server: Server | undefined;
  private updates: Record<string, unknown>[] = [];
  private nextUpdateId = 1000;
  private nextMessageId = 1;
  private waiters: (() => void)[] = [];
  /** Status code to answer sendMessage with (e.g. 429), once per entry. */
  readonly failNext: number[] = [];
  url = '';

  constructor(readonly token: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.url = await listen(this.server);
    return this.url;
  }

  async stop(): Promise<void> {
    for (const w of this.waiters.splice(0)) w();
    if (this.server) await close(this.server);
  }

  /** Calls of one method. */
  sent(method = 'sendMessage'): BotApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Queues an incoming text message from `chatId` for the next getUpdates. */
  pushMessage(chatId: number, text: string, username = 'alice'): void {
    const entities = text.startsWith('/')
      ? [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0].length }]
      : undefined;
    this.updates.push({
      update_id: this.nextUpdateId++,
      message: {
        message_id: this.nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: 'private', username },
        from: { id: chatId, is_bot: false, first_name: username, username },
        text,
        entities,
      },
    });
    for (const w of this.waiters.splice(0)) w();
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(url.pathname);
    const body = await readBody(req);
    if (!m) return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = m;
    const params = parseParams(req, body, url);
    this.calls.push({ token, method, params });
    if (token !== this.token) return this.reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    switch (method) {
      case 'getMe':
        return this.reply(res, 200, { ok: true, result: botInfo() });
      case 'deleteWebhook':
      case 'setMyCommands':
        return this.reply(res, 200, { ok: true, result: true });
      case 'sendMessage': {
        const fail = this.failNext.shift();
        if (fail !== undefined) {
          return this.reply(res, fail, {
            ok: false,
            error_code: fail,
            description: fail === 429 ? 'Too Many Requests: retry after 1' : 'Bad Request',
            parameters: fail === 429 ? { retry_after: 1 } : undefined,
          });
        }
        if (params.chat_id === undefined || typeof params.text !== 'string' || params.text === '') {
          return this.reply(res, 400, {
            ok: false,
            error_code: 400,
            description: 'Bad Request: message text is empty',
          });
        }
        return this.reply(res, 200, {
          ok: true,
          result: {
            message_id: this.nextMessageId++,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(params.chat_id), type: 'private' },
            text: params.text,
          },
        });
      }
      case 'getUpdates': {
        const offset = Number(params.offset ?? 0);
        this.updates = this.updates.filter((u) => (u.update_id as number) >= offset);
        const timeoutMs = Math.min(Number(params.timeout ?? 0) * 1000, 2000);
        if (this.updates.length === 0 && timeoutMs > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, timeoutMs);
            this.waiters.push(() => {
              clearTimeout(t);
              resolve();
            });
            req.on('close', () => {
              clearTimeout(t);
              resolve();
            });
          });
        }
        if (res.destroyed) return;
        const limit = Number(params.limit ?? 100);
        return this.reply(res, 200, { ok: true, result: this.updates.slice(0, limit) });
      }
      default:
        return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }
}

/** The bot identity the fake answers getMe with (pass it as grammy's `botInfo`). */
export function botInfo() {
  return {
    id: 4242,
    is_bot: true as const,
    first_name: 'tradeforge-test',
    username: 'tradeforge_test_bot',
    can_join_groups: false,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
}

/** A local Discord webhook endpoint: `POST /api/webhooks/<id>/<token>` with JSON, answers 204 like Discord. */
export class FakeDiscordServer {
  readonly posts: { path: string; body: Record<string, unknown>; contentType: string }[] = [];
  private server: Server | undefined;
  /** Status codes to answer the next posts with (e.g. 429, 500). */
  readonly failNext: number[] = [];
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        const path = req.url ?? '/';
        if (req.method !== 'POST' || !/^\/api\/webhooks\/\d+\/[\w-]+$/.test(path)) {
          res.writeHead(404, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ message: 'Unknown Webhook', code: 10015 }));
        }
        const fail = this.failNext.shift();
        if (fail !== undefined) {
          res.writeHead(fail, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.5, global: false }));
        }
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(body) as Record<string, unknown>;
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ message: 'Cannot send an empty message', code: 50006 }));
        }
        this.posts.push({ path, body: parsed, contentType: req.headers['content-type'] ?? '' });
        res.writeHead(204);
        res.end();
      })();
    });
    this.url = await listen(this.server);
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}

/** A mail the local SMTP server received. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The user it authenticated as. */
  user?: string;
}

/** A local SMTP server (no TLS) that takes mail from user `alerts` with `password` and keeps it in `mails`. */
export class FakeSmtpServer {
  readonly mails: ReceivedMail[] = [];
  /** The port it listens on (after `start`). */
  port = 0;
  private readonly server: SMTPServer;

  constructor(password: string) {
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === 'alerts' && auth.password === password) cb(null, { user: auth.username });
        else cb(new Error('Invalid username or password'));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: typeof session.user === 'string' ? session.user : undefined,
          });
          cb();
        });
      },
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
