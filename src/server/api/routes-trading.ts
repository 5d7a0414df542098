/** Trading and control routes: status, positions, orders, balances, trades, P&L, equity, risk, kill switch. */
import { z } from 'zod';
import type { Order } from '../../core/order.js';
import { actorOf, type ApiContext, type ZodApp } from './context.js';
import { pnlByPeriod, tradesCsv } from './pnl.js';
import {
  authErrors,
  balanceSchema,
  confirmBody,
  controlResultSchema,
  equitySchema,
  errorSchema,
  forceExitBody,
  pauseBody,
  manualOrderBody,
  orderDecisionSchema,
  orderIdParams,
  orderSchema,
  ordersQuery,
  pnlQuery,
  pnlSchema,
  positionSchema,
  riskStateSchema,
  tradeSchema,
  tradesQuery,
} from './schemas.js';

const notAvailable = (place: boolean) => ({
  error: 'not_available',
  message: place ? 'this runtime does not accept manual orders' : 'this runtime cannot preview orders',
});

function historyOrder(o: Order): z.infer<typeof orderSchema> {
  return {
    id: o.id,
    clientOrderId: o.clientOrderId,
    strategyId: o.strategyId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    ...(o.price !== undefined ? { price: o.price } : {}),
    ...(o.stopPrice !== undefined ? { stopPrice: o.stopPrice } : {}),
    status: o.status,
    filledQuantity: o.filledQuantity,
    averageFillPrice: o.averageFillPrice,
    createdAt: o.createdAt,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.tag !== undefined ? { tag: o.tag } : {}),
    ...(o.exact !== undefined ? { exact: o.exact } : {}),
  };
}

/** Registers the trading and control routes. */
export function tradingRoutes(app: ZodApp, ctx: ApiContext): void {
  const { port, store } = ctx;

  app.get(
    '/api/status',
    {
      schema: {
        tags: ['trading'],
        summary: 'Runtime status: deployments, positions, open orders, recent fills, breakers, heartbeat',
        response: { 200: z.record(z.string(), z.unknown()), ...authErrors },
      },
    },
    () => port.status(),
  );

  app.get(
    '/api/positions',
    {
      schema: {
        tags: ['trading'],
        summary: 'Open positions with mark price and unrealised P&L',
        response: { 200: z.object({ positions: z.array(positionSchema) }), ...authErrors },
      },
    },
    async () => ({ positions: await port.control.positions() }),
  );

  app.get(
    '/api/orders',
    {
      schema: {
        tags: ['trading'],
        summary: 'Open orders (live) or the order history (store)',
        querystring: ordersQuery,
        response: { 200: z.object({ orders: z.array(orderSchema) }), ...authErrors },
      },
    },
    async (req) => {
      if (req.query.status === 'open') {
        const open = await port.openOrders();
        return { orders: open.filter((o) => !req.query.strategy || o.deployment === req.query.strategy) };
      }
      const list = await store.orders.list({
        limit: req.query.limit,
        ...(req.query.strategy ? { strategyId: req.query.strategy } : {}),
      });
      return { orders: list.map(historyOrder) };
    },
  );

  /** Preview (place false) or place a manual order; placing needs confirm: true. */
  const submit = async (body: z.infer<typeof manualOrderBody>, actor: string, place: boolean) => {
    const run = place ? port.placeOrder?.bind(port) : port.previewOrder?.bind(port);
    if (!run) return { status: 501 as const, body: notAvailable(place) };
    if (place && body.confirm !== true) {
      const message = 'must be true to place an order';
      return {
        status: 400 as const,
        body: {
          error: 'validation',
          message: `body.confirm: ${message}`,
          fields: [{ field: 'body.confirm', message }],
        },
      };
    }
    const { confirm: _confirm, ...order } = body;
    return { status: 200 as const, body: await run(order, actor) };
  };

  app.post(
    '/api/orders/preview',
    {
      config: { action: 'trade' },
      schema: {
        tags: ['trading'],
        summary: "The risk engine's decision on an order, without placing it",
        body: manualOrderBody,
        response: { 200: orderDecisionSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      const r = await submit(req.body, actorOf(req.principal), false);
      return reply.code(r.status).send(r.body);
    },
  );

  app.post(
    '/api/orders',
    {
      config: { action: 'trade' },
      schema: {
        tags: ['trading'],
        summary: 'Place an order through the risk engine (confirm: true); a refusal names the rule',
        body: manualOrderBody,
        response: { 200: orderDecisionSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      const r = await submit(req.body, actorOf(req.principal), true);
      return reply.code(r.status).send(r.body);
    },
  );

  app.delete(
    '/api/orders/:id',
    {
      config: { action: 'trade' },
      schema: {
        tags: ['trading'],
        summary: 'Cancel an open order',
        params: orderIdParams,
        response: { 200: controlResultSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!port.cancelOrder) {
        return reply.code(501).send({ error: 'not_available', message: 'this runtime cannot cancel orders' });
      }
      return port.cancelOrder(req.params.id, actorOf(req.principal));
    },
  );

  app.get(
    '/api/balances',
    {
      schema: {
        tags: ['trading'],
        summary: 'Equity and venue balances',
        response: { 200: balanceSchema, ...authErrors },
      },
    },
    () => port.control.balance(),
  );

  const trades = async (q: z.infer<typeof tradesQuery>) => {
    const list = await store.trades.list({
      ...(q.strategy ? { strategyId: q.strategy } : {}),
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
    });
    return q.symbol ? list.filter((t) => t.symbol === q.symbol) : list;
  };

  app.get(
    '/api/trades',
    {
      schema: {
        tags: ['history'],
        summary: 'Closed trades, filtered by strategy, symbol and exit time',
        querystring: tradesQuery,
        response: { 200: z.object({ trades: z.array(tradeSchema) }), ...authErrors },
      },
    },
    async (req) => ({ trades: await trades(req.query) }),
  );

  app.get(
    '/api/trades.csv',
    {
      schema: {
        tags: ['history'],
        summary: 'Closed trades as CSV (same filters)',
        querystring: tradesQuery,
        produces: ['text/csv'],
        response: { 200: z.string(), ...authErrors },
      },
    },
    async (req, reply) => {
      const csv = tradesCsv(await trades(req.query));
      reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="trades.csv"');
      return csv;
    },
  );

  app.get(
    '/api/pnl',
    {
      schema: {
        tags: ['history'],
        summary: 'Realised P&L by day, week (ISO, from Monday) or month; days start at midnight in tz (default UTC)',
        querystring: pnlQuery,
        response: { 200: pnlSchema, ...authErrors },
      },
    },
    async (req) => {
      const { period, tz, strategy } = req.query;
      const list = await store.trades.list(strategy ? { strategyId: strategy } : {});
      return { period, tz, rows: pnlByPeriod(list, period, tz) };
    },
  );

  app.get(
    '/api/equity',
    {
      schema: {
        tags: ['history'],
        summary: 'The equity curve',
        response: { 200: equitySchema, ...authErrors },
      },
    },
    async () => ({ points: await port.equity() }),
  );

  app.get(
    '/api/risk',
    {
      schema: {
        tags: ['risk'],
        summary: 'Breakers, kill switch, entries, pre-trade counters and configured limits',
        response: { 200: riskStateSchema, ...authErrors },
      },
    },
    () => port.riskState(),
  );

  const control = (
    path: string,
    summary: string,
    run: (actor: string) => Promise<z.infer<typeof controlResultSchema>>,
    action: 'killswitch' | 'trade',
  ) =>
    app.post(
      path,
      {
        config: { action },
        schema: {
          tags: ['control'],
          summary,
          body: confirmBody,
          response: { 200: controlResultSchema, ...authErrors },
        },
      },
      (req) => run(actorOf(req.principal)),
    );
  control(
    '/api/control/kill',
    'KILL SWITCH: cancel every order, close every position, halt until recover (confirm: true)',
    (a) => port.control.kill(a),
    'killswitch',
  );
  control(
    '/api/control/recover',
    'Release the kill switch (confirm: true)',
    (a) => port.control.recover(a),
    'killswitch',
  );
  control(
    '/api/control/stop-entries',
    'Stop opening new positions; exits keep working (confirm: true)',
    (a) => port.control.stopEntries(a),
    'trade',
  );
  control(
    '/api/control/start-entries',
    'Allow new entries again (confirm: true)',
    (a) => port.control.startEntries(a),
    'trade',
  );

  app.post(
    '/api/risk/reset',
    {
      config: { action: 'risk.change' },
      schema: {
        tags: ['risk'],
        summary: 'Reset a tripped breaker by name (confirm: true); audited',
        body: z.strictObject({
          breaker: z.string().min(1).max(60),
          confirm: z.literal(true, { error: 'must be true to confirm' }),
          /** Who to record, e.g. `cli:alice`; honoured for the local CLI token only. */
          actor: z.string().min(1).max(100).optional(),
        }),
        response: { 200: controlResultSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      const reset = port.control.resetBreaker?.bind(port.control);
      if (!reset) return reply.code(501).send({ error: 'not_available', message: 'breaker reset is not available' });
      const actor = req.principal?.via === 'cli-token' && req.body.actor ? req.body.actor : actorOf(req.principal);
      return reset(req.body.breaker, actor);
    },
  );

  for (const [path, action, summary] of [
    [
      '/api/control/pause',
      'pause',
      "Pause a deployment's grid (target: id, default all): resting orders cancelled, inventory kept (confirm: true)",
    ],
    ['/api/control/resume', 'resume', 'Resume a paused grid (target: id, default all) (confirm: true)'],
  ] as const) {
    app.post(
      path,
      {
        config: { action: 'trade' },
        schema: {
          tags: ['control'],
          summary,
          body: pauseBody,
          response: { 200: controlResultSchema, ...authErrors, 501: errorSchema },
        },
      },
      async (req, reply) => {
        const fn = port.control[action]?.bind(port.control);
        if (!fn) return reply.code(501).send({ error: 'not_available', message: `${action} is not available` });
        return fn(req.body.target ?? 'all', actorOf(req.principal));
      },
    );
  }

  app.post(
    '/api/control/force-exit',
    {
      config: { action: 'trade' },
      schema: {
        tags: ['control'],
        summary: 'Close one position by id, or all with target "all" (confirm: true)',
        body: forceExitBody,
        response: { 200: controlResultSchema, ...authErrors },
      },
    },
    (req) => port.control.forceExit(req.body.target, actorOf(req.principal)),
  );
}
