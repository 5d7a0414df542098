import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VenueError } from '../src/core/errors.js';
import { IgClient, type IgClientOptions } from '../src/venues/ig/client.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';

// One simulated clock for the simulator's allowances and token expiry and the client's budgets: `sleep` advances it.
let clock = Date.UTC(2026, 0, 5, 9);
const sleeps: number[] = [];
const sim = new IgSimulator({
  accounts: [
    { accountId: 'ABC123', balance: 10_000 },
    { accountId: 'XYZ789', balance: 5_000 },
  ],
  allowances: { accountTrading: 5, accountOverall: 30 },
  accessTokenSeconds: 60,
  now: () => clock,
});
let baseUrl = '';
beforeAll(async () => {
  baseUrl = await sim.start();
});
afterAll(() => sim.stop());
// Each case starts in fresh per-minute allowance windows (IG counts per account, across clients).
beforeEach(() => {
  clock += 61_000;
});

const EPIC = 'CS.D.EURUSD.CFD.IP';
const client = (over: Partial<IgClientOptions> = {}) =>
  new IgClient({
    baseUrl,
    apiKey: sim.apiKey,
    identifier: sim.identifier,
    password: sim.password,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...over,
  });

async function rejection(p: Promise<unknown>): Promise<VenueError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VenueError);
  return err as VenueError;
}

describe('IgClient against the IG simulator', () => {
  it('v2 session: reads the allowances, opens a position with a broker-side stop, amends and closes it', async () => {
    const ig = client();
    await ig.connect();
    expect(ig.accountId).toBe('ABC123');
    expect(ig.allowances).toMatchObject({ allowanceAccountTrading: 5, allowanceAccountOverall: 30 });
    const open = await ig.openPosition({
      epic: EPIC,
      direction: 'BUY',
      size: 1.27,
      currencyCode: 'USD',
      dealReference: 'tf-1',
      stop: { kind: 'normal', distance: 20 },
    });
    expect(open).toMatchObject({
      dealStatus: 'ACCEPTED',
      status: 'OPEN',
      size: 1.2,
      level: 11_000.8,
      stopLevel: 10_980.8,
    });
    // The same deal reference again is not a second deal.
    await ig.openPosition({
      epic: EPIC,
      direction: 'BUY',
      size: 1.2,
      currencyCode: 'USD',
      dealReference: 'tf-1',
      stop: { kind: 'normal', distance: 20 },
    });
    let positions = await ig.positions();
    expect(positions).toHaveLength(1);
    expect(positions[0].position).toMatchObject({ dealId: open.dealId, stopLevel: 10_980.8, controlledRisk: false });
    const amended = await ig.amendPosition(open.dealId as string, { stopLevel: 10_990 });
    expect(amended.status).toBe('AMENDED');
    expect((await ig.positions())[0].position.stopLevel).toBe(10_990);
    const closed = await ig.closePosition(open.dealId as string, 'BUY', 1.2);
    expect(closed).toMatchObject({ status: 'CLOSED', level: 11_000.2 });
    positions = await ig.positions();
    expect(positions).toHaveLength(0);
    expect(sim.log).toContain('DELETE /positions/otc v1'); // sent as POST with _method: DELETE
  });

  it('trailing and guaranteed stops; dealing rules refuse a too-close stop before anything is sent', async () => {
    const ig = client();
    await ig.connect();
    const t = await ig.openPosition({
      epic: EPIC,
      direction: 'SELL',
      size: 1,
      currencyCode: 'USD',
      dealReference: 'tf-2',
      stop: { kind: 'trailing', distance: 15, increment: 2 },
    });
    expect(t).toMatchObject({ trailingStop: true, stopLevel: 11_015.2 });
    const g = await ig.openPosition({
      epic: EPIC,
      direction: 'BUY',
      size: 1,
      currencyCode: 'USD',
      dealReference: 'tf-3',
      stop: { kind: 'guaranteed', distance: 12 },
    });
    expect(g.guaranteedStop).toBe(true);
    const sent = sim.log.length;
    const err = await rejection(
      ig.openPosition({
        epic: EPIC,
        direction: 'BUY',
        size: 1,
        currencyCode: 'USD',
        dealReference: 'tf-4',
        stop: { kind: 'guaranteed', distance: 5 },
      }),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/stop distance 5 is below the minimum 10 for a guaranteed stop/);
    expect(sim.log.slice(sent).filter((l) => l.startsWith('POST /positions'))).toEqual([]);
    const small = await rejection(
      ig.openPosition({ epic: EPIC, direction: 'BUY', size: 0.2, currencyCode: 'USD', dealReference: 'tf-5' }),
    );
    expect(small.message).toMatch(/below the minimum deal size 0.5/);
    for (const p of await ig.positions())
      await ig.closePosition(p.position.dealId, p.position.direction, p.position.size);
  });

  it('working orders; a rejected confirm is a non-retryable VenueError with IG’s reason', async () => {
    const ig = client();
    await ig.connect();
    const wo = await ig.createWorkingOrder({
      epic: EPIC,
      direction: 'BUY',
      size: 1,
      level: 10_900,
      type: 'LIMIT',
      currencyCode: 'USD',
      dealReference: 'tf-w1',
    });
    expect((await ig.workingOrders()).map((w) => w.workingOrderData.dealId)).toEqual([wo.dealId]);
    expect((await ig.deleteWorkingOrder(wo.dealId as string)).status).toBe('DELETED');
    expect(await ig.workingOrders()).toEqual([]);
    const err = await rejection(ig.closePosition('NOPE', 'BUY', 1));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/rejected: POSITION_NOT_AVAILABLE_TO_CLOSE/);
  });

  it('v2: logs in again after the weekend invalidation and retries the request once', async () => {
    const ig = client();
    await ig.connect();
    expect(ig.logins).toBe(1);
    sim.invalidateSessions();
    const accounts = await ig.accounts();
    expect(accounts.map((a) => a.accountId)).toEqual(['ABC123', 'XYZ789']);
    expect(ig.logins).toBe(2);
  });

  it('v3: OAuth tokens refresh before expiry; an account switch sends IG-ACCOUNT-ID', async () => {
    const ig = client({ sessionVersion: 3, accountId: 'XYZ789' });
    await ig.connect();
    expect(ig.accountId).toBe('XYZ789');
    clock += 58_000; // within 5 s of the 60 s expiry: refreshed, not a new login
    await ig.accounts();
    expect(ig.logins).toBe(1);
    expect(sim.log.at(-2)).toBe('POST /session/refresh-token v1');
    sim.invalidateSessions(); // refresh token gone too: a full login, then the switch again
    await ig.accounts();
    expect(ig.logins).toBe(2);
    expect(ig.accountId).toBe('XYZ789');
  });

  it('keeps within the trading allowance read at connect by waiting, and backs off and alerts on a 403', async () => {
    const alerts: string[] = [];
    const ig = client({ onAlert: (m) => alerts.push(m) });
    await ig.connect();
    sleeps.length = 0;
    // 5 trading requests per minute: the 6th waits for the window instead of being refused by IG.
    for (let i = 0; i < 6; i++) {
      await ig.createWorkingOrder({
        epic: EPIC,
        direction: 'BUY',
        size: 1,
        level: 10_000 + i,
        type: 'LIMIT',
        currencyCode: 'USD',
        dealReference: `tf-b${i}`,
      });
    }
    expect(sleeps.length).toBe(1);
    expect(sleeps[0]).toBeGreaterThan(0);
    expect(alerts).toEqual([]);
    // IG refuses anyway (another client on the account): a retryable error, a 60 s back-off and an alert.
    sim.failNext(403, 'error.public-api.exceeded-account-trading-allowance');
    const err = await rejection(
      ig.createWorkingOrder({
        epic: EPIC,
        direction: 'BUY',
        size: 1,
        level: 9_000,
        type: 'LIMIT',
        currencyCode: 'USD',
        dealReference: 'tf-b9',
      }),
    );
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(60_000);
    expect(alerts[0]).toMatch(/exceeded-account-trading-allowance; trading requests paused for 60 s/);
    const sent = sim.log.length;
    const blocked = await rejection(ig.deleteWorkingOrder('x'));
    expect(blocked.message).toMatch(/backing off/);
    expect(sim.log.length).toBe(sent); // nothing sent during the back-off
    clock += 60_000;
    for (const w of await ig.workingOrders()) await ig.deleteWorkingOrder(w.workingOrderData.dealId);
    expect(await ig.workingOrders()).toEqual([]);
  });

  it('bad credentials are a non-retryable error naming IG’s code', async () => {
    const err = await rejection(client({ password: 'wrong' }).connect());
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/error\.security\.invalid-details/);
  });
});
