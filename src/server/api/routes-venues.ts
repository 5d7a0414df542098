/**
 * Venue routes: the venues the deployments use, and a connection test (settings' "test connection"): one
 * authenticated read (balances) with its latency, or the venue's error in one line. Nothing is placed.
 */
import { z } from 'zod';
import type { ZodApp } from './context.js';
import { authErrors, errorSchema } from './schemas.js';

/** One venue a deployment uses. */
export interface ApiVenue {
  id: string;
  type: string;
  /** True when orders move real money. */
  real: boolean;
}

/** The outcome of a connection test. */
export interface ApiVenueTest {
  ok: boolean;
  message: string;
  latencyMs: number;
}

/** What the API needs of the runtime's venues; the app implements it (`app/api-venues.ts`). */
export interface ApiVenues {
  list(): ApiVenue[];
  /** Tests one venue's connection and keys; undefined for an unknown id. */
  test(id: string): Promise<ApiVenueTest | undefined>;
}

const venueSchema = z.object({ id: z.string(), type: z.string(), real: z.boolean() });
const venueParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
});
const off = { error: 'not_available', message: 'this server has no venues' };

/** Registers the venue routes; without venues they answer 501. */
export function venueRoutes(app: ZodApp, venues: ApiVenues | undefined): void {
  app.get(
    '/api/venues',
    {
      schema: {
        tags: ['settings'],
        summary: 'Venues the deployments use (id, type, real money or not)',
        response: { 200: z.object({ venues: z.array(venueSchema) }), ...authErrors, 501: errorSchema },
      },
    },
    async (_req, reply) => (venues ? { venues: venues.list() } : reply.code(501).send(off)),
  );

  app.post(
    '/api/venues/:id/test',
    {
      config: { action: 'secrets.write' },
      schema: {
        tags: ['settings'],
        summary: "Test a venue's connection and API keys: one balance read, its latency or the venue's error",
        params: venueParams,
        response: {
          200: z.object({ ok: z.boolean(), message: z.string(), latencyMs: z.number() }),
          ...authErrors,
          404: errorSchema,
          501: errorSchema,
        },
      },
    },
    async (req, reply) => {
      if (!venues) return reply.code(501).send(off);
      const r = await venues.test(req.params.id);
      return r ?? reply.code(404).send({ error: 'not_found', message: `no venue ${req.params.id} in this runtime` });
    },
  );
}
