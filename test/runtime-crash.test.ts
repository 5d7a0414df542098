import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { shortHash } from '../src/venues/live/client-order-id.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

// Done-when of issue 6: kill -9 of the runtime during trading, then a restart, reconciles to the venue's truth with
// no duplicate and no lost order — asserted against the simulator's own record.
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/tradeforge.js');
// Client order ids start with the hash of the deployment id (unique across deployments sharing the account).
const PREFIX = `${shortHash('k9')}-`;

let sim: SimulatorHandle;
let dir: string;
const children: ChildProcess[] = [];

function startChild(cfg: string, home: string): { child: ChildProcess; out: () => string } {
  let text = '';
  const child = spawn(process.execPath, [BIN, 'start', '--config', cfg], {
    cwd: ROOT,
    env: { ...process.env, TRADEFORGE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  children.push(child);
  return { child, out: () => text };
}

// Hang guards, not budgets: each wait ends at its event; the limit only stops a hung run, and is generous so that a
// loaded machine (the suite once failed here at load 20 with 40 s limits) turns slowness into nothing worse.
const STEP_GUARD_MS = 300_000;

async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms: number,
  log?: () => string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${log ? `\n--- runtime output ---\n${log()}` : ''}`);
}

const ours = () => sim.state.orders.filter((o) => o.clientOrderId.startsWith(PREFIX));
const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

beforeAll(async () => {
  sim = await startSimulator({
    seed: 5,
    tickIntervalMs: 50,
    markets: [
      {
        symbol: 'BTCUSDT',
        base: 'BTC',
        quote: 'USDT',
        price: 30_000,
        tickSize: 0.01,
        stepSize: 0.00001,
        minQty: 0.00001,
        minNotional: 5,
        volatility: 0.004,
      },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-crash-'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('runtime crash recovery', () => {
  it(
    'kill -9 during trading, restart: no duplicate and no lost order; SIGTERM exits 0 and leaves the stop',
    async () => {
      const home = join(dir, 'home');
      const cfg = join(dir, 'config.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          profile: 'dev',
          server: { port: 0 },
          venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
          deployments: [
            {
              id: 'k9',
              strategy: 'sma-cross',
              params: { fast: 2, slow: 3 },
              venue: 'sim',
              symbols: ['BTC/USDT'],
              capitalCap: 10_000,
              stake: '40%',
              exits: { stopLoss: 0.05 },
            },
          ],
          runtime: { barSeconds: 0.5, warmupBars: 10, pollMs: 150, staleAfterSeconds: 10, heartbeatSeconds: 2 },
        }),
      );

      // First life: trade until several orders exist, then hang one placement that the venue still executes (the
      // client never hears back) and kill -9 while it is in flight.
      const first = startChild(cfg, home);
      await waitFor('orders from the first run', () => ours().length >= 3, STEP_GUARD_MS, first.out);
      const before = ours().length;
      sim.faults.hangNext(1, true, { method: 'POST', path: '/api/v3/order' });
      await waitFor('an in-flight order', () => ours().length > before, STEP_GUARD_MS, first.out);
      first.child.kill('SIGKILL');
      await exited(first.child);
      sim.faults.reset();
      const atCrash = ours().length;
      const inFlight = ours()[atCrash - 1];

      // Second life: reconcile, then keep trading a little.
      const second = startChild(cfg, home);
      await waitFor(
        'the restarted runtime',
        () => /reconcile: (\d+) checked/.test(second.out()),
        STEP_GUARD_MS,
        second.out,
      );
      const m = /reconcile: (\d+) checked, (\d+) fills applied, (\d+) not placed, (\d+) unknown cancelled/.exec(
        second.out(),
      );
      expect(m, second.out()).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThanOrEqual(1); // the in-flight order at least
      expect(Number(m?.[4])).toBe(0); // nothing of ours looked unknown
      await waitFor('orders after the restart', () => ours().length >= atCrash + 2, STEP_GUARD_MS, second.out);
      // Stop while long with a protective stop resting, so SIGTERM has a stop to leave behind.
      await waitFor(
        'an open protective stop',
        () => ours().some((o) => o.type === 'STOP_LOSS' && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')),
        STEP_GUARD_MS,
        second.out,
      );
      const runFile = join(home, 'run', 'runtime.json');
      expect(existsSync(runFile)).toBe(true);
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
      expect(existsSync(runFile)).toBe(false);

      // The venue's truth.
      const simOrders = ours();
      const cids = simOrders.map((o) => o.clientOrderId);
      expect(new Set(cids).size).toBe(cids.length); // no duplicate placement
      const simTrades = sim.state.trades.filter((t) => t.clientOrderId.startsWith(PREFIX));
      const store = await openStore({ home });
      try {
        const stored = await store.orders.list({ strategyId: 'k9', limit: 10_000 });
        const byCid = new Map(stored.map((o) => [o.clientOrderId, o]));
        // No lost order: every venue order is in the store, with the venue's fill state.
        for (const so of simOrders) {
          const local = byCid.get(so.clientOrderId);
          expect(local, `venue order ${so.clientOrderId} missing from the store`).toBeDefined();
          expect(
            local?.venueOrderId,
            JSON.stringify({ so: { ...so, fills: undefined }, local, inFlight: inFlight.clientOrderId }),
          ).toBe(String(so.orderId));
          if (so.status === 'FILLED') expect(local?.filledQuantity).toBeCloseTo(so.executedQty, 8);
        }
        // The in-flight order of the crash was found and booked.
        expect(byCid.get(inFlight.clientOrderId)?.filledQuantity ?? 0).toBeCloseTo(inFlight.executedQty, 8);
        // Every venue fill booked exactly once.
        const fills = await store.fills.list({ strategyId: 'k9' });
        const tradeIds = fills.map((f) => f.venueTradeId);
        expect(new Set(tradeIds).size).toBe(tradeIds.length);
        expect(new Set(tradeIds)).toEqual(new Set(simTrades.map((t) => String(t.id))));
        // The position we book equals what the venue's executions credited (a buy's fee is taken in BTC).
        const venuePos = simTrades.reduce(
          (q, t) => q + (t.isBuyer ? t.qty - (t.commissionAsset === 'BTC' ? t.commission : 0) : -t.qty),
          0,
        );
        const bookedPos = fills.reduce((q, f) => q + (f.side === 'buy' ? f.quantity : -f.quantity), 0);
        // Booked in whole lots: each buy leaves less than one lot of dust on the account, never more.
        const buys = simTrades.filter((t) => t.isBuyer).length;
        expect(venuePos - bookedPos).toBeGreaterThanOrEqual(-1e-9);
        expect(venuePos - bookedPos).toBeLessThanOrEqual(buys * 0.00001 + 1e-9);
        // Orders still working on the venue are open in the store too (and vice versa).
        const venueOpen = new Set(
          simOrders.filter((o) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED').map((o) => o.clientOrderId),
        );
        const storeOpen = new Set((await store.orders.listOpen('k9')).map((o) => o.clientOrderId));
        expect(storeOpen).toEqual(venueOpen);
        // SIGTERM left the protective stop of the open position on the venue (sub-lot dust is no position).
        if (Math.abs(bookedPos) > 1e-9) {
          expect(simOrders.some((o) => o.type === 'STOP_LOSS' && venueOpen.has(o.clientOrderId))).toBe(true);
        }
      } finally {
        await store.close();
      }
      expect(readFileSync(join(home, 'logs', 'tradeforge.log'), 'utf8')).toMatch(/deployment started/);
    },
    6 * STEP_GUARD_MS,
  );
});
