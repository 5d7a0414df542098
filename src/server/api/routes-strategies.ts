/**
 * The promotion pipeline over the API (DEPLOY-1..4, docs/promotion.md): a stored version's lifecycle, its moves
 * (deploy to dry_run or live, promote, retire) and the promotion policy. The moves' routes need only a session:
 * the pipeline itself checks the caller's role, so a viewer's attempt is refused *and* audited with its reason.
 */
import { z } from 'zod';
import { type Actor, type Promotion, PromotionRefusedError } from '../../app/promotion.js';
import { DataError, ValidationError } from '../../core/errors.js';
import type { ZodApp } from './context.js';
import { actorOf } from './context.js';
import { authErrors, errorSchema } from './schemas.js';
import type { ApiPrincipal } from './session.js';

const refSchema = z.object({ ref: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}@v[1-9][0-9]{0,8}$/, 'ID@vN') });
const reason = z.string().min(1).max(500).optional();
const moveSchema = z.object({ ref: z.string(), from: z.string(), to: z.string() });
const refusedSchema = errorSchema.extend({ reasons: z.array(z.string()) });
const thresholdsSchema = z.object({
  minSharpe: z.number(),
  maxDrawdownPct: z.number(),
  minWinRatePct: z.number(),
  minTrades: z.number(),
});
const policySchema = z.object({
  thresholds: thresholdsSchema,
  dryRunDays: z.number(),
  tolerance: z.object({ timeMs: z.number(), priceBps: z.number(), quantityRatio: z.number(), pnl: z.number() }),
});
const moveErrors = { 404: errorSchema, 409: refusedSchema, ...authErrors } as const;

function actor(p: ApiPrincipal | undefined): Actor {
  return { name: actorOf(p), role: p?.role ?? 'none' };
}

/** The body of a 409: the refusal and its reasons. */
function refused(err: PromotionRefusedError) {
  return { error: 'refused', message: err.message, reasons: [...err.reasons] };
}

/** Registers the strategy lifecycle routes; without a pipeline (no store-backed runtime) they are not mounted. */
export function strategyRoutes(app: ZodApp, promotion: Promotion | undefined): void {
  if (promotion === undefined) return;
  app.get(
    '/api/strategies/:ref/lifecycle',
    {
      schema: {
        tags: ['strategies'],
        summary: "A stored version's lifecycle state and every transition (who, when, why)",
        params: refSchema,
        response: {
          200: z.object({
            ref: z.string(),
            state: z.string(),
            transitions: z.array(
              z.object({ from: z.string(), to: z.string(), actor: z.string(), reason: z.string(), time: z.number() }),
            ),
          }),
          404: errorSchema,
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      try {
        const transitions = await promotion.history(req.params.ref);
        return {
          ref: req.params.ref,
          state: await promotion.state(req.params.ref),
          transitions: transitions.map((t) => ({
            from: t.from,
            to: t.to,
            actor: t.actor,
            reason: t.reason,
            time: t.time,
          })),
        };
      } catch (err) {
        if (err instanceof ValidationError) return reply.code(404).send({ error: 'not_found', message: err.message });
        throw err;
      }
    },
  );
  app.post(
    '/api/strategies/:ref/gate',
    {
      schema: {
        tags: ['strategies'],
        summary:
          'The promotion gate on data the server holds (`sample` or a stored symbol): the safety gate and a ' +
          'walk-forward backtest; draft -> backtested -> gated when the thresholds hold (a refusal is audited)',
        params: refSchema,
        body: z.object({
          data: z.string().min(1).max(100).default('sample'),
          timeframe: z.string().max(10).optional(),
        }),
        response: {
          200: z.object({ ref: z.string(), state: z.string(), evaluation: z.unknown() }),
          ...moveErrors,
        },
      },
    },
    async (req, reply) => {
      try {
        return await promotion.gateOn(actor(req.principal), req.params.ref, req.body.data, req.body.timeframe);
      } catch (err) {
        if (err instanceof PromotionRefusedError) return reply.code(409).send(refused(err));
        if (err instanceof ValidationError && err.field === 'strategy') {
          return reply.code(404).send({ error: 'not_found', message: err.message });
        }
        if (err instanceof DataError) {
          const message = `body.data: ${err.message}`;
          return reply.code(400).send({ error: 'validation', message, fields: [{ field: 'body.data', message }] });
        }
        throw err;
      }
    },
  );
  app.post(
    '/api/strategies/:ref/deploy',
    {
      schema: {
        tags: ['strategies'],
        summary: 'Move a version onto a profile: dry_run (from gated) or live (from dry_run; admin, confirmLive)',
        params: refSchema,
        body: z.object({ profile: z.enum(['dry_run', 'live']), confirmLive: z.boolean().optional(), reason }),
        response: { 200: moveSchema, ...moveErrors },
      },
    },
    async (req, reply) => {
      const who = actor(req.principal);
      const b = req.body;
      try {
        return b.profile === 'dry_run'
          ? await promotion.startDryRun(who, req.params.ref, b.reason)
          : await promotion.goLive(who, req.params.ref, {
              confirm: b.confirmLive === true,
              ...(b.reason ? { reason: b.reason } : {}),
            });
      } catch (err) {
        if (err instanceof PromotionRefusedError) return reply.code(409).send(refused(err));
        if (err instanceof ValidationError) return reply.code(404).send({ error: 'not_found', message: err.message });
        throw err;
      }
    },
  );
  app.post(
    '/api/strategies/:ref/promote',
    {
      schema: {
        tags: ['strategies'],
        summary: 'Move a version to its next state (gated -> dry_run, dry_run -> live with confirmLive)',
        params: refSchema,
        body: z.object({ confirmLive: z.boolean().optional(), reason }),
        response: { 200: moveSchema, ...moveErrors },
      },
    },
    async (req, reply) => {
      try {
        return await promotion.promote(actor(req.principal), req.params.ref, {
          confirm: req.body.confirmLive === true,
          ...(req.body.reason ? { reason: req.body.reason } : {}),
        });
      } catch (err) {
        if (err instanceof PromotionRefusedError) return reply.code(409).send(refused(err));
        if (err instanceof ValidationError) return reply.code(404).send({ error: 'not_found', message: err.message });
        throw err;
      }
    },
  );
  app.post(
    '/api/strategies/:ref/retire',
    {
      schema: {
        tags: ['strategies'],
        summary: 'Retire a version (from any state)',
        params: refSchema,
        body: z.object({ reason }),
        response: { 200: moveSchema, ...moveErrors },
      },
    },
    async (req, reply) => {
      try {
        return await promotion.retire(actor(req.principal), req.params.ref, req.body.reason);
      } catch (err) {
        if (err instanceof PromotionRefusedError) return reply.code(409).send(refused(err));
        if (err instanceof ValidationError) return reply.code(404).send({ error: 'not_found', message: err.message });
        throw err;
      }
    },
  );
  app.get(
    '/api/promotion/policy',
    {
      schema: {
        tags: ['strategies'],
        summary: 'The promotion thresholds, dry-run days and divergence tolerance in force',
        response: { 200: policySchema, ...authErrors },
      },
    },
    async () => promotion.policy(),
  );
  app.patch(
    '/api/promotion/policy',
    {
      schema: {
        tags: ['strategies'],
        summary: 'Make the promotion policy stricter (admin only; a lowering is refused and audited)',
        body: z.object({
          thresholds: thresholdsSchema.partial().optional(),
          dryRunDays: z.number().optional(),
          reason: z.string().min(1).max(500),
        }),
        response: { 200: policySchema, 409: refusedSchema, ...authErrors },
      },
    },
    async (req, reply) => {
      try {
        return await promotion.setPolicy(
          actor(req.principal),
          {
            ...(req.body.thresholds ? { thresholds: req.body.thresholds } : {}),
            ...(req.body.dryRunDays !== undefined ? { dryRunDays: req.body.dryRunDays } : {}),
          },
          req.body.reason,
        );
      } catch (err) {
        if (err instanceof PromotionRefusedError) return reply.code(409).send(refused(err));
        throw err;
      }
    },
  );
}
