/**
 * A Lightstreamer server stub on loopback speaking the subset of TLCP 2.1 that Lightstreamer's own Node client
 * (`lightstreamer-client-node`) uses against IG (tests only; IG's streaming server is the outside world): session
 * creation over HTTP (`create_session.txt`, answered with `LOOP` so the client rebinds), the session bound over a
 * WebSocket (`bind_session`), subscriptions added and deleted by control requests (`REQOK`, `SUBOK`, `UNSUB`), MERGE
 * snapshots and updates (`U`), keep-alive probes, and IG's limit of 40 subscriptions per session (`REQERR`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

/** IG's limit on subscriptions of one streaming session. */
export const IG_MAX_SUBSCRIPTIONS = 40;

interface StubSubscription {
  items: string[];
  fields: string[];
  mode: string;
}

interface StubSession {
  id: string;
  user: string;
  socket?: WebSocket;
  probe?: NodeJS.Timeout;
  subs: Map<string, StubSubscription>;
}

const CRLF = '\r\n';

// TLCP field values: null is `#`, the empty string `$`, and the characters the line syntax uses are percent-encoded.
function encodeValue(v: string | null): string {
  if (v === null) return '#';
  if (v === '') return '$';
  const encoded = v.replace(/[%|\r\n]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return encoded[0] === '#' || encoded[0] === '$'
    ? `%${encoded.charCodeAt(0).toString(16).toUpperCase()}${encoded.slice(1)}`
    : encoded;
}

/** The stub; `attach` it to an HTTP server, then `publish` item updates. */
export class LightstreamerStub {
  /** Every control request seen, decoded (for tests: what the client subscribed). */
  readonly controls: Record<string, string>[] = [];
  /**
   * An outage that lasts: while true, session creation and WebSocket upgrades are cut without an answer (the
   * client keeps retrying on its own); `dropAll()` then ends the sessions that were up.
   */
  refuseConnections = false;
  /** False: MERGE subscriptions get no snapshot (a fault: what a client holds from before must not be read as now). */
  sendSnapshots = true;
  private readonly sessions = new Map<string, StubSession>();
  private readonly last = new Map<string, Record<string, string | null>>();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => [...p][0] ?? false });

  /**
   * `authenticate(user, password)` decides session creation (IG: account id and `CST-…|XST-…`); `snapshotOf(item)`
   * gives an item's current fields for a MERGE snapshot (IG's current quote, account figures, forming candle); an
   * item it does not know is snapshot from what was last published on it.
   */
  constructor(
    private readonly authenticate: (user: string, password: string) => boolean,
    private readonly snapshotOf: (item: string) => Record<string, string | null> | undefined = () => undefined,
    private readonly keepaliveMs = 1_000,
  ) {}

  /** Serves `/lightstreamer/...` on `server`; returns a predicate the server's own handler uses to skip those. */
  attach(server: Server): (req: IncomingMessage) => boolean {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!(req.url ?? '').startsWith('/lightstreamer') || this.refuseConnections) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.bindSocket(ws));
    });
    return (req) => (req.url ?? '').startsWith('/lightstreamer/');
  }

  /** Answers an HTTP request under `/lightstreamer/` (session creation). */
  handleHttp(req: IncomingMessage, res: ServerResponse): void {
    if (this.refuseConnections) {
      req.socket.destroy();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'text/enriched; charset=utf-8');
      if (!(req.url ?? '').startsWith('/lightstreamer/create_session.txt')) {
        res.statusCode = 404;
        return res.end();
      }
      const q = new URLSearchParams(body);
      const user = q.get('LS_user') ?? '';
      if (!this.authenticate(user, q.get('LS_password') ?? '')) {
        return res.end(`CONERR,1,User/password check failed${CRLF}`);
      }
      const id = `S${randomUUID().replace(/-/g, '')}`;
      this.sessions.set(id, { id, user, subs: new Map() });
      res.end(
        [
          `CONOK,${id},50000,${this.keepaliveMs},*`,
          'SERVNAME,tradeforge-ig-stub',
          'CLIENTIP,127.0.0.1',
          'CONS,unlimited',
          'LOOP,0',
        ]
          .map((l) => l + CRLF)
          .join(''),
      );
    });
  }

  /** Sends `fields` of `item` to every subscription of it (and keeps them as the item's snapshot). */
  publish(item: string, fields: Record<string, string | null>): void {
    this.last.set(item, { ...this.last.get(item), ...fields });
    for (const s of this.sessions.values()) {
      for (const [subId, sub] of s.subs) {
        const idx = sub.items.indexOf(item);
        if (idx >= 0) this.sendUpdate(s, subId, sub, idx, fields);
      }
    }
  }

  /** Subscriptions held now, over all sessions. */
  subscriptionCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.subs.size;
    return n;
  }

  /** Cuts every streaming connection and forgets every session (a server restart): clients must create anew. */
  dropAll(): void {
    for (const s of this.sessions.values()) this.endSession(s);
    this.sessions.clear();
  }

  /** Closes everything (the HTTP server itself is the owner's). */
  close(): void {
    this.dropAll();
    this.wss.close();
  }

  private endSession(s: StubSession): void {
    if (s.probe) clearInterval(s.probe);
    s.socket?.terminate();
  }

  private bindSocket(ws: WebSocket): void {
    let session: StubSession | undefined;
    ws.on('message', (data) => {
      // One message is one verb line and one or more parameter lines (the client batches requests of one verb).
      const [verb = '', ...lines] = String(data).split(CRLF);
      const requests = lines.filter((l) => l.length > 0).map((l) => new URLSearchParams(l));
      if (verb === 'wsok') ws.send(`WSOK${CRLF}`);
      else if (verb === 'bind_session') {
        session = this.sessions.get(requests[0]?.get('LS_session') ?? '');
        if (!session) {
          ws.send(`CONERR,20,Session not found${CRLF}`);
          ws.close();
          return;
        }
        session.socket = ws;
        ws.send(`CONOK,${session.id},50000,${this.keepaliveMs},*${CRLF}`);
        ws.send(`SERVNAME,tradeforge-ig-stub${CRLF}CLIENTIP,127.0.0.1${CRLF}CONS,unlimited${CRLF}`);
        const s = session;
        s.probe = setInterval(() => s.socket?.send(`PROBE${CRLF}`), this.keepaliveMs);
        s.probe.unref();
      } else if (verb === 'control' && session) for (const q of requests) this.control(session, q);
    });
    // The stub ends a session with its connection (a real server keeps it a while for a rebind; the client then
    // creates a new one, which is what a rebind refused with CONERR 20 makes it do anyway).
    ws.on('close', () => {
      if (!session) return;
      if (session.probe) clearInterval(session.probe);
      if (session.socket === ws) this.sessions.delete(session.id);
    });
  }

  private control(s: StubSession, q: URLSearchParams): void {
    this.controls.push(Object.fromEntries(q));
    const reqId = q.get('LS_reqId') ?? '0';
    const subId = q.get('LS_subId') ?? '';
    const op = q.get('LS_op');
    if (op === 'add') {
      if (s.subs.size >= IG_MAX_SUBSCRIPTIONS) {
        s.socket?.send(`REQERR,${reqId},19,Too many subscriptions (${IG_MAX_SUBSCRIPTIONS})${CRLF}`);
        return;
      }
      const sub: StubSubscription = {
        items: (q.get('LS_group') ?? '').split(' ').filter(Boolean),
        fields: (q.get('LS_schema') ?? '').split(' ').filter(Boolean),
        mode: q.get('LS_mode') ?? 'MERGE',
      };
      s.subs.set(subId, sub);
      s.socket?.send(`REQOK,${reqId}${CRLF}`);
      s.socket?.send(`SUBOK,${subId},${sub.items.length},${sub.fields.length}${CRLF}`);
      if (q.get('LS_snapshot') === 'true' && sub.mode === 'MERGE' && this.sendSnapshots) {
        sub.items.forEach((item, i) => {
          const snap = this.snapshotOf(item) ?? this.last.get(item);
          if (snap) this.sendUpdate(s, subId, sub, i, snap);
        });
      }
    } else if (op === 'delete') {
      s.subs.delete(subId);
      s.socket?.send(`REQOK,${reqId}${CRLF}`);
      s.socket?.send(`UNSUB,${subId}${CRLF}`);
    } else {
      s.socket?.send(`REQOK,${reqId}${CRLF}`);
    }
  }

  private sendUpdate(
    s: StubSession,
    subId: string,
    sub: StubSubscription,
    idx: number,
    fields: Record<string, string | null>,
  ): void {
    // A field this update does not carry is sent as unchanged (an empty value), as the server does.
    const values = sub.fields.map((f) => (f in fields ? encodeValue(fields[f] ?? null) : ''));
    s.socket?.send(`U,${subId},${idx + 1},${values.join('|')}${CRLF}`);
  }
}
