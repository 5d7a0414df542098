/**
 * The WebSocket stream (one connection per client, subscription by topic). Every event gets a sequence number;
 * a client that reconnects sends the last token it saw and receives what it missed from a ring buffer, or is told
 * to resync from the REST snapshots when the gap is too old. High-frequency topics are conflated per key and sent
 * at most once per throttle interval.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { checkCapacity, type QueueGaugeSource } from '../../core/queue-bound.js';
import { type StreamEvent, type StreamTopic, THROTTLED_TOPICS } from './port.js';
import { streamClientMessage } from './schemas.js';

/** Options of {@link StreamHub}. */
export interface StreamHubOptions {
  /** Events kept for resuming clients (default 10 000). */
  bufferSize?: number;
  /** Minimum interval between two sends of a throttled topic's key to one client (default 250 ms). */
  throttleMs?: number;
  /** Keep-alive heartbeat message interval (default 15 s). */
  heartbeatMs?: number;
  /** A client whose unsent bytes exceed this is disconnected and must resume (default 1 MiB). */
  maxBufferedBytes?: number;
  /**
   * Throttled events (distinct keys) waiting for one client's next send; past it the oldest waiting one is dropped
   * and counted (the client can resync from the REST snapshots). Default 10 000.
   */
  maxPendingPerClient?: number;
}

interface Entry {
  seq: number;
  event: StreamEvent;
}

class StreamClient {
  readonly topics = new Set<StreamTopic>();
  private readonly pending = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;

  constructor(
    private readonly hub: StreamHub,
    readonly socket: WebSocket,
    private readonly throttleMs: number,
  ) {}

  offer(entry: Entry): void {
    if (!this.topics.has(entry.event.topic)) return;
    if (!THROTTLED_TOPICS.has(entry.event.topic)) {
      this.send(entry);
      return;
    }
    const key = `${entry.event.topic}\u0000${entry.event.key ?? ''}`;
    if (!this.pending.has(key) && this.pending.size >= this.hub.maxPendingPerClient) {
      this.pending.delete(this.pending.keys().next().value as string);
      this.hub.countDropped();
    }
    this.pending.set(key, entry);
    const wait = this.lastFlush + this.throttleMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Throttled events waiting for this client's next send. */
  get depth(): number {
    return this.pending.size;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastFlush = Date.now();
    const entries = [...this.pending.values()].sort((a, b) => a.seq - b.seq);
    this.pending.clear();
    for (const e of entries) this.send(e);
  }

  send(entry: Entry): void {
    const e = entry.event;
    this.write({
      type: 'event',
      topic: e.topic,
      ...(e.key !== undefined ? { key: e.key } : {}),
      time: e.time,
      token: this.hub.tokenOf(entry.seq),
      data: e.data,
    });
  }

  write(msg: unknown): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.hub.maxBufferedBytes) {
      this.hub.countSlowClient();
      this.socket.close(1013, 'too slow: reconnect and resume with your last token');
      return;
    }
    this.socket.send(JSON.stringify(msg));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Fans events out to WebSocket clients; keeps the recent ones for resuming. Its queue (`queue_depth{queue="ws"}`)
 * is every client's waiting throttled events, each client's bounded by `maxPendingPerClient` (drop oldest, counted);
 * a client whose socket buffer passes `maxBufferedBytes` is disconnected (counted) and resumes with its token.
 */
export class StreamHub implements QueueGaugeSource {
  readonly queue = 'ws';
  readonly policy = 'drop_oldest';
  readonly maxPendingPerClient: number;
  private droppedCount = 0;
  private slowClients = 0;
  /** Distinguishes tokens of this process from a previous one's. */
  readonly epoch = randomBytes(4).toString('hex');
  readonly maxBufferedBytes: number;
  private seq = 0;
  private readonly ring: (Entry | undefined)[];
  private readonly clients = new Set<StreamClient>();
  private readonly throttleMs: number;
  private readonly heartbeat: NodeJS.Timeout;
  /** Producers that run only while someone listens (venue tickers and books), with their subscriber counts. */
  private readonly demand = new Map<StreamTopic, { start: () => () => void; stop?: () => void; count: number }>();

  constructor(opts: StreamHubOptions = {}) {
    this.ring = new Array(opts.bufferSize ?? 10_000);
    this.throttleMs = opts.throttleMs ?? 250;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1 << 20;
    this.maxPendingPerClient = checkCapacity(this.queue, opts.maxPendingPerClient ?? 10_000);
    this.heartbeat = setInterval(() => {
      const msg = { type: 'heartbeat', time: Date.now(), token: this.tokenOf(this.seq) };
      for (const c of this.clients) c.write(msg);
    }, opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  /** Connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** The bound of one client's waiting events (the gauge's capacity). */
  get capacity(): number {
    return this.maxPendingPerClient;
  }

  /** Throttled events waiting across all clients. */
  get depth(): number {
    let n = 0;
    for (const c of this.clients) n += c.depth;
    return n;
  }

  /** Waiting events dropped because a client's queue was full, since start. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Clients disconnected because their socket buffer passed `maxBufferedBytes`, since start. */
  get slowClientsDisconnected(): number {
    return this.slowClients;
  }

  /** Counts one waiting event dropped (called by a client). */
  countDropped(): void {
    this.droppedCount++;
  }

  /** Counts one slow client disconnected (called by a client). */
  countSlowClient(): void {
    this.slowClients++;
  }

  /** The resume token of a sequence number. */
  tokenOf(seq: number): string {
    return `${this.epoch}.${seq}`;
  }

  /** Publishes one event to every subscribed client. */
  publish(event: StreamEvent): void {
    const entry = { seq: ++this.seq, event };
    this.ring[entry.seq % this.ring.length] = entry;
    for (const c of this.clients) c.offer(entry);
  }

  /**
   * Runs `start` while at least one client is subscribed to `topic`: called when the first subscribes, its returned
   * stop when the last unsubscribes or disconnects.
   */
  onDemand(topic: StreamTopic, start: () => () => void): void {
    this.demand.set(topic, { start, count: 0 });
  }

  private listen(topic: StreamTopic, delta: 1 | -1): void {
    const d = this.demand.get(topic);
    if (!d) return;
    d.count += delta;
    if (d.count === 1 && delta === 1) d.stop = d.start();
    if (d.count === 0) {
      d.stop?.();
      d.stop = undefined;
    }
  }

  /** Serves one WebSocket connection until it closes. */
  attach(socket: WebSocket): void {
    const client = new StreamClient(this, socket, this.throttleMs);
    this.clients.add(client);
    socket.on('close', () => {
      client.dispose();
      if (this.clients.delete(client)) for (const t of client.topics) this.listen(t, -1);
    });
    socket.on('message', (raw) => this.onMessage(client, raw.toString()));
    client.write({ type: 'hello', token: this.tokenOf(this.seq) });
  }

  private onMessage(client: StreamClient, text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      client.write({ type: 'error', error: 'bad_json', message: 'messages must be JSON objects' });
      return;
    }
    const parsed = streamClientMessage.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(message)', message: i.message }));
      client.write({
        type: 'error',
        error: 'validation',
        message: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
        fields,
      });
      return;
    }
    const msg = parsed.data;
    if (msg.op === 'ping') {
      client.write({ type: 'pong', time: Date.now(), token: this.tokenOf(this.seq) });
      return;
    }
    if (msg.op === 'unsubscribe') {
      for (const t of msg.topics) if (client.topics.delete(t)) this.listen(t, -1);
      client.write({ type: 'unsubscribed', topics: msg.topics });
      return;
    }
    for (const t of msg.topics) {
      if (client.topics.has(t)) continue;
      client.topics.add(t);
      this.listen(t, 1);
    }
    const reply: Record<string, unknown> = { type: 'subscribed', topics: [...client.topics] };
    if (msg.resume !== undefined) {
      const missed = this.since(msg.resume);
      if (missed === undefined) {
        reply.resync = true;
        reply.reason = 'the resume token is from another run or too old: reload the snapshots';
      } else {
        const wanted = new Set(msg.topics);
        const replay = missed.filter((e) => wanted.has(e.event.topic));
        reply.resumed = replay.length;
        client.write({ ...reply, token: this.tokenOf(this.seq) });
        for (const e of replay) client.offer(e);
        client.flush();
        return;
      }
    }
    client.write({ ...reply, token: this.tokenOf(this.seq) });
  }

  /** Events after a token, or undefined when the token is foreign or older than the buffer. */
  private since(token: string): Entry[] | undefined {
    const [epoch, seqText] = token.split('.');
    const from = Number(seqText);
    if (epoch !== this.epoch || !Number.isInteger(from) || from < 0 || from > this.seq) return undefined;
    if (this.seq - from > this.ring.length) return undefined;
    const out: Entry[] = [];
    for (let s = from + 1; s <= this.seq; s++) {
      const e = this.ring[s % this.ring.length];
      if (e && e.seq === s) out.push(e);
    }
    return out;
  }

  /** Closes every connection and stops the heartbeat. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const d of this.demand.values()) {
      d.stop?.();
      d.stop = undefined;
      d.count = 0;
    }
    for (const c of this.clients) {
      c.dispose();
      c.socket.close(1001, 'server shutting down');
    }
    this.clients.clear();
  }
}
