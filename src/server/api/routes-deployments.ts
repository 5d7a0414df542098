/**
 * Deployment routes (read permission): the deployments the store records (every runtime start records its
 * deployments with their strategy, venue, mode, symbols and config hash). Creating, starting and stopping a
 * deployment from the API is not offered: deployments come from the config file (docs/api.md).
 */
import { z } from 'zod';
import type { Store } from '../../store/store.js';
import type { ZodApp } from './context.js';
import { authErrors } from './schemas.js';

/** GET /api/deployments query. */
export const deploymentsQuery = z.strictObject({
  status: z.enum(['created', 'running', 'stopped', 'failed']).optional(),
});

/** One recorded deployment. */
export const deploymentSchema = z.object({
  id: z.string(),
  strategy: z.string(),
  strategyVersion: z.string().nullable(),
  venue: z.string(),
  mode: z.string(),
  symbols: z.array(z.string()),
  configHash: z.string(),
  appVersion: z.string(),
  status: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  stoppedAt: z.number().nullable(),
});

/** Registers `GET /api/deployments`. */
export function deploymentRoutes(app: ZodApp, store: Store): void {
  app.get(
    '/api/deployments',
    {
      schema: {
        tags: ['deployments'],
        summary: 'Deployments as recorded in the store (strategy, venue, mode, symbols, config hash, status)',
        querystring: deploymentsQuery,
        response: { 200: z.object({ deployments: z.array(deploymentSchema) }), ...authErrors },
      },
    },
    async (req) => ({
      deployments: (await store.deployments.list(req.query.status)).map((d) => ({
        id: d.id,
        strategy: d.strategyId,
        strategyVersion: d.strategyVersionId ?? null,
        venue: d.venue,
        mode: d.mode,
        symbols: [...d.symbols],
        configHash: d.configHash,
        appVersion: d.appVersion,
        status: d.status,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
        stoppedAt: d.stoppedAt ?? null,
      })),
    }),
  );
}
