/** zod request and response schemas of the API; the same objects validate requests and produce /api/docs. */
import { z } from 'zod';
import { isTimeZone } from './pnl.js';
import { STREAM_TOPICS } from './port.js';

/** Every error body: a code, a message, and per-field problems for a 400. */
export const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** Common error responses of an authenticated route. */
export const authErrors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema } as const;

const role = z.enum(['admin', 'viewer']);

/** A user as the API shows it. */
export const publicUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  role,
  isOwner: z.boolean(),
  totpEnabled: z.boolean(),
});

/** POST /api/auth/login body. */
export const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  totp: z
    .string()
    .regex(/^\d{6}$/, 'must be 6 digits')
    .optional(),
  /** Also return the access and refresh tokens (for scripts using `Authorization: Bearer`). */
  issueTokens: z.boolean().optional(),
});

/** A successful login or refresh. */
export const sessionSchema = z.object({
  user: publicUserSchema,
  csrfToken: z.string(),
  accessExpiresAt: z.number(),
  tokens: z.object({ accessToken: z.string(), refreshToken: z.string() }).optional(),
});

/** GET /api/auth/me. */
export const meSchema = z.object({
  user: z.object({ id: z.string(), username: z.string(), role, via: z.enum(['cookie', 'bearer', 'cli-token']) }),
  csrfToken: z.string().nullable(),
  permissions: z.array(z.string()),
});

/** Result of a control action (kill, recover, entries, force exit). */
export const controlResultSchema = z.object({
  ok: z.boolean(),
  message: z.string(),
  detail: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
});

/** Kill and recover need an explicit confirmation so a stray request cannot flatten the book. */
export const confirmBody = z.strictObject({ confirm: z.literal(true, { error: 'must be true to confirm' }) });

/** POST /api/control/pause and /resume body: a deployment id, or `all` (the default). */
export const pauseBody = z.strictObject({
  target: z.string().min(1).max(200).optional(),
  confirm: z.literal(true, { error: 'must be true to confirm' }),
});

/** POST /api/control/force-exit body. */
export const forceExitBody = z.strictObject({
  target: z.string().min(1).max(200),
  confirm: z.literal(true, { error: 'must be true to confirm' }),
});

/** One open position. */
export const positionSchema = z.object({
  id: z.string(),
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  quantity: z.number(),
  entryPrice: z.number(),
  markPrice: z.number().optional(),
  unrealisedPnl: z.number().optional(),
  strategyId: z.string().optional(),
  venue: z.string().optional(),
  /** Exact decimal text of the booked position (paper and live; docs/money.md). */
  exact: z.object({ quantity: z.string(), entryPrice: z.string() }).optional(),
});

/** One order (open orders from the runtime, history from the store). */
export const orderSchema = z.object({
  id: z.string(),
  clientOrderId: z.string(),
  deployment: z.string().optional(),
  strategyId: z.string().optional(),
  symbol: z.string(),
  side: z.string(),
  type: z.string(),
  quantity: z.number(),
  price: z.number().optional(),
  stopPrice: z.number().optional(),
  status: z.string(),
  filledQuantity: z.number().optional(),
  averageFillPrice: z.number().optional(),
  createdAt: z.number().optional(),
  reason: z.string().optional(),
  tag: z.string().optional(),
  /** The order's exact decimals as decimal text (paper and live; docs/money.md), beside the JSON numbers. */
  exact: z
    .object({
      quantity: z.string(),
      price: z.string().optional(),
      stopPrice: z.string().optional(),
      filledQuantity: z.string().optional(),
      averageFillPrice: z.string().optional(),
      fees: z.string().optional(),
    })
    .optional(),
});

/** GET /api/orders query. */
export const ordersQuery = z.strictObject({
  status: z.enum(['open', 'all']).default('open'),
  strategy: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});

/** POST /api/orders body (and /api/orders/preview). */
export const manualOrderBody = z
  .strictObject({
    deployment: z.string().max(100).optional(),
    symbol: z.string().min(1).max(40),
    side: z.enum(['buy', 'sell']),
    type: z.enum(['market', 'limit', 'stop']),
    quantity: z.number().positive(),
    price: z.number().positive().optional(),
    stopPrice: z.number().positive().optional(),
    confirm: z.boolean().optional(),
  })
  .superRefine((o, ctx) => {
    if (o.type === 'limit' && o.price === undefined)
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'required for a limit order' });
    if (o.type === 'stop' && o.stopPrice === undefined)
      ctx.addIssue({ code: 'custom', path: ['stopPrice'], message: 'required for a stop order' });
  });

/** The risk engine's decision on a manual order. */
export const orderDecisionSchema = z.object({
  accepted: z.boolean(),
  code: z.string().optional(),
  detail: z.string().optional(),
  orderId: z.string().optional(),
  estimatedCost: z.number().optional(),
});

/** Balances. */
export const balanceSchema = z.object({
  currency: z.string(),
  equity: z.number(),
  assets: z.array(z.object({ asset: z.string(), free: z.number(), used: z.number(), total: z.number() })),
});

const epochMs = z.coerce.number().int().min(0);

/** GET /api/trades query. */
export const tradesQuery = z.strictObject({
  strategy: z.string().max(100).optional(),
  symbol: z.string().max(40).optional(),
  from: epochMs.optional(),
  to: epochMs.optional(),
});

/** One closed trade. */
export const tradeSchema = z.object({
  strategyId: z.string(),
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  entryTime: z.number(),
  entryPrice: z.number(),
  exitTime: z.number(),
  exitPrice: z.number(),
  quantity: z.number(),
  fees: z.number(),
  pnl: z.number(),
  pnlPct: z.number(),
  exitReason: z.string(),
  entryTag: z.string().optional(),
  /** The trade's exact decimals as decimal text (the store's text; docs/money.md), beside the JSON numbers. */
  exact: z
    .object({
      entryPrice: z.string(),
      exitPrice: z.string(),
      quantity: z.string(),
      fees: z.string(),
      pnl: z.string(),
    })
    .optional(),
});

/** GET /api/pnl query. */
export const pnlQuery = z.strictObject({
  period: z.enum(['day', 'week', 'month']).default('day'),
  /** IANA time zone whose midnight starts a day (default UTC). */
  tz: z
    .string()
    .max(64)
    .default('UTC')
    .refine((tz) => isTimeZone(tz), { message: 'unknown time zone (an IANA name such as Europe/Berlin, or UTC)' }),
  strategy: z.string().max(100).optional(),
});

/** P&L by period (days in `tz`; ISO weeks start on Monday). */
export const pnlSchema = z.object({
  period: z.enum(['day', 'week', 'month']),
  tz: z.string(),
  rows: z.array(
    z.object({
      start: z.string(),
      pnl: z.number(),
      trades: z.number(),
      fees: z.number(),
      exact: z.object({ pnl: z.string(), fees: z.string() }).optional(),
    }),
  ),
});

/** The equity curve. */
export const equitySchema = z.object({ points: z.array(z.object({ time: z.number(), equity: z.number() })) });

/** Risk state. */
export const riskStateSchema = z.object({
  killSwitchActive: z.boolean(),
  entriesEnabled: z.boolean(),
  breakers: z.array(
    z.object({
      deployment: z.string(),
      breaker: z.string(),
      symbol: z.string().optional(),
      until: z.number().optional(),
      detail: z.string().optional(),
    }),
  ),
  checks: z.array(
    z.object({
      deployment: z.string(),
      checked: z.number(),
      accepted: z.number(),
      rejected: z.number(),
      byCode: z.record(z.string(), z.number()),
    }),
  ),
  limits: z.record(z.string(), z.number()),
});

/** GET /api/audit query. */
export const auditQuery = z.strictObject({
  subject: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
  from: epochMs.optional(),
  to: epochMs.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** One audit record. */
export const auditRecordSchema = z.object({
  seq: z.number(),
  time: z.number(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  details: z.unknown(),
  hash: z.string(),
});

/** Path parameter of the order story. */
export const orderIdParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only'),
});

/** Several orders match an id prefix: the caller picks one. */
export const orderMatchesSchema = z.object({
  error: z.literal('ambiguous'),
  message: z.string(),
  matches: z.array(
    z.object({
      clientOrderId: z.string(),
      venueOrderId: z.string().optional(),
      symbol: z.string(),
      side: z.string(),
      status: z.string(),
      createdAt: z.number(),
    }),
  ),
});

/** The whole story of one order (STORE-4). */
export const orderStorySchema = z.object({
  orderId: z.string(),
  correlationId: z.string().optional(),
  order: z.record(z.string(), z.unknown()).optional(),
  signal: z.record(z.string(), z.unknown()).optional(),
  timeline: z.array(
    z.object({
      seq: z.number(),
      time: z.number(),
      actor: z.string(),
      action: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
  fills: z.array(z.record(z.string(), z.unknown())),
  riskEvents: z.array(z.record(z.string(), z.unknown())),
});

/** Secret names only: values never leave the vault through the API. */
export const secretListSchema = z.object({
  vault: z.enum(['unlocked', 'locked']),
  secrets: z.array(z.object({ name: z.string(), updatedAt: z.number().nullable() })),
});

/** PUT /api/secrets/:name body. */
export const secretPutBody = z.strictObject({ value: z.string().min(1).max(8192) });

/** Path parameter naming a secret. */
export const secretNameParams = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, . _ - only'),
});

/** POST /api/users body. */
export const createUserBody = z.strictObject({
  username: z.string().min(3).max(64),
  password: z.string().min(1).max(1024),
  role,
});

/** GET /api/version. */
export const versionSchema = z.object({
  version: z.string(),
  gitSha: z.string().nullable(),
  configHash: z.string().nullable(),
});

/** The WebSocket client's messages. */
export const streamClientMessage = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('subscribe'),
    topics: z.array(z.enum(STREAM_TOPICS)).min(1),
    resume: z.string().max(100).optional(),
  }),
  z.strictObject({ op: z.literal('unsubscribe'), topics: z.array(z.enum(STREAM_TOPICS)).min(1) }),
  z.strictObject({ op: z.literal('ping') }),
]);
