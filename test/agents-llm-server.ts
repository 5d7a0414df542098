/**
 * A local LLM server for the agent tests, speaking both real protocols on loopback: OpenAI chat completions
 * (`POST /v1/chat/completions`, SSE `data:` chunks ending in `[DONE]`) and Anthropic messages (`POST /v1/messages`,
 * named SSE events `message_start` … `message_stop`). Each request takes the next scripted step: an answer, an HTTP
 * error (with headers such as Retry-After), a hang (no answer until the client gives up), or a stream cut mid-way.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted reaction. */
export type FakeStep =
  | { answer: string; chunks?: number }
  | { status: number; headers?: Record<string, string>; message?: string }
  | { hang: true }
  | { cut: string; clean?: boolean }
  /** Sends the headers and the first piece, then nothing more (a stream that stalls mid-answer). */
  | { stall: string };

/** A request as the server saw it. */
export interface SeenRequest {
  api: 'openai' | 'anthropic';
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** All message text of the request, for assertions on what was sent. */
  text: string;
  /** Usage the server reported for it (words of the request; chunks of the answer). */
  usage?: { input: number; output: number };
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

function requestText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof body.system === 'string') parts.push(body.system);
  for (const m of (body.messages as { content: unknown }[] | undefined) ?? []) {
    if (typeof m.content === 'string') parts.push(m.content);
  }
  return parts.join('\n');
}

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The fake server: `script(...)` the next steps, read `requests`, listen to `request` / `closed` events. */
export class FakeLlmServer extends EventEmitter {
  readonly requests: SeenRequest[] = [];
  private steps: FakeStep[] = [];
  /** Answers when the script is empty (default: HTTP 500 "no scripted answer"). */
  fallback: ((req: SeenRequest) => FakeStep) | undefined;
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();

  constructor() {
    super();
    this.server = createServer((req, res) => this.handle(req, res));
    // Node closes idle keep-alive sockets after 5 s; a client reusing one at that moment sees a reset. Slow
    // validation between two requests on a loaded machine can take that long, so keep sockets open longer.
    this.server.keepAliveTimeout = 120_000;
  }

  /** Starts on 127.0.0.1, port 0; returns the base URL. */
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Appends steps to the script. */
  script(...steps: FakeStep[]): void {
    this.steps.push(...steps);
  }

  /** Waits for the next request (resolves with it). */
  nextRequest(): Promise<SeenRequest> {
    return new Promise((r) => this.once('request', r));
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').split('?')[0];
    const api = path.endsWith('/chat/completions') ? 'openai' : path.endsWith('/messages') ? 'anthropic' : undefined;
    if (req.method !== 'POST' || !api) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    const seen: SeenRequest = { api, path, headers: req.headers, body, text: requestText(body) };
    this.requests.push(seen);
    const step = this.steps.shift() ?? this.fallback?.(seen) ?? { status: 500, message: 'no scripted answer' };
    this.open.add(res);
    res.on('close', () => {
      this.open.delete(res);
      this.emit('closed', seen);
    });
    this.emit('request', seen);
    if ('hang' in step) return;
    if ('status' in step) {
      const error =
        api === 'openai'
          ? { error: { message: step.message ?? `status ${step.status}`, type: 'server_error', code: null } }
          : { type: 'error', error: { type: 'api_error', message: step.message ?? `status ${step.status}` } };
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers }).end(JSON.stringify(error));
      return;
    }
    if ('stall' in step) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (api === 'openai') this.openAiStream(res, body, [step.stall], { input: 0, output: 0 }, false);
      else this.anthropicStream(res, body, [step.stall], { input: 0, output: 0 }, false);
      return;
    }
    const text = 'answer' in step ? step.answer : step.cut;
    const pieces = split(text, 'answer' in step ? (step.chunks ?? 4) : 2);
    seen.usage = { input: words(seen.text), output: pieces.length };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (api === 'openai') this.openAiStream(res, body, pieces, seen.usage, 'answer' in step);
    else this.anthropicStream(res, body, pieces, seen.usage, 'answer' in step);
    if ('cut' in step) {
      // Destroy only once the pieces are on the wire, so the client sees a stream that breaks mid-way.
      if (step.clean) res.end();
      else res.write(': cut\n\n', () => res.destroy());
    }
  }

  private openAiStream(
    res: ServerResponse,
    body: Record<string, unknown>,
    pieces: string[],
    usage: { input: number; output: number },
    complete: boolean,
  ): void {
    const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_700_000_000, model: body.model };
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    for (const p of pieces) send({ ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] });
    if (!complete) return;
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    send({
      ...base,
      choices: [],
      usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
    });
    res.end('data: [DONE]\n\n');
  }

  private anthropicStream(
    res: ServerResponse,
    body: Record<string, unknown>,
    pieces: string[],
    usage: { input: number; output: number },
    complete: boolean,
  ): void {
    const send = (event: string, o: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(o)}\n\n`);
    send('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_fake',
        type: 'message',
        role: 'assistant',
        content: [],
        model: body.model,
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input, output_tokens: 1 },
      },
    });
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    send('ping', { type: 'ping' });
    for (const p of pieces) {
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } });
    }
    if (!complete) return;
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output },
    });
    send('message_stop', { type: 'message_stop' });
    res.end();
  }
}
