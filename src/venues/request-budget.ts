/** The shape of a request budget adapters accept (src/risk's class satisfies it; venues never import risk). */

/** A budget of venue requests: `tryAcquire` takes one if available, `waitTime` says how long until one is. */
export interface RequestBudget {
  tryAcquire(now: number): boolean;
  waitTime(now: number): number;
}
