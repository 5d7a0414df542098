/** Market routes: traded symbols, candles with indicator overlays, and the order book (read permission). */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { TIMEFRAMES } from '../../core/timeframe.js';
import type { ZodApp } from './context.js';
import type { ApiMarketData } from './market-port.js';
import { authErrors, errorSchema } from './schemas.js';

const symbolField = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9._:/-]+$/, 'letters, digits and . _ : / - only');

/** GET /api/market/candles query. */
export const candlesQuery = z.strictObject({
  symbol: symbolField,
  timeframe: z.enum(TIMEFRAMES).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
  /** Indicator specs separated by `;` (a spec keeps its own `,`): `sma:20;bbands:20,2`. */
  indicators: z.string().max(200).optional(),
});

/** GET /api/market/orderbook query. */
export const orderBookQuery = z.strictObject({
  symbol: symbolField,
  depth: z.coerce.number().int().min(1).max(100).default(20),
});

const candleSchema = z.object({
  time: z.number(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
});

/** Candles with overlays. */
export const candlesSchema = z.object({
  symbol: z.string(),
  timeframe: z.string(),
  candles: z.array(candleSchema),
  overlays: z.array(z.object({ name: z.string(), values: z.array(z.number().nullable()) })),
});

const levelSchema = z.object({ price: z.number(), quantity: z.number() });

/** An order book with its spread. */
export const orderBookSchema = z.object({
  symbol: z.string(),
  time: z.number(),
  bids: z.array(levelSchema),
  asks: z.array(levelSchema),
  /** Best ask minus best bid; null when a side is empty. */
  spread: z.number().nullable(),
});

const marketOff = { error: 'not_available', message: 'this runtime serves no market data' };

/** A ValidationError of the market port as a field-level 400 on the query. */
function badQuery(reply: FastifyReply, err: ValidationError) {
  const field = `query.${err.field ?? 'symbol'}`;
  return reply
    .code(400)
    .send({ error: 'validation', message: `${field}: ${err.message}`, fields: [{ field, message: err.message }] });
}

/**
 * Indicator specs of the query: `;` separates specs (a spec's own parameters use `,`, e.g. `bbands:20,2;sma:50`).
 */
export function indicatorList(text: string | undefined): string[] {
  return (text ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Registers the market routes; without market data they answer 501. */
export function marketRoutes(app: ZodApp, market: ApiMarketData | undefined): void {
  app.get(
    '/api/market/symbols',
    {
      schema: {
        tags: ['market'],
        summary: 'Symbols the deployments trade, with the timeframe of their bars',
        response: {
          200: z.object({
            symbols: z.array(z.object({ symbol: z.string(), deployment: z.string(), timeframe: z.string() })),
          }),
          ...authErrors,
          501: errorSchema,
        },
      },
    },
    async (_req, reply) => (market ? { symbols: market.symbols() } : reply.code(501).send(marketOff)),
  );

  app.get(
    '/api/market/candles',
    {
      schema: {
        tags: ['market'],
        summary: 'The latest candles of a symbol (timeframe: the bars own or a larger one), with indicator overlays',
        description:
          'indicators: specs separated by ";", e.g. "sma:20;bbands:20,2". Overlays are computed over all the bars held, then cut to the candles returned.',
        querystring: candlesQuery,
        response: { 200: candlesSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!market) return reply.code(501).send(marketOff);
      try {
        return market.candles({
          symbol: req.query.symbol,
          ...(req.query.timeframe ? { timeframe: req.query.timeframe } : {}),
          limit: req.query.limit,
          indicators: indicatorList(req.query.indicators),
        });
      } catch (err) {
        if (err instanceof ValidationError) return badQuery(reply, err);
        throw err;
      }
    },
  );

  app.get(
    '/api/market/orderbook',
    {
      schema: {
        tags: ['market'],
        summary: "The venue's order book of a symbol, best levels first, with the spread",
        querystring: orderBookQuery,
        response: { 200: orderBookSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!market) return reply.code(501).send(marketOff);
      try {
        const book = await market.orderBook(req.query.symbol, req.query.depth);
        const bid = book.bids[0]?.price;
        const ask = book.asks[0]?.price;
        return { ...book, spread: bid !== undefined && ask !== undefined ? ask - bid : null };
      } catch (err) {
        if (err instanceof ValidationError) return badQuery(reply, err);
        throw err;
      }
    },
  );
}
