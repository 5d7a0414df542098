/** The scale-out job queue's status (`tradeforge queue status` over the API). */
import { z } from 'zod';
import type { ZodApp } from './context.js';
import { authErrors, errorSchema } from './schemas.js';

/** One queue worker: connected now, jobs done, failed attempts, jobs per minute since it started. */
export const queueWorkerSchema = z.object({
  id: z.string(),
  connected: z.boolean(),
  completed: z.number(),
  failedAttempts: z.number(),
  perMinute: z.number().nullable(),
});

/** The queue's job counts and its workers (the same figures as `tradeforge queue status`). */
export const queueStatusSchema = z.object({
  waiting: z.number(),
  active: z.number(),
  delayed: z.number(),
  failed: z.number(),
  completed: z.number(),
  workers: z.array(queueWorkerSchema),
});

/** The queue status as the API serves it. */
export type QueueStatusBody = Omit<z.infer<typeof queueStatusSchema>, 'workers'> & {
  readonly workers: readonly z.infer<typeof queueWorkerSchema>[];
};

/** Reads the queue's status (the app wires scale/status.ts over the configured Redis and prefix). */
export type QueueStatusReader = () => Promise<QueueStatusBody>;

/**
 * Registers `GET /api/queue/status` (read permission). Without a reader the route answers 404 `queue_not_configured`;
 * a queue that cannot be reached (Redis down) answers 503 `queue_unreachable` with the reason.
 */
export function queueRoutes(app: ZodApp, read: QueueStatusReader | undefined): void {
  app.get(
    '/api/queue/status',
    {
      schema: {
        tags: ['scale-out'],
        summary: 'The job queue: waiting, active, delayed, failed and completed jobs, and throughput per worker',
        response: { 200: queueStatusSchema, 404: errorSchema, 503: errorSchema, ...authErrors },
      },
    },
    async (_req, reply) => {
      if (read === undefined) {
        return reply
          .code(404)
          .send({ error: 'queue_not_configured', message: 'this server has no job queue (config queue.url)' });
      }
      try {
        const s = await read();
        return { ...s, workers: [...s.workers] };
      } catch (err) {
        return reply.code(503).send({
          error: 'queue_unreachable',
          message: `the job queue cannot be read: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    },
  );
}
