/**
 * The trading assistant's routes (AUTH-10, docs/assistant.md): chat with toggleable account context (streamed as
 * server-sent events when asked), the arena, the signal board with each model's record, and execution of a card —
 * only with `confirm: true`, only by a role that may trade, and only through the runtime's risk engine.
 */
import { z } from 'zod';
import type { AssistantService } from '../../app/assistant-service.js';
import { SignalNotExecutable } from '../../app/assistant-service.js';
import { MAX_ARENA_MODELS } from '../../authoring/agents/assistant.js';
import { actorOf, type ZodApp } from './context.js';
import { authErrors, confirmBody, errorSchema, orderDecisionSchema } from './schemas.js';

const message = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string().min(1).max(20_000),
});

const contextToggles = z
  .object({
    balance: z.boolean(),
    positions: z.boolean(),
    orders: z.boolean(),
    prices: z.boolean(),
  })
  .partial()
  .strict();

/** A chat turn: the conversation so far, ending with the user's message. */
export const chatBody = z
  .object({
    messages: z
      .array(message)
      .min(1)
      .max(50)
      .refine((m) => m.at(-1)?.role === 'user', 'the last message must be the user\u2019s'),
    context: contextToggles.optional(),
    /** A configured provider name; default: agents.defaultProvider. */
    provider: z.string().max(64).optional(),
  })
  .strict();

/** The arena: one prompt and context to several models. */
export const arenaBody = chatBody.omit({ provider: true }).extend({
  providers: z.array(z.string().max(64)).min(2).max(MAX_ARENA_MODELS),
});

const signalSchema = z.object({
  id: z.string(),
  runId: z.string(),
  provider: z.string(),
  model: z.string(),
  action: z.enum(['buy', 'sell']),
  symbol: z.string(),
  size: z.number(),
  price: z.number().optional(),
  confidence: z.number(),
  reasoning: z.string(),
  referencePrice: z.number().optional(),
  createdAt: z.number(),
  status: z.enum(['suggested', 'executing', 'executed', 'rejected']).optional(),
  orderId: z.string().optional(),
  decision: z.string().optional(),
  actor: z.string().optional(),
  decidedAt: z.number().optional(),
  lastPrice: z.number().optional(),
  pnlIfFollowed: z.number().optional(),
  hit: z.boolean().optional(),
});

const answerSchema = z.object({
  runId: z.string(),
  provider: z.string(),
  model: z.string(),
  outcome: z.enum(['answered', 'failed']),
  text: z.string(),
  signals: z.array(signalSchema),
  problems: z.array(z.object({ index: z.number().optional(), message: z.string() })),
  usage: z.object({ input: z.number(), output: z.number() }),
  costUsd: z.number().optional(),
  error: z.object({ reason: z.string(), message: z.string() }).optional(),
});

const sections = z.array(z.enum(['balance', 'positions', 'orders', 'prices']));

const modelScoreSchema = z.object({
  provider: z.string(),
  model: z.string(),
  signals: z.number(),
  judged: z.number(),
  hits: z.number(),
  hitRate: z.number().nullable(),
  pnlIfFollowed: z.number(),
  executed: z.number(),
  rejected: z.number(),
});

const notConfigured = {
  error: 'assistant_not_configured',
  message: 'no LLM provider is configured (config agents.providers, docs/agents.md)',
};

function providerError(err: unknown): { error: string; message: string } | undefined {
  if (err instanceof RangeError) return { error: 'validation', message: err.message };
  if (err instanceof Error && err.name === 'LlmError') return { error: 'unknown_provider', message: err.message };
  if (err instanceof Error && err.name === 'ConfigError') return { error: 'provider_config', message: err.message };
  return undefined;
}

/** Registers the assistant routes; without a service they answer 404 `assistant_not_configured`. */
export function assistantRoutes(app: ZodApp, service: AssistantService | undefined): void {
  app.get(
    '/api/assistant/models',
    {
      schema: {
        tags: ['assistant'],
        summary: 'The configured models the assistant and the arena can ask, the default first',
        response: {
          200: z.object({ models: z.array(z.object({ provider: z.string(), type: z.string(), model: z.string() })) }),
          ...authErrors,
        },
      },
    },
    () => ({ models: service?.models() ?? [] }),
  );

  app.post(
    '/api/assistant/chat',
    {
      config: { action: 'assistant.use' },
      schema: {
        tags: ['assistant'],
        summary:
          'Ask the assistant with the chosen account context; signal cards come back parsed. With Accept: ' +
          'text/event-stream the answer streams as `delta` events and ends with one `answer` event.',
        body: chatBody,
        response: {
          200: answerSchema.extend({ contextSent: sections }),
          404: errorSchema,
          409: errorSchema,
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      if (!service) return reply.code(404).send(notConfigured);
      const turn = { messages: req.body.messages, ...(req.body.context ? { context: req.body.context } : {}) };
      const streamed = (req.headers.accept ?? '').includes('text/event-stream');
      if (!streamed) {
        try {
          return await service.chat(turn, req.body.provider);
        } catch (err) {
          const e = providerError(err);
          if (e) return reply.code(e.error === 'validation' ? 400 : 409).send(e);
          throw err;
        }
      }
      // Server-sent events: the headers go now, each piece as it arrives, the parsed answer last.
      // The response's close (not the request's, which closes once its body is read) means the client left.
      const abort = new AbortController();
      reply.hijack();
      const res = reply.raw;
      res.on('close', () => {
        if (!res.writableEnded) abort.abort(new Error('client went away'));
      });
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      try {
        const answer = await service.chat(
          { ...turn, signal: abort.signal, onDelta: (text, provider) => send('delta', { provider, text }) },
          req.body.provider,
        );
        send('answer', answer);
      } catch (err) {
        send('error', providerError(err) ?? { error: 'internal', message: 'the assistant failed; see the log' });
        req.log.error({ err }, 'assistant chat failed');
      }
      res.end();
      return reply;
    },
  );

  app.post(
    '/api/assistant/arena',
    {
      config: { action: 'assistant.use' },
      schema: {
        tags: ['assistant'],
        summary: 'The same prompt and context to 2-4 models side by side; each answer with its signal cards',
        body: arenaBody,
        response: {
          200: z.object({ correlationId: z.string(), contextSent: sections, answers: z.array(answerSchema) }),
          404: errorSchema,
          409: errorSchema,
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      if (!service) return reply.code(404).send(notConfigured);
      try {
        return await service.arena(
          { messages: req.body.messages, ...(req.body.context ? { context: req.body.context } : {}) },
          req.body.providers,
        );
      } catch (err) {
        const e = providerError(err);
        if (e) return reply.code(e.error === 'validation' ? 400 : 409).send(e);
        throw err;
      }
    },
  );

  app.get(
    '/api/assistant/signals',
    {
      schema: {
        tags: ['assistant'],
        summary: "Signal cards, newest first, judged against the last price; each model's hit rate and P&L if followed",
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
        response: {
          200: z.object({ signals: z.array(signalSchema), models: z.array(modelScoreSchema) }),
          404: errorSchema,
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      if (!service) return reply.code(404).send(notConfigured);
      return service.board(req.query.limit);
    },
  );

  app.post(
    '/api/assistant/signals/:id/execute',
    {
      config: { action: 'trade' },
      schema: {
        tags: ['assistant'],
        summary:
          'Place a signal card as an order through the risk engine (confirm: true); a card is placed at most once',
        params: z.object({ id: z.string().min(1).max(100) }),
        body: confirmBody,
        response: {
          200: z.object({ signal: signalSchema, decision: orderDecisionSchema }),
          404: errorSchema,
          409: errorSchema,
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      if (!service) return reply.code(404).send(notConfigured);
      try {
        const r = await service.execute(req.params.id, actorOf(req.principal));
        if (!r) return reply.code(404).send({ error: 'not_found', message: `no signal ${req.params.id}` });
        return r;
      } catch (err) {
        if (err instanceof SignalNotExecutable) {
          return reply.code(err.status).send({ error: 'not_executable', message: err.message });
        }
        throw err;
      }
    },
  );
}
