/**
 * PERF-3: the live order path in process — a market event (a ticker that closes a bar) -> live feed -> engine ->
 * strategy -> risk engine (live defaults + runtime gates) -> execution engine -> live bridge (write-ahead journal)
 * -> the venue's placeOrder, timed from the push to the placement call at an in-memory venue double. p50/p99 over
 * 100k events. Then the event bus: publishes per second to three subscribers.
 */
import { InProcessEventBus } from '../src/engine/event-bus.js';
import type { Strategy } from '../src/strategy/types.js';
import { assembleDeployment } from '../test/fixtures/runtime/kit.js';
import { MemoryVenue } from '../test/fixtures/runtime/memory-venue.js';

const EVENTS = 100_000;
const WARMUP = 5_000;
const TARGET_P99_MS = 1;
const BUS_EVENTS = 5_000_000;
const TARGET_BUS_PER_SECOND = 1_000_000;

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export default async function (): Promise<void> {
  const venue = new MemoryVenue();
  // Every bar: buy when flat, sell when long — one order per market event.
  const flipper: Strategy = {
    onBar(ctx) {
      if (ctx.position() > 0) ctx.sell();
      else ctx.buy({ quantity: 0.001 });
    },
  };
  const d = await assembleDeployment(venue, flipper, { barMs: 1, staleAfterMs: 3_600_000 });
  d.bridge.start();
  d.feed.start();
  // The bench keeps no history (a real journal writes to the store; the double would only grow the heap).
  venue.keep = false;
  d.journal.keep = false;
  let filled: () => void = () => {};
  d.bus.subscribe('fill.executed.v1', () => filled());
  // Also time the synchronous decision part: push -> the order handed to the bridge (before any await).
  let submittedAt = 0;
  const submit = d.bridge.submit.bind(d.bridge);
  d.bridge.submit = (o) => {
    submittedAt = performance.now();
    submit(o);
  };
  const dec = new Float64Array(EVENTS);
  let placedAt = 0;
  let resolvePlaced: () => void = () => {};
  venue.onPlace = () => {
    placedAt = performance.now();
    resolvePlaced();
  };
  const lat = new Float64Array(EVENTS);
  const t0 = 1_700_000_000_000;
  let price = 100;
  const total = WARMUP + EVENTS;
  for (let i = 0; i < total; i++) {
    const placed = new Promise<void>((r) => {
      resolvePlaced = r;
    });
    const fillDone = new Promise<void>((r) => {
      filled = r;
    });
    price += i % 2 === 0 ? 0.01 : -0.01;
    const start = performance.now();
    venue.pushTicker('BTC/USDT', price, t0 + i);
    if (i === 0) continue; // the first ticker only opens a bar
    await placed;
    if (i > WARMUP) {
      lat[i - WARMUP - 1] = placedAt - start;
      dec[i - WARMUP - 1] = submittedAt - start;
    }
    // Let the fill come back before the next event (not timed): the strategy decides on the booked position.
    await fillDone;
  }
  d.feed.close();
  d.bridge.close();
  const n = EVENTS - 1;
  const sorted = lat.subarray(0, n).sort();
  const p50 = quantile(sorted, 0.5);
  const p99 = quantile(sorted, 0.99);
  const max = sorted[n - 1];
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`live path (ticker -> bar -> strategy -> risk -> execution -> bridge -> venue.placeOrder), ${n} events`);
  out(`  p50        ${(p50 * 1000).toFixed(1)} µs`);
  out(`  p90        ${(quantile(sorted, 0.9) * 1000).toFixed(1)} µs`);
  out(
    `  p99        ${(p99 * 1000).toFixed(1)} µs   (target < ${TARGET_P99_MS * 1000} µs: ${p99 < TARGET_P99_MS ? 'met' : 'NOT met'})`,
  );
  out(`  p99.9      ${(quantile(sorted, 0.999) * 1000).toFixed(1)} µs`);
  out(`  max        ${(max * 1000).toFixed(1)} µs`);
  const ds = dec.subarray(0, n).sort();
  out(
    `  decision (push -> order handed to the bridge, synchronous): p50 ${(quantile(ds, 0.5) * 1000).toFixed(1)} µs, p99 ${(quantile(ds, 0.99) * 1000).toFixed(1)} µs`,
  );
  out(`  orders     ${venue.placed}, fills ${d.engine.fills}, risk rejections ${d.engine.riskEvents.length}`);

  // Event bus throughput: one reused event, three subscribers.
  const bus = new InProcessEventBus();
  let sink = 0;
  for (let k = 0; k < 3; k++)
    bus.subscribe('heartbeat.beat.v1', (e: { payload: { seq: number } }) => {
      sink += e.payload.seq;
    });
  const ev = {
    name: 'heartbeat.beat.v1' as const,
    time: 0,
    correlationId: 'bench',
    source: 'bench',
    payload: { seq: 1 },
  };
  for (let i = 0; i < 200_000; i++) bus.publish(ev);
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const s = performance.now();
    for (let i = 0; i < BUS_EVENTS; i++) bus.publish(ev);
    const perSec = BUS_EVENTS / ((performance.now() - s) / 1000);
    if (perSec > best) best = perSec;
  }
  out(
    `event bus  ${(best / 1e6).toFixed(2)} M events/s published to 3 subscribers (target >= ${TARGET_BUS_PER_SECOND / 1e6} M/s: ${best >= TARGET_BUS_PER_SECOND ? 'met' : 'NOT met'})${sink < 0 ? '' : ''}`,
  );
}
