import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { paperAccountKey } from '../src/app/paper-accounts.js';
import { startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { openStore } from '../src/store/index.js';
import type { PaperState } from '../src/venues/paper/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { exited, killAll, startRuntimeProcess } from './fixtures/runtime/process.js';
import { waitFor } from './fixtures/wait.js';
import { VOLATILE_BTCUSDT } from './fixtures/runtime/markets.js';

// Issue 9, reconciliation: the paper venue's account (balances, resting orders, fills with their trade ids) is saved
// on every change and restored on start, so `tradeforge start` -> kill -9 -> `start` in the same home continues the
// same account, books every fill exactly once, and books the fill of a stop the market crossed while it was down; a
// further stop -> start (SIGTERM) goes on the same way.
const KEY = paperAccountKey('pap');

let sim: SimulatorHandle;
let dir: string;
const children: ChildProcess[] = [];

/** The paper account as the runtime saved it (read beside the running runtime, as an operator's tool would). */
async function savedAccount(home: string): Promise<PaperState | undefined> {
  const store = await openStore({ home, migrate: false }).catch(() => undefined);
  if (!store) return undefined;
  try {
    const saved = await store.kv.get<string>(KEY);
    return saved === undefined ? undefined : (JSON.parse(saved) as PaperState);
  } finally {
    await store.close();
  }
}

const openOrders = (s: PaperState) =>
  s.orders.filter((o) => ['submitted', 'accepted', 'partially_filled'].includes(o.order.status));
const openStop = (s: PaperState) => openOrders(s).find((o) => o.order.type === 'stop' && o.order.side === 'sell');

/** Balances `from` moved by `fills` (spot, fees in quote), as the paper account books them. */
function applyFills(from: Record<string, number>, fills: PaperState['fills']): Record<string, number> {
  const out = { ...from };
  for (const f of fills) {
    const notional = f.price * f.quantity;
    if (f.side === 'buy') {
      out.USDT = (out.USDT ?? 0) - notional - f.fee;
      out.BTC = (out.BTC ?? 0) + f.quantity;
    } else {
      out.USDT = (out.USDT ?? 0) + notional - f.fee;
      out.BTC = (out.BTC ?? 0) - f.quantity;
    }
  }
  return out;
}

beforeAll(async () => {
  sim = await startSimulator({
    seed: 13,
    tickIntervalMs: 50,
    markets: [VOLATILE_BTCUSDT],
  });
  dir = mkdtempSync(join(tmpdir(), 'tf-paper-restart-'));
});

afterAll(async () => {
  killAll(children);
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('paper account across kill -9 and restart', () => {
  it('continues balances and resting orders over kill -9 and stop, books every fill once, the stop crossed while down too', async () => {
    const home = join(dir, 'home');
    const cfg = join(dir, 'config.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        profile: 'dev',
        server: { port: 0 },
        // Paper fills on the simulator's public market data: the account lives in the runtime, not at the venue.
        venues: [{ id: 'pap', type: 'paper', options: { url: sim.url, balances: { USDT: 10_000 } } }],
        deployments: [
          {
            id: 'pp',
            strategy: 'sma-cross',
            params: { fast: 2, slow: 3 },
            venue: 'pap',
            symbols: ['BTC/USDT'],
            capitalCap: 10_000,
            stake: '40%',
            exits: { stopLoss: 0.05 },
          },
        ],
        runtime: { barSeconds: 0.5, warmupBars: 10, pollMs: 150, staleAfterSeconds: 10, heartbeatSeconds: 2 },
      }),
    );

    // The store exists (migrated) before the runtime starts, so the test can read it beside the running runtime.
    await (await openStore({ home })).close();
    // First life: trade until the saved account holds a position protected by a resting stop, then kill -9.
    const first = startRuntimeProcess(cfg, home, children);
    await waitFor(
      'a saved account with fills and a resting protective stop',
      async () => {
        const s = await savedAccount(home);
        return s !== undefined && s.fills.length >= 3 && openStop(s) !== undefined;
      },
      { log: first.out },
    );
    first.child.kill('SIGKILL');
    await exited(first.child);
    const atCrash = (await savedAccount(home))!;
    const stop = openStop(atCrash);
    expect(stop, JSON.stringify(atCrash.orders.map((o) => o.order.status))).toBeDefined();
    // Saved whole: the balances are the starting ones moved by exactly the saved fills.
    const fromFills = applyFills({ USDT: 10_000 }, atCrash.fills);
    expect(atCrash.balances.USDT).toBeCloseTo(fromFills.USDT, 6);
    expect(atCrash.balances.BTC ?? 0).toBeCloseTo(fromFills.BTC ?? 0, 9);

    // While down, the market falls through the stop: the restored stop must fill on the first update, booked once.
    sim.setPrice('BTCUSDT', stop!.order.stopPrice! * 0.97);

    const second = startRuntimeProcess(cfg, home, children);
    await waitFor('the restarted runtime', () => /reconcile: (\d+) checked/.test(second.out()), { log: second.out });
    await waitFor(
      'the restored stop filled and new fills after the restart',
      async () => {
        const s = await savedAccount(home);
        const o = s?.orders.find((x) => x.order.id === stop!.order.id);
        return s !== undefined && o?.order.status === 'filled' && s.fills.length >= atCrash.fills.length + 3;
      },
      { log: second.out },
    );
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    const atStop = (await savedAccount(home))!;

    // Third life after a clean stop: the account goes on again and every new fill is booked.
    const third = startRuntimeProcess(cfg, home, children);
    await waitFor('the second restart', () => /reconcile: (\d+) checked/.test(third.out()), { log: third.out });
    await waitFor(
      'new fills after the second restart',
      async () => ((await savedAccount(home))?.fills.length ?? 0) >= atStop.fills.length + 2,
      { log: third.out },
    );
    third.child.kill('SIGTERM');
    expect(await exited(third.child)).toBe(0);
    const after = (await savedAccount(home))!;
    expect(after.fills.slice(0, atStop.fills.length)).toEqual(atStop.fills);

    // The same account continued: every fill of the first life kept, in order, with its trade id; ids never repeat.
    expect(after.fills.slice(0, atCrash.fills.length)).toEqual(atCrash.fills);
    const tradeIds = after.fills.map((f) => f.venueTradeId);
    expect(new Set(tradeIds).size).toBe(tradeIds.length);
    // Balances continued from the crash, not from the config's starting balances.
    const continued = applyFills(atCrash.balances, after.fills.slice(atCrash.fills.length));
    expect(after.balances.USDT).toBeCloseTo(continued.USDT, 6);
    expect(after.balances.BTC ?? 0).toBeCloseTo(continued.BTC ?? 0, 9);
    // Every order resting at the crash is still the same order (same venue id), carried on from where it stood.
    for (const o of openOrders(atCrash)) {
      const now = after.orders.find((x) => x.order.id === o.order.id);
      expect(now, `resting order ${o.order.clientOrderId} lost`).toBeDefined();
      expect(now!.order.filledQuantity).toBeGreaterThanOrEqual(o.order.filledQuantity);
    }
    // The stop filled on the restarted account at a price at or below its stop (the market was below it).
    const stopFills = after.fills.filter((f) => f.venueOrderId === stop!.order.id);
    expect(stopFills.length).toBeGreaterThan(0);
    expect(stopFills.reduce((q, f) => q + f.quantity, 0)).toBeCloseTo(stop!.order.quantity, 9);
    for (const f of stopFills) expect(f.price).toBeLessThanOrEqual(stop!.order.stopPrice!);

    // The runtime's books: every paper fill booked exactly once, none lost, none invented; open orders agree.
    const store = await openStore({ home });
    try {
      const booked = await store.fills.list({ strategyId: 'pp' });
      const bookedIds = booked.map((f) => f.venueTradeId);
      expect(new Set(bookedIds).size).toBe(bookedIds.length);
      expect(new Set(bookedIds)).toEqual(new Set(tradeIds));
      const stopBooked = booked.filter((f) => stopFills.some((x) => x.venueTradeId === f.venueTradeId));
      expect(stopBooked).toHaveLength(stopFills.length);
      const storeOpen = new Set((await store.orders.listOpen('pp')).map((o) => o.clientOrderId));
      expect(storeOpen).toEqual(new Set(openOrders(after).map((o) => o.order.clientOrderId)));
    } finally {
      await store.close();
    }
  }, 600_000);

  it('refuses to start on a saved account that does not parse, naming the field, and leaves it as it was', async () => {
    const home = join(dir, 'bad-home');
    const bad = { version: 1, venueId: 'pap', nextId: 3, balances: { USDT: 'lots' }, orders: [], fills: [] };
    const seed = await openStore({ home });
    await seed.kv.set(KEY, bad);
    await seed.close();
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'pap', type: 'paper', options: { url: sim.url, balances: { USDT: 10_000 } } }],
      deployments: [{ id: 'pb', strategy: 'sma-cross', venue: 'pap', symbols: ['BTC/USDT'] }],
      runtime: { barSeconds: 1, warmupBars: 2, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 1 },
    });
    await expect(
      startRuntime({ config, profile: 'dev', home: resolveHome({}, home), env: {}, runFile: false }),
    ).rejects.toThrow(
      /venues\.0: the saved paper account of venue "pap" \(store key paper\.account\.pap\).*balances\.USDT/,
    );
    // Never silently reset: the saved account is still the one that failed.
    const after = await openStore({ home });
    try {
      expect(await after.kv.get(KEY)).toEqual(bad);
    } finally {
      await after.close();
    }
  }, 300_000);
});
