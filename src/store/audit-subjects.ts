/** Subject naming shared by the audit subscriber and order-story reconstruction. */

/** Subject of everything that happened to one order (by internal id or client order id). */
export function orderSubject(id: string): string {
  return `order:${id}`;
}

/** Subject of a signal/intent chain before it became an order (risk decisions). */
export function correlationSubject(correlationId: string): string {
  return `correlation:${correlationId}`;
}
