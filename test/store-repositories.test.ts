import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClosedTrade, DomainEvent, EventMap, EventName } from '../src/core/events.js';
import type { Fill } from '../src/core/fill.js';
import type { Order } from '../src/core/order.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { GENESIS_HASH, type Store } from '../src/store/index.js';
import { fillToRow } from '../src/store/repositories/trading.js';
import { type Backend, backends, disableAuditProtection } from './fixtures/store/backends.js';

function order(id: string, over: Partial<Order> = {}): Order {
  return {
    id,
    clientOrderId: `c-${id}`,
    strategyId: 'sma',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'limit',
    quantity: 0.1,
    price: 30_000.5,
    timeInForce: 'GTC',
    reduceOnly: false,
    status: 'new',
    filledQuantity: 0,
    averageFillPrice: 0,
    fees: 0,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    source: 'strategy',
    correlationId: `corr-${id}`,
    ...over,
  };
}

function fill(id: string, orderId: string, over: Partial<Fill> = {}): Fill {
  return {
    id,
    orderId,
    clientOrderId: `c-${orderId}`,
    strategyId: 'sma',
    symbol: 'BTC/USDT',
    side: 'buy',
    price: 30_000.5,
    quantity: 0.05,
    fee: 0.0015,
    liquidity: 'maker',
    time: 1_700_000_001_000,
    correlationId: `corr-${orderId}`,
    ...over,
  };
}

function ev<N extends EventName>(
  name: N,
  payload: EventMap[N],
  time = 1_700_000_000_000,
  correlationId = 'x',
): DomainEvent<N> {
  return { name, payload, time, correlationId, source: 'engine' };
}

const AUDIT_KEY = randomBytes(32);

for (const backend of backends()) {
  describe(`store repositories on ${backend.name}`, () => {
    let store: Store;
    const b: Backend = backend;

    beforeAll(async () => {
      store = await b.open();
      store.audit.setKey(AUDIT_KEY);
    });
    afterAll(async () => {
      await store?.close();
      await b.cleanup();
    });

    it('applies every migration on open and reports them', async () => {
      const status = await store.migrations.status();
      expect(status.map((m) => m.name)).toEqual([
        '0001_initial_schema',
        '0002_audit_append_only',
        '0003_security_hardening',
        '0004_audit_owner_role',
        '0005_strategy_version_details',
        '0006_assistant_signals',
        '0007_strategy_version_lifecycle',
        '0008_deployment_origin',
        '0009_funding_payments',
      ]);
      expect(status.every((m) => m.executedAt instanceof Date)).toBe(true);
      expect(await store.migrations.migrate()).toEqual([]);
      expect(store.dialect).toBe(b.name);
    });

    it('round-trips orders losslessly and upserts by id without moving back in time', async () => {
      const o = order('o1', {
        quantity: 0.1 + 0.2,
        price: 1e-8,
        stopPrice: 123_456_789.123456,
        signalTime: 5,
        tag: 'x',
      });
      await store.orders.upsert(o);
      const back = await store.orders.get('o1');
      // An order without exact decimals (not from the live bridge) is stored as its doubles' text and read back
      // with that text as its exact decimals.
      expect(back).toEqual({
        ...o,
        exact: {
          quantity: '0.30000000000000004',
          price: '0.00000001',
          stopPrice: '123456789.123456',
          filledQuantity: '0',
          averageFillPrice: '0',
          fees: '0',
        },
      });
      expect(back?.quantity).toBe(0.30000000000000004);
      const raw = await store.db
        .selectFrom('orders')
        .select(['quantity', 'price'])
        .where('id', '=', 'o1')
        .executeTakeFirstOrThrow();
      expect(raw).toEqual({ quantity: '0.30000000000000004', price: '1e-8' });

      await store.orders.upsert({ ...o, status: 'filled', filledQuantity: o.quantity, updatedAt: o.updatedAt + 10 });
      // An older snapshot arriving late must not overwrite the newer state.
      await store.orders.upsert({ ...o, status: 'submitted', updatedAt: o.updatedAt + 5 });
      expect((await store.orders.get('o1'))?.status).toBe('filled');
      expect((await store.orders.get('c-o1'))?.id).toBe('o1');
      expect(await store.orders.count()).toBe(1);
      await store.orders.upsert(order('o2', { status: 'accepted', createdAt: 1_700_000_000_500 }));
      expect((await store.orders.listOpen()).map((x) => x.id)).toEqual(['o2']);
      expect((await store.orders.list()).map((x) => x.id)).toEqual(['o2', 'o1']);
    });

    it('finds orders by client id, venue id or prefix, with LIKE wildcards taken literally', async () => {
      const mk = (id: string, cid: string, vid: string, t: number) =>
        order(id, { clientOrderId: cid, venueOrderId: vid, createdAt: t, updatedAt: t });
      for (const o of [
        mk('m1', 'ab12cd34-run1-o1', '9001', 1),
        mk('m2', 'ab12cd34-run1-o2', '9002', 2),
        mk('m3', 'ab12cd34-run2-o1', '9003', 3),
        mk('m4', 'zz_pct%-run1-o1', '9004', 4),
      ])
        await store.orders.upsert(o);
      const ids = (xs: readonly Order[]) => xs.map((x) => x.id);
      expect(ids(await store.orders.match('ab12cd34-run1-o2'))).toEqual(['m2']);
      expect(ids(await store.orders.match('9003'))).toEqual(['m3']);
      expect(ids(await store.orders.match('m1'))).toEqual(['m1']);
      expect(ids(await store.orders.match('ab12cd34-run1-'))).toEqual(['m2', 'm1']);
      expect(ids(await store.orders.match('ab12cd34-'))).toEqual(['m3', 'm2', 'm1']);
      expect(ids(await store.orders.match('ab12cd34-', 2))).toEqual(['m3', 'm2']);
      // `_` and `%` are literal characters here, not wildcards.
      expect(ids(await store.orders.match('ab12cd34_'))).toEqual([]);
      expect(ids(await store.orders.match('zz_pct%'))).toEqual(['m4']);
      expect(ids(await store.orders.match('zz%'))).toEqual([]);
      expect(ids(await store.orders.match('nothing'))).toEqual([]);
      const found = await store.lookupOrder('ab12cd34-run1-');
      expect(found.kind).toBe('ambiguous');
      const one = await store.lookupOrder('ab12cd34-run2');
      expect(one.kind === 'story' && one.story.order?.id).toBe('m3');
      expect((await store.lookupOrder('nothing')).kind).toBe('none');
    });

    it('stores a position that went flat (no opening time) over its open snapshot', async () => {
      const open = {
        symbol: 'ETH/USDT',
        strategyId: 'flat',
        quantity: 2,
        averagePrice: 100,
        realizedPnl: 0,
        openedAt: 5,
        fees: 0,
      };
      await store.positions.upsert(open, 10);
      await store.positions.upsert({ ...open, quantity: 0, realizedPnl: 7, openedAt: Number.NaN }, 20);
      const [p] = await store.positions.list({ strategyId: 'flat' });
      expect(p.quantity).toBe(0);
      expect(p.realizedPnl).toBe(7);
      expect(p.openedAt).toBeNaN();
      expect(await store.positions.list({ strategyId: 'flat', openOnly: true })).toEqual([]);
    });

    it('stores each fill once even when replayed', async () => {
      const f = fill('f1', 'o1', { venueTradeId: 'vt-1' });
      await store.fills.insert(f);
      await store.fills.insert({ ...f, price: 1 });
      expect(await store.fills.byOrder('o1')).toEqual([
        { ...f, exact: { price: '30000.5', quantity: '0.05', fee: '0.0015' } },
      ]);
      expect(await store.fills.count()).toBe(1);
      expect(await store.fills.list({ from: f.time, to: f.time + 1 })).toHaveLength(1);
      expect(await store.fills.list({ from: f.time + 1 })).toHaveLength(0);
    });

    it('lists every fill unless a limit is asked, and reads the newest ones oldest first', async () => {
      const t0 = 1_800_000_000_000;
      await store.fills.insertRows(
        Array.from({ length: 5 }, (_, k) => fillToRow(fill(`lt${k}`, 'lto', { strategyId: 'latest', time: t0 + k }))),
      );
      await store.fills.insert(fill('lt-other', 'lto2', { strategyId: 'other-latest', time: t0 + 9 }));
      expect((await store.fills.latest({ strategyId: 'latest', limit: 2 })).map((f) => f.id)).toEqual(['lt3', 'lt4']);
      expect((await store.fills.latest({ limit: 1 })).map((f) => f.id)).toEqual(['lt-other']);
      expect((await store.fills.list({ strategyId: 'latest', limit: 2 })).map((f) => f.id)).toEqual(['lt0', 'lt1']);
      expect(await store.fills.list({ strategyId: 'latest' })).toHaveLength(5);
    });

    it.runIf(b.name === 'sqlite')(
      'lists past 100 000 fills: no silent first page (reconcile books them all)',
      async () => {
        // Before, `list` stopped at 100 000 rows unless asked otherwise, so the reconcile's booked balances and the
        // status's recent fills missed the newest fills of a busy deployment.
        const n = 100_001;
        await store.fills.insertRows(
          Array.from({ length: n }, (_, k) => fillToRow(fill(`big${k}`, 'bigo', { strategyId: 'big', time: k }))),
        );
        const all = await store.fills.list({ strategyId: 'big' });
        expect(all).toHaveLength(n);
        expect(all.at(-1)?.id).toBe(`big${n - 1}`);
      },
      120_000,
    );

    it("writes a paper or live order's and fill's exact decimals as their text and reads them back exact", async () => {
      // The doubles carry float residue (0.1 + 0.2, ten partial fills of 0.1); the exact text does not.
      const avg = '30000.33333333333333333333333333333333333';
      const o = order('x1', {
        quantity: 0.1 + 0.2,
        price: 30_000.5,
        filledQuantity: 0.1 + 0.2,
        averageFillPrice: Number(avg),
        fees: 0.1 + 0.2,
        exact: {
          quantity: '0.3',
          price: '30000.5',
          filledQuantity: '0.3',
          averageFillPrice: avg,
          fees: '0.3',
        },
      });
      await store.orders.upsert(o);
      const raw = await store.db
        .selectFrom('orders')
        .select(['quantity', 'filled_quantity', 'average_fill_price', 'fees'])
        .where('id', '=', 'x1')
        .executeTakeFirstOrThrow();
      expect(raw).toEqual({ quantity: '0.3', filled_quantity: '0.3', average_fill_price: avg, fees: '0.3' });
      const back = await store.orders.get('x1');
      expect(back?.exact).toEqual(o.exact);
      const f = fill('xf1', 'x1', {
        price: 0.1 + 0.2,
        quantity: 1e-8,
        fee: 0.1 + 0.2,
        exact: { price: '0.3', quantity: '0.00000001', fee: '0.3' },
      });
      await store.fills.insert(f);
      const rawFill = await store.db
        .selectFrom('fills')
        .select(['price', 'quantity', 'fee'])
        .where('id', '=', 'xf1')
        .executeTakeFirstOrThrow();
      expect(rawFill).toEqual({ price: '0.3', quantity: '0.00000001', fee: '0.3' });
      const [backFill] = await store.fills.byOrder('x1');
      expect(backFill.exact).toEqual({ price: '0.3', quantity: '0.00000001', fee: '0.3' });
      expect(backFill.price).toBe(0.3);
    });

    it('accepts a batch that repeats the same order or fill (latest snapshot wins, one row each)', async () => {
      const { fillToRow, orderToRow } = await import('../src/store/index.js');
      const o = order('dup1');
      await store.orders.upsertRows([
        orderToRow({ ...o, status: 'submitted', updatedAt: 2 }),
        orderToRow({ ...o, status: 'accepted', updatedAt: 3 }),
        orderToRow({ ...o, status: 'new', updatedAt: 1 }),
      ]);
      expect((await store.orders.get('dup1'))?.status).toBe('accepted');
      const f = fillToRow(fill('dupf', 'dup1'));
      await store.fills.insertRows([f, f, { ...f }]);
      expect(await store.fills.byOrder('dup1')).toHaveLength(1);
      const many = Array.from({ length: 450 }, (_, i) => orderToRow(order(`bulk${i}`)));
      await store.orders.upsertRows(many);
      expect((await store.orders.list({ limit: 5000 })).filter((x) => x.id.startsWith('bulk'))).toHaveLength(450);
    });

    it('stores trades, positions, balances, breakers, heartbeats and risk events', async () => {
      const t: ClosedTrade = {
        strategyId: 'sma',
        symbol: 'BTC/USDT',
        side: 'long',
        entryTime: 1,
        entryPrice: 100.1,
        exitTime: 2,
        exitPrice: 110.2,
        quantity: 3,
        fees: 0.3,
        pnl: 30.0000000001,
        pnlPct: 0.1,
        exitReason: 'roi',
        entryTag: 'breakout',
      };
      await store.trades.insert(t);
      await store.trades.insert(t);
      // A backtest's trade (no exact text) is stored from its doubles and read back with that text as its exact.
      expect(await store.trades.list({ strategyId: 'sma' })).toEqual([
        { ...t, exact: { entryPrice: '100.1', exitPrice: '110.2', quantity: '3', fees: '0.3', pnl: '30.0000000001' } },
      ]);
      // A paper or live trade is stored from its exact text (more digits than a double keeps) and read back as written.
      const paper: ClosedTrade = {
        ...t,
        strategyId: 'paper',
        entryPrice: 0.5666666666666667,
        quantity: 0.30000000000000004,
        pnl: -0.05012002999999996,
        exact: {
          entryPrice: '0.5666666666666666666666666666666666666667',
          exitPrice: '110.2',
          quantity: '0.3',
          fees: '0.00000001',
          pnl: '-0.05012003',
        },
      };
      await store.trades.insert(paper);
      expect(
        await store.db
          .selectFrom('trades')
          .select(['entry_price', 'quantity', 'fees', 'pnl'])
          .where('strategy_id', '=', 'paper')
          .executeTakeFirstOrThrow(),
      ).toEqual({
        entry_price: '0.5666666666666666666666666666666666666667',
        quantity: '0.3',
        fees: '0.00000001',
        pnl: '-0.05012003',
      });
      const [back] = await store.trades.list({ strategyId: 'paper' });
      expect(back.exact).toEqual(paper.exact);
      expect(back).toMatchObject({ quantity: 0.3, pnl: -0.05012003, fees: 1e-8 });

      await store.positions.upsert(
        {
          symbol: 'BTC/USDT',
          strategyId: 'sma',
          quantity: -0.5,
          averagePrice: 100,
          realizedPnl: 3,
          openedAt: 1,
          fees: 0.1,
        },
        10,
      );
      await store.positions.upsert(
        { symbol: 'BTC/USDT', strategyId: 'sma', quantity: 0, averagePrice: 0, realizedPnl: 4, openedAt: 1, fees: 0.2 },
        9,
      );
      expect((await store.positions.get('BTC/USDT', 'sma'))?.quantity).toBe(-0.5);
      await store.positions.upsert(
        { symbol: 'ETH/USDT', quantity: 2, averagePrice: 5, realizedPnl: 0, openedAt: 3, fees: 0 },
        11,
      );
      expect((await store.positions.list({ openOnly: true })).map((p) => p.symbol).sort()).toEqual([
        'BTC/USDT',
        'ETH/USDT',
      ]);
      expect((await store.positions.get('ETH/USDT'))?.strategyId).toBeUndefined();

      await store.balances.record('paper', [{ asset: 'USDT', free: 900.5, used: 100, total: 1000.5 }], 100);
      await store.balances.record('paper', [{ asset: 'USDT', free: 1000, used: 0, total: 1000 }], 200);
      expect(await store.balances.latest('paper')).toEqual([
        { asset: 'USDT', free: 1000, used: 0, total: 1000, time: 200 },
      ]);
      expect(await store.balances.history('paper', 'USDT')).toEqual([
        { time: 100, total: 1000.5 },
        { time: 200, total: 1000 },
      ]);

      await store.breakers.upsert({
        breaker: 'dailyLoss',
        state: 'tripped',
        detail: 'lost 5%',
        values: { loss: 0.05 },
        until: 999,
        updatedAt: 1,
      });
      await store.breakers.upsert({
        breaker: 'dailyLoss',
        state: 'reset',
        detail: '',
        values: {},
        actor: 'alice',
        updatedAt: 2,
      });
      expect(await store.breakers.list()).toEqual([
        { breaker: 'dailyLoss', state: 'reset', detail: '', values: {}, actor: 'alice', updatedAt: 2 },
      ]);

      await store.heartbeats.beat('engine', 5, 1000);
      await store.heartbeats.beat('engine', 4, 900);
      expect(await store.heartbeats.list()).toEqual([{ component: 'engine', seq: 5, time: 1000 }]);

      await store.riskEvents.insertRows([
        {
          time: 5,
          strategy_id: 'sma',
          symbol: 'BTC/USDT',
          code: 'MAX_NOTIONAL',
          detail: 'too big',
          limit_value: '1000',
          actual_value: '2000.5',
          dry_run: 0,
          intent: '{}',
          correlation_id: 'k1',
        },
      ]);
      const risks = await store.riskEvents.list({ correlationId: 'k1' });
      expect(risks).toHaveLength(1);
      expect(risks[0]).toMatchObject({ code: 'MAX_NOTIONAL', limit: '1000', actual: '2000.5', dryRun: false });
    });

    it('stores strategies with numbered versions, backtests, deployments, agent runs, state and settings', async () => {
      await store.strategies.upsert({
        id: 's1',
        name: 'SMA cross',
        kind: 'rules',
        description: null,
        created_at: 1,
        updated_at: 1,
      });
      const v1 = await store.strategies.addVersion({
        id: 's1v1',
        strategy_id: 's1',
        source: 'a',
        params: { fast: 5 },
        source_hash: 'h1',
        note: null,
        created_at: 2,
      });
      const v2 = await store.strategies.addVersion({
        id: 's1v2',
        strategy_id: 's1',
        source: 'b',
        params: { fast: 8 },
        source_hash: 'h2',
        note: 'tuned',
        created_at: 3,
      });
      expect([v1, v2]).toEqual([1, 2]);
      expect((await store.strategies.versions('s1')).map((v) => [v.version, JSON.parse(v.params).fast])).toEqual([
        [1, 5],
        [2, 8],
      ]);
      await expect(
        store.db
          .insertInto('strategy_versions')
          .values({
            id: 'dup',
            strategy_id: 's1',
            version: 1,
            source: '',
            params: '{}',
            source_hash: '',
            note: null,
            created_at: 1,
          })
          .execute(),
      ).rejects.toThrow();

      await store.backtests.upsert({
        id: 'b1',
        strategyId: 's1',
        status: 'running',
        config: { from: '2020' },
        startedAt: 10,
      });
      await store.backtests.upsert({
        id: 'b1',
        strategyId: 's1',
        status: 'done',
        config: { from: '2020' },
        metrics: { sharpe: 1.5 },
        fingerprint: 'abc',
        artefacts: { report: '/tmp/r.html' },
        startedAt: 10,
        finishedAt: 20,
      });
      expect(await store.backtests.get('b1')).toMatchObject({
        status: 'done',
        metrics: { sharpe: 1.5 },
        fingerprint: 'abc',
        artefacts: { report: '/tmp/r.html' },
        finishedAt: 20,
      });

      await store.deployments.upsert({
        id: 'd1',
        strategyId: 's1',
        venue: 'paper',
        mode: 'paper',
        symbols: ['BTC/USDT'],
        config: { a: 1 },
        configHash: 'ch',
        appVersion: '0.1.0',
        status: 'running',
        createdAt: 1,
        updatedAt: 1,
      });
      expect((await store.deployments.list('running')).map((d) => d.id)).toEqual(['d1']);

      await store.agentRuns.upsert({
        id: 'r1',
        agent: 'author',
        status: 'running',
        input: { prompt: 'p' },
        startedAt: 1,
      });
      await store.agentRuns.upsert({
        id: 'r1',
        agent: 'author',
        status: 'done',
        input: { prompt: 'p' },
        output: { ok: true },
        steps: [{ s: 1 }],
        startedAt: 1,
        finishedAt: 2,
      });
      expect(await store.agentRuns.get('r1')).toMatchObject({
        status: 'done',
        output: { ok: true },
        steps: [{ s: 1 }],
      });

      await store.strategyState.save('d1', 's1', { bars: 3 }, 5);
      await store.strategyState.save('d1', 's1', { bars: 4 }, 6);
      expect(await store.strategyState.load('d1', 's1')).toEqual({ state: { bars: 4 }, updatedAt: 6 });

      await store.kv.set('killswitch.state', { active: true });
      expect(await store.kv.get('killswitch.state')).toEqual({ active: true });
      await store.kv.delete('killswitch.state');
      expect(await store.kv.get('killswitch.state')).toBeUndefined();
    });

    it('keeps assistant signal cards and lets one confirmation claim a card, once', async () => {
      const card = {
        id: 'sig-1',
        runId: 'run-1',
        provider: 'gpt',
        model: 'gpt-x',
        action: 'buy' as const,
        symbol: 'BTC/USDT',
        size: 0.1 + 0.2,
        confidence: 0.7,
        reasoning: 'trend',
        referencePrice: 30_000.5,
        createdAt: 1_000,
      };
      await store.assistantSignals.add([card, { ...card, id: 'sig-2', price: 29_000, createdAt: 2_000 }]);
      expect((await store.assistantSignals.list()).map((s) => s.id)).toEqual(['sig-2', 'sig-1']);
      const one = await store.assistantSignals.get('sig-1');
      expect(one).toEqual({ ...card, status: 'suggested' });
      expect(await store.assistantSignals.claim('sig-1', 'api:admin', 5_000)).toBe(true);
      expect(await store.assistantSignals.claim('sig-1', 'api:other', 5_001)).toBe(false);
      await store.assistantSignals.settle('sig-1', { status: 'executed', orderId: 'o-9' });
      expect(await store.assistantSignals.get('sig-1')).toMatchObject({
        status: 'executed',
        orderId: 'o-9',
        actor: 'api:admin',
        decidedAt: 5_000,
      });
      // A settled card is not settled again.
      await store.assistantSignals.settle('sig-1', { status: 'rejected', decision: 'late' });
      expect((await store.assistantSignals.get('sig-1'))?.status).toBe('executed');
      expect(await store.assistantSignals.list({ provider: 'nobody' })).toEqual([]);
    });

    it('groups writes in a transaction that rolls back as a whole', async () => {
      await expect(
        store.transaction(async (tx) => {
          await tx.orders.upsert(order('tx1'));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.orders.get('tx1')).toBeUndefined();
    });

    it('persists kernel events in batches from a bus', async () => {
      const bus = new InProcessEventBus();
      const p = store.persistEvents(bus, { flushMs: 5 });
      const o = order('e1', { status: 'submitted' });
      bus.publish(ev('order.submitted.v1', { order: o }));
      // The persister snapshots the order at publish time: a later mutation is a later event.
      o.status = 'filled';
      o.updatedAt += 1;
      expect(p.depth).toBe(1);
      bus.publish(ev('fill.executed.v1', { fill: fill('ef1', 'e1') }));
      bus.publish(ev('order.filled.v1', { order: o }));
      bus.publish(ev('heartbeat.beat.v1', { seq: 7 }, 5000));
      bus.publish(ev('breaker.tripped.v1', { breaker: 'maxDrawdown', detail: 'dd 20%', values: { dd: 0.2 } }));
      bus.publish(
        ev(
          'risk.rejected.v1',
          {
            intent: { strategyId: 'sma', symbol: 'X', side: 'buy', type: 'market', quantity: 1 },
            code: 'HALTED',
            detail: 'halted',
          },
          1,
          'rej-1',
        ),
      );
      await p.flush();
      expect(p.depth).toBe(0);
      expect((await store.orders.get('e1'))?.status).toBe('filled');
      expect(await store.fills.byOrder('e1')).toHaveLength(1);
      expect(await store.heartbeats.list()).toContainEqual({ component: 'engine', seq: 7, time: 5000 });
      expect((await store.breakers.list()).find((x) => x.breaker === 'maxDrawdown')?.state).toBe('tripped');
      expect(await store.riskEvents.list({ correlationId: 'rej-1' })).toHaveLength(1);
      // Without an explicit flush the timer writes the batch.
      bus.publish(ev('order.submitted.v1', { order: order('e2', { status: 'submitted' }) }));
      await new Promise((r) => setTimeout(r, 200));
      expect((await store.orders.get('e2'))?.status).toBe('submitted');
      await p.close();
    });

    it('write-ahead persists an order before returning', async () => {
      const bus = new InProcessEventBus();
      const p = store.persistEvents(bus);
      await p.persistOrderNow(order('wa1'));
      expect((await store.orders.get('wa1'))?.status).toBe('new');
      await p.close();
    });

    it('appends a hash chain and reconstructs an order story', async () => {
      const bus = new InProcessEventBus();
      const auditor = store.auditEvents(bus, { flushMs: 5 });
      const intent = {
        strategyId: 'sma',
        symbol: 'BTC/USDT',
        side: 'buy' as const,
        type: 'limit' as const,
        quantity: 0.1,
        price: 30_000.5,
        clientOrderId: 'c-st1',
        correlationId: 'corr-st1',
        signalTime: 42,
      };
      bus.publish(ev('risk.checked.v1', { intent, accepted: true }, 1, 'corr-st1'));
      const o = order('st1', { status: 'submitted' });
      bus.publish(ev('order.submitted.v1', { order: o }, 2, 'corr-st1'));
      bus.publish(ev('venue.message.v1', { venue: 'paper', orderId: 'st1', message: 'ack' }, 3, 'corr-st1'));
      await store.fills.insert(fill('stf1', 'st1'));
      bus.publish(ev('fill.executed.v1', { fill: fill('stf1', 'st1') }, 4, 'corr-st1'));
      bus.publish(ev('order.filled.v1', { order: { ...o, status: 'filled' } }, 5, 'corr-st1'));
      await auditor.flush();
      await store.orders.upsert({ ...o, status: 'filled', updatedAt: o.updatedAt + 5 });
      const story = await store.orderStory('st1');
      expect(story?.signal).toMatchObject({ signalTime: 42, clientOrderId: 'c-st1' });
      expect(story?.timeline.map((s) => s.action)).toEqual([
        'risk.checked',
        'order.submitted',
        'venue.message',
        'fill.executed',
        'order.filled',
      ]);
      expect(story?.riskDecisions).toHaveLength(1);
      expect(story?.venueMessages[0].details.message).toBe('ack');
      expect(story?.fills.map((f) => f.id)).toEqual(['stf1']);
      expect(story?.order?.status).toBe('filled');
      expect(await store.orderStory('nope')).toBeUndefined();
      await auditor.close();

      const all = [];
      for await (const r of store.audit.iterate()) all.push(r);
      expect(all[0].prevHash).toBe(GENESIS_HASH);
      expect(all[1].prevHash).toBe(all[0].hash);
      expect(await store.audit.verify()).toMatchObject({ ok: true, hmacChecked: true, checked: 5 });
      // Another key cannot vouch for the records.
      expect((await store.audit.verify(randomBytes(32))).firstBad?.seq).toBe(1);
    });

    it('refuses to append without the vault key', async () => {
      store.audit.setKey(undefined);
      await expect(store.audit.append({ actor: 'a', action: 'x', subject: 'y' })).rejects.toThrow(/locked/);
      store.audit.setKey(AUDIT_KEY);
    });

    it('serialises concurrent appends into one unbroken chain', async () => {
      const before = await store.audit.count();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.audit.append({ actor: 't', action: 'concurrent', subject: `n:${i}` }),
        ),
      );
      expect(await store.audit.count()).toBe(before + 20);
      expect((await store.audit.verify()).ok).toBe(true);
    });

    it('makes the audit table refuse UPDATE and DELETE', async () => {
      await expect(sql`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`.execute(store.db)).rejects.toThrow(
        /append-only/,
      );
      await expect(sql`DELETE FROM audit_events WHERE seq = 1`.execute(store.db)).rejects.toThrow(/append-only/);
      await expect(store.db.deleteFrom('audit_events').execute()).rejects.toThrow(/append-only/);
      expect((await store.audit.verify()).ok).toBe(true);
    });
  });

  describe(`audit tamper detection on ${backend.name}`, () => {
    const b = backend;
    let store: Store;
    const fresh = async (): Promise<Store> => {
      await store?.close();
      store = await b.open();
      store.audit.setKey(AUDIT_KEY);
      for (let i = 1; i <= 6; i++)
        await store.audit.append({
          actor: 'engine',
          action: 'order.submitted',
          subject: `order:${i}`,
          details: { n: i },
          time: 1000 + i,
        });
      expect((await store.audit.verify()).ok).toBe(true);
      await disableAuditProtection(store);
      return store;
    };
    afterAll(async () => {
      await store?.close();
      await b.cleanup();
    });

    it('names a modified record', async () => {
      const s = await fresh();
      await sql`UPDATE audit_events SET details = ${'{"n":99}'} WHERE seq = 3`.execute(s.db);
      const r = await s.audit.verify();
      expect(r.ok).toBe(false);
      expect(r.firstBad?.seq).toBe(3);
      expect(r.firstBad?.problem).toMatch(/modified/);
    });

    it('names a deleted record', async () => {
      const s = await fresh();
      await sql`DELETE FROM audit_events WHERE seq = 4`.execute(s.db);
      const r = await s.audit.verify();
      expect(r.firstBad?.seq).toBe(4);
      expect(r.firstBad?.problem).toMatch(/missing/);
    });

    it('names reordered records', async () => {
      const s = await fresh();
      // Swap the contents of records 2 and 3 (seq kept), as a reordering of history.
      const rows = await s.db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', 'in', [2, 3])
        .orderBy('seq')
        .execute();
      for (const [target, src] of [
        [2, rows[1]],
        [3, rows[0]],
      ] as const) {
        await s.db
          .updateTable('audit_events')
          .set({
            time: src.time,
            subject: src.subject,
            details: src.details,
            prev_hash: src.prev_hash,
            hash: src.hash,
            hmac: src.hmac,
          })
          .where('seq', '=', target)
          .execute();
      }
      const r = await s.audit.verify();
      expect(r.firstBad?.seq).toBe(2);
    });

    it('names records cut off the end and a re-chained forgery', async () => {
      const s = await fresh();
      await sql`DELETE FROM audit_events WHERE seq >= 5`.execute(s.db);
      expect((await s.audit.verify()).firstBad?.seq).toBe(5);

      const t = await fresh();
      // A forger who recomputes the hashes without the HMAC key is caught by the HMAC.
      const { auditHash, canonicalAuditRecord } = await import('../src/store/index.js');
      const r2 = await t.db.selectFrom('audit_events').selectAll().where('seq', '=', 2).executeTakeFirstOrThrow();
      const details = '{"n":-1}';
      const hash = auditHash(
        r2.prev_hash,
        canonicalAuditRecord({
          seq: 2,
          time: Number(r2.time),
          actor: r2.actor,
          action: r2.action,
          subject: r2.subject,
          details,
        }),
      );
      await t.db.updateTable('audit_events').set({ details, hash }).where('seq', '=', 2).execute();
      const res = await t.audit.verify();
      expect(res.firstBad?.seq).toBe(2);
      expect(res.firstBad?.problem).toMatch(/HMAC/);
    });
  });
}
