/** The shape of a request budget adapters accept (src/risk's class satisfies it; venues never import risk). */

/**
 * A budget of venue requests: `tryAcquire` takes one if available, `waitTime` says how long until one is. An urgent
 * request (the kill switch) may also use the share held in reserve, so it never waits behind ordinary traffic.
 */
export interface RequestBudget {
  tryAcquire(now: number, urgent?: boolean): boolean;
  waitTime(now: number, urgent?: boolean): number;
}
