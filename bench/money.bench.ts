/**
 * Exact money (docs/money.md): the cost of booking one fill three ways, to justify the representation the live
 * path uses. (1) the Portfolio's doubles alone (`exact: 'off'`, what a backtest's loop did before); (2) the
 * Portfolio with its decimal.js ExactLedger as authority (paper and live: the double is read as its decimal, booked
 * exactly, the doubles read back); (3) integer minor units as BigInt (quantity in lots, price in ticks, cash in
 * tick x lot units), the alternative we did not take, with its conversions from the double at the boundary.
 * A fill alternates buy and sell so positions grow, reduce and close. Prints ns per fill with the load average.
 */
import { loadavg } from 'node:os';
import { Portfolio } from '../src/engine/portfolio.js';

const FILLS = Number(process.env.MONEY_BENCH_FILLS ?? 200_000);
const out = (s: string) => process.stdout.write(`${s}\n`);

// Fills as a venue sends them: prices on a 0.01 tick, quantities on a 1e-8 lot, a 0.1% fee.
const prices = new Float64Array(1024);
const qtys = new Float64Array(1024);
for (let i = 0; i < 1024; i++) {
  prices[i] = (3_000_000 + ((i * 7919) % 20_000)) * 0.01;
  qtys[i] = (100_000 + ((i * 104_729) % 900_000)) * 1e-8;
}

function timeIt(label: string, run: () => number): void {
  run(); // warm-up
  const t0 = performance.now();
  const sink = run();
  const ms = performance.now() - t0;
  out(`  ${label.padEnd(44)} ${((ms * 1e6) / FILLS).toFixed(0).padStart(6)} ns/fill  (check ${sink.toFixed(2)})`);
}

function portfolioRun(exact: 'off' | 'authority'): () => number {
  return () => {
    const p = new Portfolio(['BTC/USDT'], { cash: 1e7, margin: true, leverage: 10, exact });
    for (let i = 0; i < FILLS; i++) {
      const k = i & 1023;
      const price = prices[k];
      const q = qtys[k];
      p.applyFill(0, i & 1 ? -1 : 1, q, price, q * price * 0.001, i, 'x', undefined);
    }
    return p.cash;
  };
}

// Integer minor units: 1 lot = 1e-8, 1 tick = 0.01, cash in tick x lot = 1e-10 quote; fee rounded to that unit.
function bigintRun(): number {
  let cash = 10n ** 17n; // 1e7 quote in 1e-10 units
  let qty = 0n;
  for (let i = 0; i < FILLS; i++) {
    const k = i & 1023;
    // The boundary conversion from the double (what the live path receives), as the decimal path does it.
    const lots = BigInt(Math.round(qtys[k] / 1e-8));
    const ticks = BigInt(Math.round(prices[k] / 0.01));
    const notional = lots * ticks;
    const fee = notional / 1000n;
    if (i & 1) {
      cash += notional - fee;
      qty -= lots;
    } else {
      cash -= notional + fee;
      qty += lots;
    }
  }
  return Number(cash) / 1e10 + Number(qty) * 0;
}

export default function run(): void {
  out(`booking ${FILLS} fills, load ${loadavg()[0].toFixed(2)} (1 min)`);
  timeIt('doubles only (Portfolio, exact off)', portfolioRun('off'));
  timeIt('decimal.js authority (Portfolio + ExactLedger)', portfolioRun('authority'));
  timeIt('BigInt minor units (cash and quantity only)', bigintRun);
  out(`  load after ${loadavg()[0].toFixed(2)}`);
}
