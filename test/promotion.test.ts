import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveBarRecorder } from '../src/app/live/bar-recorder.js';
import { type Actor, Promotion, PromotionRefusedError } from '../src/app/promotion.js';
import { importStrategyVersion } from '../src/app/strategy-catalogue.js';
import type { GateEvaluation } from '../src/authoring/promotion/gate.js';
import { resolveConfig } from '../src/core/config.js';
import { defineInstrument } from '../src/core/instrument.js';
import type { Store } from '../src/store/index.js';
import { backends } from './fixtures/store/backends.js';
import { ZIGZAG_RULES, zigzag } from './fixtures/zigzag.js';

// DEPLOY-1..4 over a real store (SQLite and PostgreSQL) and real backtests: each refusal of issue 14's "Done when"
// says why and is in the audit log; the dry run's days come from an injected clock.
const DAY = 86_400_000;
const KEY = randomBytes(32);
const ADMIN: Actor = { name: 'alice', role: 'admin' };
const VIEWER: Actor = { name: 'victor', role: 'viewer' };
/** 200 daily bars that the zigzag strategy wins on throughout: 75 trades in sample, 25 out of sample. */
const PASSING = { symbol: 'ZZ', columns: zigzag([{ bars: 200, amp: 2 }]), timeframe: '1d' as const };

for (const backend of backends()) {
  describe(`promotion pipeline on ${backend.name}`, () => {
    let store: Store;
    let dir: string;
    let now = Date.UTC(2026, 0, 5);
    let promotion: Promotion;

    beforeAll(async () => {
      store = await backend.open();
      store.audit.setKey(KEY);
      dir = mkdtempSync(join(tmpdir(), 'tf-promotion-'));
      promotion = new Promotion({ store, dataDir: join(dir, 'data'), now: () => now });
    });
    afterAll(async () => {
      await store?.close();
      await backend.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function stored(id: string): Promise<string> {
      const file = join(dir, `${id}.rules`);
      writeFileSync(file, ZIGZAG_RULES);
      const r = await importStrategyVersion(store, { file, kind: 'rules', id });
      return `${id}@v${r.version}`;
    }

    /** The reasons of every audited refusal of a version, oldest first. */
    async function refusals(ref: string): Promise<{ actor: string; to: string; reasons: string[] }[]> {
      const recs = await store.audit.bySubjects([`strategy:${ref}`]);
      return recs
        .filter((r) => r.action === 'strategy.transition.refused')
        .map((r) => {
          const d = JSON.parse(r.details) as { to: string; reasons: string[] };
          return { actor: r.actor, to: d.to, reasons: d.reasons };
        });
    }

    async function refusal(p: Promise<unknown>): Promise<PromotionRefusedError> {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PromotionRefusedError);
      return err as PromotionRefusedError;
    }

    it('gate: 29 trades in sample are refused (the backtest ran: draft -> backtested), said and audited', async () => {
      const ref = await stored('twentynine');
      const data = zigzag([
        { bars: 1, amp: 0 },
        { bars: 58, amp: 2 },
        { bars: 92, amp: 0 },
        { bars: 24, amp: 2 },
        { bars: 25, amp: 0 },
      ]);
      const err = await refusal(
        promotion.gate(ADMIN, ref, { data: { symbol: 'ZZ', columns: data, timeframe: '1d' }, label: 'zz-29' }),
      );
      expect(err.reasons).toEqual(['in sample: 29 trades are fewer than 30']);
      expect(err.message).toContain('29 trades are fewer than 30');
      expect(await promotion.state(ref)).toBe('backtested');
      expect(await refusals(ref)).toEqual([
        { actor: 'alice', to: 'gated', reasons: ['in sample: 29 trades are fewer than 30'] },
      ]);
      const history = await store.lifecycle.history('twentynine', 1);
      expect(history.map((t) => [t.from, t.to, t.actor])).toEqual([['draft', 'backtested', 'alice']]);
    });

    it('gate: an out-of-sample part that fails is refused', async () => {
      const ref = await stored('oosfail');
      const data = zigzag([
        { bars: 80, amp: 2 },
        { bars: 70, amp: 0 },
        { bars: 24, amp: 0.05 },
        { bars: 26, amp: 0 },
      ]);
      const err = await refusal(
        promotion.gate(ADMIN, ref, { data: { symbol: 'ZZ', columns: data, timeframe: '1d' }, label: 'zz-oos' }),
      );
      expect(err.reasons).toContain('out of sample: win rate 0% is below 35%');
      expect(err.reasons.every((r) => r.startsWith('out of sample:'))).toBe(true);
      expect(await promotion.state(ref)).toBe('backtested');
      expect((await refusals(ref))[0].reasons).toEqual(err.reasons);
    });

    it('gate: Sharpe 0.4 is refused; the same evaluation passes once it holds', async () => {
      const ref = await stored('sharpe');
      const m = { bars: 150, trades: 40, sharpe: 0.4, maxDrawdownPct: 10, winRatePct: 50, totalReturnPct: 5 };
      const e: GateEvaluation = {
        safety: { ok: true, findings: [] },
        folds: [{ inSample: m, outOfSample: { ...m, bars: 50, trades: 14, sharpe: 0.9 } }],
      };
      const err = await refusal(promotion.recordGate(ADMIN, ref, e, 'recorded'));
      expect(err.reasons).toEqual(['in sample: Sharpe 0.40 is below 0.5']);
      expect((await refusals(ref))[0].reasons).toEqual(['in sample: Sharpe 0.40 is below 0.5']);
      expect(await promotion.state(ref)).toBe('backtested');
    });

    it('thresholds: lowered by a non-admin or by an admin is refused and audited; raised by an admin holds', async () => {
      const before = await promotion.policy();
      const low = await refusal(promotion.setPolicy(VIEWER, { thresholds: { minSharpe: 0.3 } }, 'easier'));
      expect(low.reasons).toEqual(['only an admin may change the promotion thresholds (role viewer)']);
      const adminLow = await refusal(promotion.setPolicy(ADMIN, { thresholds: { minTrades: 20 } }, 'easier'));
      expect(adminLow.reasons).toEqual(['thresholds may only become stricter: thresholds.minTrades 30 -> 20']);
      expect(await promotion.policy()).toEqual(before);
      const audit = (await store.audit.bySubjects(['promotion:policy'])).map((r) => [r.actor, r.action]);
      expect(audit).toEqual([
        ['victor', 'promotion.policy.refused'],
        ['alice', 'promotion.policy.refused'],
      ]);
      const raised = await promotion.setPolicy(ADMIN, { thresholds: { minWinRatePct: 40 } }, 'stricter');
      expect(raised.thresholds.minWinRatePct).toBe(40);
      expect((await promotion.policy()).thresholds.minWinRatePct).toBe(40);
      expect((await store.audit.bySubjects(['promotion:policy'])).at(-1)?.action).toBe('promotion.policy.changed');
    });

    /** Gates a fresh version, starts its dry run now, and records `days` daily bars of a dry_run deployment. */
    async function dryRunning(id: string, days: number): Promise<{ ref: string; deployment: string }> {
      const ref = await stored(id);
      await promotion.gate(ADMIN, ref, { data: PASSING, label: 'zz-pass' });
      expect(await promotion.state(ref)).toBe('gated');
      await promotion.startDryRun(ADMIN, ref);
      const deployment = `${id}-dep`;
      const d = resolveConfig({
        venues: [{ id: 'paper', type: 'paper' }],
        deployments: [
          { id: deployment, strategy: ref, venue: 'paper', symbols: ['BTC/USDT'], timeframe: '1d', stake: 1000 },
        ],
      }).deployments[0];
      await store.deployments.upsert({
        id: deployment,
        strategyId: ref,
        venue: 'paper',
        mode: 'paper',
        profile: 'dry_run',
        symbols: d.symbols,
        config: d,
        configHash: 'test',
        appVersion: 'test',
        status: 'stopped',
        createdAt: now,
        updatedAt: now,
      });
      // Flat bars: the strategy does not trade, so its replay expects no fill.
      const inst = defineInstrument({ symbol: 'BTC/USDT', lotSize: 1e-5, tickSize: 0.01 });
      const rec = new LiveBarRecorder(join(dir, 'data', 'live'), deployment, '1d', [inst], (err) => {
        throw err;
      });
      for (let k = 0; k < days; k++) rec.record('BTC/USDT', now + k * DAY, 100, 100, 100, 100, 10);
      rec.flush();
      return { ref, deployment };
    }

    it('dry run: 13 days refused; then a viewer, no confirmation, and at 14 days an admin who confirms', async () => {
      const start = now;
      const { ref } = await dryRunning('dryrun', 15);
      now = start + 13 * DAY;
      const early = await refusal(promotion.goLive(ADMIN, ref, { confirm: true }));
      expect(early.reasons).toEqual(['the dry run has run 13.0 of 14 days']);
      now = start + 15 * DAY;
      const viewer = await refusal(promotion.goLive(VIEWER, ref, { confirm: true }));
      expect(viewer.reasons).toEqual(['going live needs an admin (role viewer)']);
      const unconfirmed = await refusal(promotion.promote(ADMIN, ref, { confirm: false }));
      expect(unconfirmed.reasons).toEqual(['going live trades real money: confirm it explicitly (--confirm-live)']);
      expect(await promotion.state(ref)).toBe('dry_run');
      expect((await refusals(ref)).map((r) => [r.actor, r.reasons[0]])).toEqual([
        ['alice', 'the dry run has run 13.0 of 14 days'],
        ['victor', 'going live needs an admin (role viewer)'],
        ['alice', 'going live trades real money: confirm it explicitly (--confirm-live)'],
      ]);
      // The live profile's check refuses it until it is live.
      expect((await promotion.notLive([ref])).get(ref)).toBe('its state is dry_run, not live');
      const r = await promotion.promote(ADMIN, ref, { confirm: true, reason: 'two weeks clean' });
      expect(r).toEqual({ ref, from: 'dry_run', to: 'live' });
      expect((await promotion.notLive([ref])).size).toBe(0);
      // The strategy's own state is that of its most recently moved version (`strategy list`).
      expect((await store.strategies.get('dryrun'))?.state).toBe('live');
      const last = (await store.lifecycle.history('dryrun', 1)).at(-1);
      expect(last).toMatchObject({ from: 'dry_run', to: 'live', actor: 'alice', reason: 'two weeks clean' });
      const ev = last?.evidence as { replays: { verdict: string; bars: number }[]; dryRun: { coveredDays: number } };
      expect(ev.replays).toMatchObject([{ verdict: 'match', bars: 15 }]);
      expect(ev.dryRun.coveredDays).toBe(15);
    });

    it('dry run: a divergence outside the tolerance is refused with the difference named', async () => {
      const start = now;
      const { ref, deployment } = await dryRunning('diverged', 15);
      // A fill the replay does not expect: the paper venue did something the run spec would not have.
      await store.fills.insert({
        id: 'f-extra',
        orderId: 'o-extra',
        clientOrderId: 'c-extra',
        strategyId: deployment,
        symbol: 'BTC/USDT',
        side: 'buy',
        price: 100,
        quantity: 1,
        fee: 0.1,
        liquidity: 'taker',
        time: start + 3 * DAY + 5,
        correlationId: 'x',
      });
      now = start + 15 * DAY;
      const err = await refusal(promotion.goLive(ADMIN, ref, { confirm: true }));
      expect(err.reasons).toHaveLength(1);
      expect(err.reasons[0]).toMatch(/^the dry run diverged from its replay beyond the tolerance: diverged-dep: /);
      expect(await promotion.state(ref)).toBe('dry_run');
      expect((await refusals(ref)).at(-1)?.reasons).toEqual(err.reasons);
    });

    it('illegal moves are refused with the reason; retiring works from any state; the audit chain verifies', async () => {
      const ref = await stored('illegal');
      const skip = await refusal(promotion.goLive(ADMIN, ref, { confirm: true }));
      expect(skip.reasons).toEqual(['a draft version moves to backtested next, not to live (no state is skipped)']);
      const viewer = await refusal(promotion.retire(VIEWER, ref));
      expect(viewer.reasons).toEqual(['role viewer may not move strategy versions']);
      const notGated = await refusal(promotion.promote(ADMIN, ref, { confirm: true }));
      expect(notGated.reasons[0]).toMatch(/passes the gate first: tradeforge strategy gate illegal@v1/);
      await promotion.retire(ADMIN, ref, 'superseded');
      expect(await promotion.state(ref)).toBe('retired');
      const again = await refusal(promotion.startDryRun(ADMIN, ref));
      expect(again.reasons).toEqual(['the version is retired: store a new version to start again']);
      expect((await promotion.notLive(['illegal@v1', 'sma-cross'])).get('sma-cross')).toBe(
        'it is not a stored strategy version (ID@vN)',
      );
      const v = await store.audit.verify(KEY);
      expect(v.ok).toBe(true);
      expect(v.checked).toBeGreaterThan(20);
    });

    it('a move is not made when it cannot be audited (locked audit log)', async () => {
      const ref = await stored('locked');
      store.audit.setKey(undefined);
      try {
        const err = await refusal(promotion.retire(ADMIN, ref));
        expect(err.reasons[0]).toMatch(/audit log is locked/);
        expect(await promotion.state(ref)).toBe('draft');
      } finally {
        store.audit.setKey(KEY);
      }
    });
  });
}
