/**
 * Deployment routes: the deployments the store records (the config file's, recorded at every runtime start, and
 * those created over the API), and creating, starting, stopping and archiving one over the API. The request body of
 * a create is the config file's deployment schema plus its mode; the runtime's deployment control checks roles,
 * live approval, the kill switch, venues and risk, and audits every change and every refusal (docs/api.md).
 */
import type { FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deploymentConfigSchema } from '../../core/config.js';
import type { Store } from '../../store/store.js';
import { actorOf, type ZodApp } from './context.js';
import type { DeploymentInput } from '../../store/repositories/catalogue.js';
import type { ApiDeploymentControl, ApiDeploymentView, DeploymentActor, DeploymentOutcome } from './port.js';
import { authErrors, errorSchema } from './schemas.js';

/** GET /api/deployments query. */
export const deploymentsQuery = z.strictObject({
  status: z.enum(['created', 'running', 'stopped', 'failed', 'archived']).optional(),
});

/** One recorded deployment. */
export const deploymentSchema = z.object({
  id: z.string(),
  strategy: z.string(),
  strategyVersion: z.string().nullable(),
  venue: z.string(),
  mode: z.string(),
  profile: z.string().nullable(),
  symbols: z.array(z.string()),
  configHash: z.string(),
  appVersion: z.string(),
  status: z.string(),
  /** `config` (the config file) or `api` (created over the API). */
  origin: z.enum(['config', 'api']),
  createdBy: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  stoppedAt: z.number().nullable(),
});

/**
 * POST /api/deployments body: the config file's deployment (one schema for both) plus the mode, and for live money an
 * explicit confirmation. Strict: venue keys or any other unknown field are refused (keys stay in the vault).
 */
export const createDeploymentBody = deploymentConfigSchema.extend({
  mode: z.enum(['paper', 'dry_run', 'live']),
  confirmLive: z.boolean().optional(),
});

/** POST /api/deployments/:id/stop body: close the positions (`flatten: true`) or keep them. */
export const stopDeploymentBody = z.strictObject({
  flatten: z.boolean({ error: 'say whether to close the positions (true) or keep them (false)' }),
});

const idParams = z.strictObject({ id: z.string().min(1).max(64) });

const stopReportSchema = z.object({
  flatten: z.boolean(),
  cancelledOrders: z.number(),
  positionsKept: z.array(z.object({ symbol: z.string(), quantity: z.number() })),
  positionsClosed: z.array(z.object({ symbol: z.string(), quantity: z.number() })),
  protectiveStopsKept: z.number(),
});

const outcomeSchema = z.object({
  message: z.string(),
  deployment: deploymentSchema,
  stop: stopReportSchema.optional(),
});

const changeErrors = { ...authErrors, 404: errorSchema, 409: errorSchema, 501: errorSchema } as const;

function who(req: FastifyRequest): DeploymentActor {
  return { name: actorOf(req.principal), role: req.principal?.role ?? 'none' };
}

/**
 * Audits a request the schema refused (a 400 before the handler), so every refusal of a deployment change is in
 * the audit log with its user, like the refusals the control decides.
 */
function auditInvalid(store: Store, action: string) {
  return async (req: FastifyRequest, _reply: unknown, err: Error) => {
    if (!req.principal || !hasZodFastifySchemaValidationErrors(err) || !store.audit.canAppend) return;
    const id = (req.params as { id?: unknown } | undefined)?.id ?? (req.body as { id?: unknown } | undefined)?.id;
    await store.audit
      .append({
        actor: actorOf(req.principal),
        action: `deployment.${action}.refused`,
        subject: `deployment:${typeof id === 'string' ? id : '?'}`,
        details: { error: 'validation', issues: err.validation.map((v) => `${v.instancePath} ${v.message ?? ''}`) },
        time: Date.now(),
      })
      .catch(() => undefined);
  };
}

/** The API view of a recorded deployment. */
export function deploymentView(d: DeploymentInput): ApiDeploymentView {
  return {
    id: d.id,
    strategy: d.strategyId,
    strategyVersion: d.strategyVersionId ?? null,
    venue: d.venue,
    mode: d.mode,
    profile: d.profile ?? null,
    symbols: [...d.symbols],
    configHash: d.configHash,
    appVersion: d.appVersion,
    status: d.status,
    origin: d.origin ?? 'config',
    createdBy: d.createdBy ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    stoppedAt: d.stoppedAt ?? null,
  };
}

/** Registers `GET /api/deployments` and, with a runtime's deployment control, the routes that change them. */
export function deploymentRoutes(app: ZodApp, store: Store, control: ApiDeploymentControl | undefined): void {
  app.get(
    '/api/deployments',
    {
      schema: {
        tags: ['deployments'],
        summary: 'Deployments as recorded in the store (strategy, venue, mode, symbols, origin, status)',
        querystring: deploymentsQuery,
        response: { 200: z.object({ deployments: z.array(deploymentSchema) }), ...authErrors },
      },
    },
    async (req) => ({ deployments: (await store.deployments.list(req.query.status)).map(deploymentView) }),
  );

  /** The body of a control outcome: the deployment (and stop report), or the refusal's code and field. */
  const body = (out: DeploymentOutcome) =>
    out.ok
      ? { message: out.message, deployment: out.deployment, ...(out.stop ? { stop: out.stop } : {}) }
      : {
          error: out.error,
          message: out.message,
          ...(out.field ? { fields: [{ field: out.field, message: out.message.replace(`${out.field}: `, '') }] } : {}),
        };
  const status = <T extends 200 | 201>(out: DeploymentOutcome, ok: T): T | 400 | 403 | 404 | 409 =>
    out.ok ? ok : out.status;
  const off = { error: 'not_available', message: 'deployments are changed only through a running runtime' };

  app.post(
    '/api/deployments',
    {
      onError: auditInvalid(store, 'create'),
      schema: {
        tags: ['deployments'],
        summary: 'Create a deployment (admin): the config file schema plus mode; created stopped, start it after',
        body: createDeploymentBody,
        response: { 201: outcomeSchema, ...changeErrors },
      },
    },
    async (req, reply) => {
      if (!control) return reply.code(501).send(off);
      const { mode, confirmLive, ...spec } = req.body;
      const out = await control.create({ spec, mode, ...(confirmLive !== undefined ? { confirmLive } : {}) }, who(req));
      return reply.code(status(out, 201)).send(body(out));
    },
  );
  app.post(
    '/api/deployments/:id/start',
    {
      onError: auditInvalid(store, 'start'),
      schema: {
        tags: ['deployments'],
        summary: 'Start a created or stopped deployment (refused while the kill switch is engaged)',
        params: idParams,
        response: { 200: outcomeSchema, ...changeErrors },
      },
    },
    async (req, reply) => {
      if (!control) return reply.code(501).send(off);
      const out = await control.start(req.params.id, who(req));
      return reply.code(status(out, 200)).send(body(out));
    },
  );
  app.post(
    '/api/deployments/:id/stop',
    {
      onError: auditInvalid(store, 'stop'),
      schema: {
        tags: ['deployments'],
        summary:
          'Stop a deployment: resting orders cancelled; positions closed (flatten: true) or kept with their stops',
        params: idParams,
        body: stopDeploymentBody,
        response: { 200: outcomeSchema, ...changeErrors },
      },
    },
    async (req, reply) => {
      if (!control) return reply.code(501).send(off);
      const out = await control.stop(req.params.id, { flatten: req.body.flatten }, who(req));
      return reply.code(status(out, 200)).send(body(out));
    },
  );
  app.delete(
    '/api/deployments/:id',
    {
      onError: auditInvalid(store, 'archive'),
      schema: {
        tags: ['deployments'],
        summary: 'Archive a stopped deployment created over the API (its records stay; it never starts again)',
        params: idParams,
        response: { 200: outcomeSchema, ...changeErrors },
      },
    },
    async (req, reply) => {
      if (!control) return reply.code(501).send(off);
      const out = await control.archive(req.params.id, who(req));
      return reply.code(status(out, 200)).send(body(out));
    },
  );
}
