/** Funding payments of perpetual futures booked into deployments' books, once per venue income id and deployment. */
import type { Kysely } from 'kysely';
import { fromDecimalText, toDecimalText } from '../money.js';
import type { Database } from '../schema.js';

/** One funding payment booked into one deployment's book. */
export interface BookedFunding {
  venue: string;
  /** The venue's id of the payment (Binance `tranId`). */
  incomeId: string;
  deploymentId: string;
  symbol: string;
  /** Positive received, negative paid. */
  amount: number;
  asset: string;
  time: number;
  bookedAt: number;
}

/** The funding_payments table. */
export class FundingPaymentsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a payment unless that venue income id is booked for that deployment; true when this call stored it. */
  async insertOnce(f: BookedFunding): Promise<boolean> {
    const r = await this.db
      .insertInto('funding_payments')
      .values({
        venue: f.venue,
        income_id: f.incomeId,
        deployment_id: f.deploymentId,
        symbol: f.symbol,
        amount: toDecimalText(f.amount),
        asset: f.asset,
        time: f.time,
        booked_at: f.bookedAt,
      })
      .onConflict((oc) => oc.columns(['venue', 'income_id', 'deployment_id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Payments booked into a deployment, oldest first. */
  async byDeployment(deploymentId: string): Promise<BookedFunding[]> {
    const rows = await this.db
      .selectFrom('funding_payments')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .orderBy('time')
      .orderBy('income_id')
      .execute();
    return rows.map((r) => ({
      venue: r.venue,
      incomeId: r.income_id,
      deploymentId: r.deployment_id,
      symbol: r.symbol,
      amount: fromDecimalText(r.amount),
      asset: r.asset,
      time: Number(r.time),
      bookedAt: Number(r.booked_at),
    }));
  }

  /** Time of the latest payment booked from `venue` (undefined when none). */
  async lastTime(venue: string): Promise<number | undefined> {
    const r = await this.db
      .selectFrom('funding_payments')
      .select((eb) => eb.fn.max('time').as('t'))
      .where('venue', '=', venue)
      .executeTakeFirst();
    return r?.t === null || r?.t === undefined ? undefined : Number(r.t);
  }
}
