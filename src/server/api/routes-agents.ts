/**
 * Strategy generation over the API (AUTH-6, AUTH-8, AUTH-9; docs/agents.md): start a generation and get its run id at
 * once, follow its steps live on the WebSocket's `agent` topic, read the run (attempts, outcome, stored version)
 * when it ends; and check a strategy source (gate, compiler, sandboxed smoke backtest) without an LLM.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { smokeData } from '../../app/agent-services.js';
import { type GenerationDeps, generateStrategy } from '../../authoring/agents/generate.js';
import { generationInput } from '../../authoring/agents/prompts.js';
import { validateCandidate } from '../../authoring/agents/validate.js';
import { ValidationError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import type { ZodApp } from './context.js';
import { authErrors, errorSchema } from './schemas.js';

/** A generation request: exactly one of prompt, rules or pine. */
export const generateBody = z
  .object({
    prompt: z.string().min(1).max(20_000).optional(),
    rules: z.string().min(1).max(200_000).optional(),
    pine: z.string().min(1).max(200_000).optional(),
    format: z.enum(['rules', 'ts']).optional(),
    name: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((b) => [b.prompt, b.rules, b.pine].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of prompt, rules or pine',
  });

/** A source to check. */
export const checkBody = z
  .object({ source: z.string().min(1).max(200_000), kind: z.enum(['rules', 'ts', 'pine']) })
  .strict();

const runSchema = z.object({
  id: z.string(),
  agent: z.string(),
  status: z.string(),
  input: z.unknown(),
  output: z.unknown().optional(),
  steps: z.array(z.unknown()).optional(),
  cost: z.string().optional(),
  startedAt: z.number(),
  finishedAt: z.number().optional(),
});

const notConfigured = {
  error: 'agents_not_configured',
  message: 'no LLM provider is configured (config agents.providers, docs/agents.md)',
};

/** Registers the generation, agent-run and check routes; without `agents` generation answers 404. */
export function agentRoutes(app: ZodApp, store: Store, agents?: () => Promise<GenerationDeps>): void {
  app.post(
    '/api/agents/generate',
    {
      config: { action: 'strategy.write' },
      schema: {
        tags: ['agents'],
        summary:
          'Start a strategy generation (description, rules or Pine Script); answers 202 with the run id at once. ' +
          'Its steps stream on the WebSocket `agent` topic; GET /api/agents/runs/:id gives the outcome.',
        body: generateBody,
        response: {
          202: z.object({ runId: z.string(), correlationId: z.string() }),
          404: errorSchema,
          409: errorSchema,
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      if (!agents) return reply.code(404).send(notConfigured);
      let deps: GenerationDeps;
      try {
        deps = await agents();
      } catch (err) {
        return reply
          .code(409)
          .send({ error: 'provider_config', message: err instanceof Error ? err.message : String(err) });
      }
      const b = req.body;
      // The body's schema already holds exactly one input.
      const input = generationInput(b);
      if (!input) throw new ValidationError('give exactly one of prompt, rules or pine', 'prompt');
      const correlationId = randomUUID();
      // The run id is known at its first step, which is recorded (and stored) before any provider is asked.
      const started = new Promise<string>((resolve) => {
        generateStrategy(
          {
            input,
            correlationId,
            ...(b.format ? { format: b.format } : {}),
            ...(b.name ? { name: b.name } : {}),
            onStep: (s) => resolve(s.runId),
          },
          deps,
        ).catch((err: unknown) => req.log.error({ err, correlationId }, 'strategy generation failed'));
      });
      const runId = await started;
      return reply.code(202).send({ runId, correlationId });
    },
  );

  app.get(
    '/api/agents/runs',
    {
      schema: {
        tags: ['agents'],
        summary: 'Agent runs (generations, assistant answers), newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: {
          200: z.object({
            runs: z.array(z.object({ id: z.string(), agent: z.string(), status: z.string(), startedAt: z.number() })),
          }),
          ...authErrors,
        },
      },
    },
    async (req) => ({ runs: await store.agentRuns.list(req.query.limit) }),
  );

  app.get(
    '/api/agents/runs/:id',
    {
      schema: {
        tags: ['agents'],
        summary: 'One agent run: its input, status, output (outcome, strategy version, attempts) and masked steps',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: runSchema, 404: errorSchema, ...authErrors },
      },
    },
    async (req, reply) => {
      const run = await store.agentRuns.get(req.params.id);
      if (!run) return reply.code(404).send({ error: 'not_found', message: `no agent run ${req.params.id}` });
      return run;
    },
  );

  app.post(
    '/api/strategies/versions',
    {
      config: { action: 'strategy.write' },
      schema: {
        tags: ['agents'],
        summary:
          'Store a source as a new draft version (the safety gate and the compiler first: a refusal stores nothing ' +
          'and answers 400 naming the line); the same source as the latest version adds nothing',
        body: z
          .object({
            source: z.string().min(1).max(200_000),
            kind: z.enum(['rules', 'ts', 'pine']),
            id: z.string().min(1).max(64).optional(),
          })
          .strict(),
        response: {
          200: z.object({ ref: z.string(), name: z.string(), kind: z.string(), added: z.boolean() }),
          ...authErrors,
        },
      },
    },
    async (req) => {
      const { storeStrategyVersion } = await import('../../app/strategy-catalogue.js');
      const b = req.body;
      const r = await storeStrategyVersion(store, {
        source: b.source,
        kind: b.kind,
        label: `workspace.${b.kind}`,
        ...(b.id !== undefined ? { id: b.id } : {}),
        note: 'saved from the API',
      });
      return { ref: `${r.id}@v${r.version}`, name: r.name, kind: r.kind, added: r.added };
    },
  );

  app.post(
    '/api/strategies/check',
    {
      config: { action: 'backtest.run' },
      schema: {
        tags: ['agents'],
        summary:
          'Check a strategy source: the safety gate (code), the compiler, and a smoke backtest on the bundled data ' +
          '(code in the sandbox worker, on its budgets)',
        body: checkBody,
        response: {
          200: z.union([
            z.object({
              ok: z.literal(true),
              name: z.string(),
              smoke: z.object({
                bars: z.number(),
                trades: z.number(),
                totalReturnPct: z.number().nullable(),
                finalEquity: z.number(),
              }),
            }),
            z.object({ ok: z.literal(false), stage: z.string(), problems: z.array(z.string()) }),
          ]),
          ...authErrors,
        },
      },
    },
    async (req) => {
      const v = await validateCandidate(req.body.source, req.body.kind, smokeData(), `strategy.${req.body.kind}`);
      return v.ok
        ? { ok: true as const, name: v.definition.name, smoke: v.smoke }
        : { ok: false as const, stage: v.stage, problems: v.problems };
    },
  );
}
