/**
 * Strategy catalogue routes (read permission): the built-in strategies with their parameters, the stored
 * strategies with their lifecycle state, and a stored strategy's versions. Lifecycle changes live elsewhere.
 */
import { z } from 'zod';
import { listStrategies } from '../../strategy/registry.js';
import type { Store } from '../../store/store.js';
import type { ZodApp } from './context.js';
import { authErrors, errorSchema } from './schemas.js';

const paramSchema = z.object({
  name: z.string(),
  type: z.string(),
  default: z.union([z.number(), z.string(), z.boolean()]),
  min: z.number().optional(),
  max: z.number().optional(),
  values: z.array(z.string()).optional(),
  description: z.string(),
});

/** GET /api/strategies. */
export const strategyCatalogueSchema = z.object({
  builtins: z.array(z.object({ name: z.string(), description: z.string(), params: z.array(paramSchema) })),
  stored: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      kind: z.string(),
      state: z.string(),
      description: z.string().nullable(),
      versions: z.number(),
      latest: z.string().nullable(),
      updatedAt: z.number(),
    }),
  ),
});

/** One stored version without its source. */
export const strategyVersionSchema = z.object({
  ref: z.string(),
  version: z.number(),
  kind: z.string().nullable(),
  sourceHash: z.string(),
  note: z.string().nullable(),
  gate: z.unknown().nullable(),
  params: z.unknown(),
  createdAt: z.number(),
});

const strategyIdParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a strategy id: a letter, then letters, digits, _ or -'),
});

const parsed = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));

/** Registers the catalogue routes. */
export function strategyCatalogueRoutes(app: ZodApp, store: Store): void {
  app.get(
    '/api/strategies',
    {
      schema: {
        tags: ['strategies'],
        summary: 'Built-in strategies with their parameters, and the stored strategies with state and versions',
        response: { 200: strategyCatalogueSchema, ...authErrors },
      },
    },
    async () => {
      const stored = await store.strategies.list();
      const rows = await Promise.all(
        stored.map(async (s) => {
          const versions = await store.strategies.versions(s.id);
          const last = versions[versions.length - 1];
          return {
            id: s.id,
            name: s.name,
            kind: s.kind,
            state: s.state,
            description: s.description,
            versions: versions.length,
            latest: last ? `${s.id}@v${last.version}` : null,
            updatedAt: s.updated_at,
          };
        }),
      );
      return {
        builtins: listStrategies().map((d) => ({
          name: d.name,
          description: d.description,
          params: d.params.map((p) => ({
            name: p.name,
            type: p.type,
            default: p.default,
            ...(p.min !== undefined ? { min: p.min } : {}),
            ...(p.max !== undefined ? { max: p.max } : {}),
            ...(p.values !== undefined ? { values: [...p.values] } : {}),
            description: p.description,
          })),
        })),
        stored: rows,
      };
    },
  );

  app.get(
    '/api/strategies/:id/versions',
    {
      schema: {
        tags: ['strategies'],
        summary: "A stored strategy's versions, oldest first (hash, kind, gate verdict, note; not the source)",
        params: strategyIdParams,
        response: { 200: z.object({ versions: z.array(strategyVersionSchema) }), ...authErrors, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const s = await store.strategies.get(req.params.id);
      if (!s) return reply.code(404).send({ error: 'not_found', message: `no stored strategy ${req.params.id}` });
      const versions = await store.strategies.versions(s.id);
      return {
        versions: versions.map((v) => ({
          ref: `${v.strategy_id}@v${v.version}`,
          version: v.version,
          kind: v.source_kind,
          sourceHash: v.source_hash,
          note: v.note,
          gate: parsed(v.gate),
          params: parsed(v.params),
          createdAt: v.created_at,
        })),
      };
    },
  );
}
