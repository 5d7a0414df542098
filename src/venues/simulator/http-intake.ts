/**
 * The request intake both simulator modes (Binance, Kraken) share: read the request, log it, delay it by the latency
 * fault, draw its transport fault (an outage status, a rate limit, a hang), hold the requests that never get an
 * answer, and send the answer that does. What an answer looks like is the mode's own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultController, FaultRule } from './faults.js';

/** One request the server received (tests count attempts with it). */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** The HTTP status answered; -1 = never answered (a hang fault). */
  status: number;
  time: number;
}

/** A request after the intake: its parts, its log entry and the transport fault it drew (if any). */
export interface ReceivedRequest {
  url: URL;
  method: string;
  path: string;
  body: string;
  entry: RequestLogEntry;
  fault: FaultRule | undefined;
}

/** The shared intake of one simulator's HTTP server. */
export class RequestIntake {
  /** Every HTTP request received, in order. */
  readonly requests: RequestLogEntry[] = [];
  private readonly hung = new Set<ServerResponse>();

  constructor(private readonly faults: FaultController) {}

  /** Reads, logs and delays `req`, and draws its transport fault (`status`, `rateLimit`, `hang`). */
  async receive(req: IncomingMessage): Promise<ReceivedRequest> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const body = await readBody(req);
    const entry: RequestLogEntry = { method, path, status: 0, time: Date.now() };
    this.requests.push(entry);
    const latency = this.faults.nextLatencyMs();
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const fault = this.faults.take(method, path, ['status', 'rateLimit', 'hang']);
    return { url, method, path, body, entry, fault };
  }

  /** Never answers `res` (a hang fault): logged as -1 and held until `close()`. */
  hold(r: ReceivedRequest, res: ServerResponse): void {
    r.entry.status = -1;
    this.hung.add(res);
    res.on('close', () => this.hung.delete(res));
  }

  /** Answers `res` and records the status in the log. */
  send(r: ReceivedRequest, res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
    r.entry.status = status;
    res.writeHead(status, headers);
    res.end(body);
  }

  /** Requests received for `path` (and `method`, when given). */
  count(path: string, method?: string): number {
    return this.requests.filter((q) => q.path === path && (method === undefined || q.method === method)).length;
  }

  /** Drops the held requests' connections (the server is closing). */
  close(): void {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }
}

/** The whole body of a request as UTF-8. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
