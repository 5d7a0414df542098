/** Portfolio routes (UI-3): the equity curve's drawdown, Sharpe and max drawdown, and the allocation. */
import { z } from 'zod';
import type { ApiContext, ZodApp } from './context.js';
import { allocation, equityFigures } from './portfolio.js';
import { authErrors } from './schemas.js';

const exposureRow = z.object({
  key: z.string(),
  long: z.number(),
  short: z.number(),
  gross: z.number(),
  net: z.number(),
  /** gross / equity; null without positive equity. */
  grossShare: z.number().nullable(),
});

/** `GET /api/portfolio`'s answer. */
export const portfolioSchema = z.object({
  equity: z.number(),
  sharpe: z.number().nullable(),
  maxDrawdownPct: z.number(),
  maxDrawdownAbs: z.number(),
  returnPct: z.number().nullable(),
  pointsPerYear: z.number(),
  curve: z.array(z.object({ time: z.number(), equity: z.number(), drawdownPct: z.number() })),
  allocation: z.object({
    total: exposureRow,
    bySymbol: z.array(exposureRow),
    byStrategy: z.array(exposureRow),
    byVenue: z.array(exposureRow),
  }),
});

const nullIfNaN = <T extends { grossShare: number }>(r: T) => ({
  ...r,
  grossShare: Number.isFinite(r.grossShare) ? r.grossShare : null,
});

/** Registers `GET /api/portfolio`. */
export function portfolioRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get(
    '/api/portfolio',
    {
      schema: {
        tags: ['history'],
        summary:
          'Equity curve with drawdown, Sharpe and max drawdown, and the allocation by symbol, strategy and venue',
        response: { 200: portfolioSchema, ...authErrors },
      },
    },
    async () => {
      const [points, positions, balance] = await Promise.all([
        ctx.port.equity(),
        ctx.port.control.positions(),
        ctx.port.control.balance(),
      ]);
      const f = equityFigures(points);
      const a = allocation(positions, balance.equity);
      return {
        equity: balance.equity,
        sharpe: f.sharpe,
        maxDrawdownPct: f.maxDrawdownPct,
        maxDrawdownAbs: f.maxDrawdownAbs,
        returnPct: f.returnPct,
        pointsPerYear: f.pointsPerYear,
        curve: points.map((p, i) => ({ time: p.time, equity: p.equity, drawdownPct: f.drawdown[i].drawdownPct })),
        allocation: {
          total: nullIfNaN(a.total),
          bySymbol: a.bySymbol.map(nullIfNaN),
          byStrategy: a.byStrategy.map(nullIfNaN),
          byVenue: a.byVenue.map(nullIfNaN),
        },
      };
    },
  );
}
