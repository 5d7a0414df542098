/**
 * Books the funding payments of a futures venue into the deployments trading on it (issue 15): polls the venue's
 * funding payments, stores each once per venue income id and deployment (a restart or an overlapping poll never
 * books one twice), credits or debits the deployment's cash and realised P&L, and publishes `funding.booked.v1`
 * (audited). A payment goes to the one deployment trading its symbol on that venue; the runtime refuses two
 * deployments sharing a symbol on one futures venue (`fundingOwners`), so attribution is never a guess.
 * Where the venue's user-data stream announces a payment (`watchFunding`), the booker reads at once instead of at its
 * next poll; the stream's event has no income id, so the read, not the event, is what is booked: a payment seen both
 * ways is booked once.
 */
import { ConfigError } from '../../core/errors.js';
import type { EventBus } from '../../core/events.js';
import type { Portfolio } from '../../engine/portfolio.js';
import type { Store } from '../../store/index.js';
import type { Subscription } from '../../core/index.js';
import type { FundingEvent, FundingPayment } from '../../venues/ccxt/index.js';
import type { DeploymentRuntime } from './runtime-types.js';

/** Where a venue's funding payments come from (the ccxt adapter in futures mode). */
export interface FundingSource {
  fetchFundingPayments(since?: number, symbol?: string): Promise<FundingPayment[]>;
  /** Payments announced as they happen (the futures user-data stream), when the venue has them. */
  watchFunding?(onFunding: (e: FundingEvent) => void, onError?: (e: Error) => void): Subscription;
}

/** The deployment trading each symbol of one futures venue; a ConfigError when two share one. */
export function fundingOwners(
  venueId: string,
  deployments: readonly { id: string; venue: string; symbols: readonly string[] }[],
): Map<string, string> {
  const owners = new Map<string, string>();
  deployments.forEach((d, k) => {
    if (d.venue !== venueId) return;
    for (const sym of d.symbols) {
      const other = owners.get(sym);
      if (other !== undefined)
        throw new ConfigError(
          `deployments.${k}.symbols`,
          `${d.id} and ${other} both trade ${sym} on futures venue ${venueId}: one account nets them into one position, so its funding could not be attributed; run one deployment per symbol on a futures account`,
        );
      owners.set(sym, d.id);
    }
  });
  return owners;
}

/**
 * Replays the funding stored for deployment `deploymentId` into `portfolio` (after its fills): the runtime's start
 * and the offline status (`rebuildBook`) both book it here. Returns the count.
 */
export async function replayFundingInto(store: Store, deploymentId: string, portfolio: Portfolio): Promise<number> {
  const rows = await store.funding.byDeployment(deploymentId);
  for (const r of rows) {
    const s = portfolio.indexOf(r.symbol);
    if (s >= 0) portfolio.bookCashFlow(s, r.amount);
  }
  return rows.length;
}

/** Replays the funding stored for a running deployment into its book (on start, after its fills). Returns the count. */
export function replayFunding(store: Store, d: DeploymentRuntime): Promise<number> {
  return replayFundingInto(store, d.id, d.engine.portfolio);
}

/** Options of a FundingBooker. */
export interface FundingBookerOptions {
  venueId: string;
  source: FundingSource;
  /** The venue's deployments, already started (their books replayed). */
  deployments: readonly DeploymentRuntime[];
  store: Store;
  bus: EventBus;
  pollMs: number;
  onError: (err: unknown) => void;
}

/** Polls one futures venue's funding payments and books each new one once. */
export class FundingBooker {
  private readonly owners: Map<string, DeploymentRuntime>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** A stream event arrived while a poll ran: read again right after it. */
  private again = false;
  private stream: Subscription | undefined;
  private closed = false;
  /** Payments booked by this booker since start. */
  booked = 0;
  /** Reads prompted by the venue's stream (not by the poll period). */
  prompted = 0;

  constructor(private readonly o: FundingBookerOptions) {
    this.owners = new Map();
    for (const d of o.deployments) for (const sym of d.symbols) this.owners.set(sym, d);
  }

  /** Polls now and then every `pollMs`, and at once whenever the venue's stream announces a payment. */
  start(): this {
    this.stream = this.o.source.watchFunding?.(() => this.prompt(), this.o.onError);
    this.loop();
    return this;
  }

  private loop(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
    this.running = this.poll()
      .catch(this.o.onError)
      .finally(() => {
        this.running = null;
        if (this.closed) return;
        if (this.again) this.loop();
        else this.timer = setTimeout(() => this.loop(), this.o.pollMs);
      });
  }

  // A payment was announced: read now, or right after the read under way (it may have missed it).
  private prompt(): void {
    if (this.closed) return;
    this.prompted++;
    if (this.running) this.again = true;
    else this.loop();
  }

  /**
   * Reads payments since the latest one booked from this venue (inclusive: the ids dedupe), or since the first
   * stored fill of its deployments when none is booked yet (funding before we traded is not ours), and books the
   * new ones.
   */
  async poll(): Promise<void> {
    const since = await this.since();
    if (since === undefined) return;
    const payments = await this.o.source.fetchFundingPayments(since);
    for (const p of payments) {
      if (this.closed) return;
      await this.book(p);
    }
  }

  private async since(): Promise<number | undefined> {
    const last = await this.o.store.funding.lastTime(this.o.venueId);
    if (last !== undefined) return last;
    let first: number | undefined;
    for (const d of this.o.deployments) {
      const f = (await this.o.store.fills.list({ strategyId: d.id, limit: 1 }))[0];
      if (f !== undefined && (first === undefined || f.time < first)) first = f.time;
    }
    return first;
  }

  private async book(p: FundingPayment): Promise<void> {
    const d = this.owners.get(p.symbol);
    // A symbol no deployment trades here: a position held outside the runtime, not ours to book.
    if (d === undefined || p.id === '' || !Number.isFinite(p.amount)) return;
    const s = d.engine.portfolio.indexOf(p.symbol);
    if (s < 0) return;
    const stored = await this.o.store.funding.insertOnce({
      venue: this.o.venueId,
      incomeId: p.id,
      deploymentId: d.id,
      symbol: p.symbol,
      amount: p.amount,
      asset: p.asset,
      time: p.time,
      bookedAt: Date.now(),
    });
    if (!stored) return;
    d.engine.portfolio.bookCashFlow(s, p.amount);
    this.booked++;
    this.o.bus.publish({
      name: 'funding.booked.v1',
      time: Date.now(),
      correlationId: `funding:${this.o.venueId}:${p.id}`,
      source: `venue:${this.o.venueId}`,
      payload: {
        deploymentId: d.id,
        venue: this.o.venueId,
        incomeId: p.id,
        symbol: p.symbol,
        amount: p.amount,
        asset: p.asset,
        time: p.time,
      },
    });
  }

  /** Stops polling and the stream, and waits for a poll in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.stream?.close();
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
