/** Backtest routes: start a run (progress on the `backtest` topic), list stored runs, read one, download its report. */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { TIMEFRAMES } from '../../core/timeframe.js';
import type { ApiBacktests } from './backtest-port.js';
import { actorOf, type ZodApp } from './context.js';
import { authErrors, errorSchema } from './schemas.js';

const epochMs = z.number().int().min(0);

/** POST /api/backtests body. */
export const backtestBody = z.strictObject({
  strategy: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z][A-Za-z0-9_.-]*(@v[1-9][0-9]*)?$/, 'a built-in strategy name or a stored version ID@vN'),
  data: z.string().min(1).max(100).optional(),
  timeframe: z.enum(TIMEFRAMES).optional(),
  params: z.record(z.string().max(64), z.union([z.number(), z.string().max(200), z.boolean()])).optional(),
  cash: z.number().positive().optional(),
  from: epochMs.optional(),
  to: epochMs.optional(),
});

/** A job's state. */
export const backtestJobSchema = z.object({
  job: z.string(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  phase: z.string(),
  progress: z.number(),
  strategy: z.string(),
  startedAt: z.number(),
  backtestId: z.string().optional(),
  error: z.string().optional(),
  field: z.string().optional(),
});

const summarySchema = z.object({
  id: z.string(),
  strategy: z.string().nullable(),
  status: z.string(),
  kind: z.string(),
  data: z.string().nullable(),
  metrics: z.record(z.string(), z.unknown()),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
});

/** One stored run with its curve and trades. */
export const backtestRunSchema = z.object({
  id: z.string(),
  strategy: z.string().nullable(),
  status: z.string(),
  config: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  fingerprint: z.string().nullable(),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
  equity: z.object({ time: z.array(z.number()), value: z.array(z.number()) }),
  trades: z.array(z.record(z.string(), z.unknown())),
  tradeCount: z.number(),
});

const idParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
});

const noBacktests = { error: 'not_available', message: 'this server runs no backtests' };

function bad(reply: FastifyReply, where: 'body' | 'path', err: ValidationError) {
  const field = `${where}.${err.field ?? (where === 'path' ? 'id' : 'strategy')}`;
  return reply
    .code(400)
    .send({ error: 'validation', message: `${field}: ${err.message}`, fields: [{ field, message: err.message }] });
}

/** Registers the backtest routes; without a backtest service they answer 501. */
export function backtestRoutes(app: ZodApp, bt: ApiBacktests | undefined): void {
  app.post(
    '/api/backtests',
    {
      config: { action: 'backtest.run' },
      schema: {
        tags: ['backtests'],
        summary: 'Start a backtest (built-in strategy or stored version, on the sample or a stored symbol)',
        description:
          'Answers 202 with the job; progress arrives on the WebSocket topic "backtest" and at GET /api/backtests/jobs/:id.',
        body: backtestBody,
        response: { 202: backtestJobSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!bt) return reply.code(501).send(noBacktests);
      try {
        return reply.code(202).send(await bt.start(req.body, actorOf(req.principal)));
      } catch (err) {
        if (err instanceof ValidationError) return bad(reply, 'body', err);
        throw err;
      }
    },
  );

  app.get(
    '/api/backtests/jobs',
    {
      schema: {
        tags: ['backtests'],
        summary: 'Backtest jobs of this runtime, newest first',
        response: { 200: z.object({ jobs: z.array(backtestJobSchema) }), ...authErrors, 501: errorSchema },
      },
    },
    async (_req, reply) => (bt ? { jobs: bt.jobs() } : reply.code(501).send(noBacktests)),
  );

  app.get(
    '/api/backtests/jobs/:id',
    {
      schema: {
        tags: ['backtests'],
        summary: "A job's phase and progress (0..1); the stored run's id once done",
        params: idParams,
        response: { 200: backtestJobSchema, ...authErrors, 404: errorSchema, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!bt) return reply.code(501).send(noBacktests);
      const job = bt.job(req.params.id);
      return job ?? reply.code(404).send({ error: 'not_found', message: `no backtest job ${req.params.id}` });
    },
  );

  app.get(
    '/api/backtests',
    {
      schema: {
        tags: ['backtests'],
        summary: 'Stored backtest runs, newest first',
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          strategy: z.string().max(100).optional(),
        }),
        response: { 200: z.object({ runs: z.array(summarySchema) }), ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) =>
      bt ? { runs: await bt.list(req.query.limit, req.query.strategy) } : reply.code(501).send(noBacktests),
  );

  app.get(
    '/api/backtests/:id',
    {
      schema: {
        tags: ['backtests'],
        summary: 'One stored run: settings, metrics, equity curve and trades',
        params: idParams,
        querystring: z.strictObject({ trades: z.coerce.number().int().min(0).max(10_000).default(500) }),
        response: { 200: backtestRunSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!bt) return reply.code(501).send(noBacktests);
      try {
        return await bt.get(req.params.id, req.query.trades);
      } catch (err) {
        if (err instanceof ValidationError) return bad(reply, 'path', err);
        throw err;
      }
    },
  );

  app.get(
    '/api/backtests/:id/report',
    {
      schema: {
        tags: ['backtests'],
        summary: "The run's full result file (JSON: config, metrics, trades, fills, equity, risk events)",
        params: idParams,
        response: { 200: z.string(), ...authErrors, 404: errorSchema, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!bt) return reply.code(501).send(noBacktests);
      try {
        const text = await bt.report(req.params.id);
        if (text === undefined) {
          return reply.code(404).send({ error: 'not_found', message: `backtest ${req.params.id} has no result file` });
        }
        return reply
          .type('application/json; charset=utf-8')
          .header('content-disposition', `attachment; filename="${req.params.id}.json"`)
          .send(text);
      } catch (err) {
        if (err instanceof ValidationError) return bad(reply, 'path', err);
        throw err;
      }
    },
  );
}
