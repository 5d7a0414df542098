import { z } from 'zod';
import type { TrialOutcome } from '../backtest/optimizer/types.js';

const paramValue = z.union([z.number(), z.string(), z.boolean()]);

/** A job on the queue: one backtest of a strategy on data named by its content hash (never the data itself). */
export const trialJobSchema = z.strictObject({
  /** The sweep (one optimise or multi-symbol backtest run) the job belongs to. */
  sweepId: z.string().min(1),
  /** sha256 of the encoded columns (data-ref.ts); the worker fetches them once and caches them by it. */
  dataHash: z.string().regex(/^[0-9a-f]{64}$/),
  symbol: z.string().min(1),
  timeframe: z.string().min(1),
  /** A built-in (or worker-plugin) strategy name, or a stored strategy version `ID@vN`. */
  strategy: z.string().min(1),
  /**
   * With a stored version: the SHA-256 of its source. The worker reads the version from the store and refuses to
   * run it unless its source hashes to this (code reaches workers by reference, never by path or as a payload).
   */
  strategyHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  params: z.record(z.string(), paramValue),
  /** Shared run options of the backtest (cash, fees, stake ...), as `tradeforge backtest` takes them. */
  options: z.record(z.string(), z.unknown()),
  risk: z.strictObject({ config: z.unknown().optional(), defaults: z.boolean() }).optional(),
  window: z.strictObject({ from: z.number().int().min(0), to: z.number().int().min(1) }).optional(),
  /** Optimiser trial index or symbol position, for reports. */
  index: z.number().int().min(0),
});

/** A validated job payload. */
export type TrialJob = z.infer<typeof trialJobSchema>;

/** What a finished job returns (and the coordinator receives): a trial outcome that ran. */
export type TrialJobResult = Exclude<TrialOutcome, { status: 'failed' }>;

/** Attempts per job before it is reported failed (the "fails three times"). */
export const JOB_ATTEMPTS = 3;

/** The job id (BullMQ jobId and the `backtests` row id): the sweep and its n-th submission — one result per key. */
export function jobKey(sweepId: string, n: number): string {
  return `${sweepId}.${n}`;
}
