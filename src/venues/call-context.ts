/**
 * Context that travels with a venue call through the adapter stack without changing the Venue interface: whether
 * the call is urgent (the kill switch: it may use the request budget's reserve) and a signal that stops a
 * placement's retries (a placement the kill switch overtook must not be re-sent).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a venue call carries. */
export interface VenueCallContext {
  /** Kill switch traffic: served from the budget's reserve, never behind ordinary calls. */
  urgent?: boolean;
  /** Aborts a placement's retries (checked before every re-send and during backoff). */
  signal?: AbortSignal;
}

const store = new AsyncLocalStorage<VenueCallContext>();

/** Runs `fn` with `ctx` merged over the current context; every venue call made inside sees it. */
export function withVenueCallContext<T>(ctx: VenueCallContext, fn: () => T): T {
  return store.run({ ...store.getStore(), ...ctx }, fn);
}

/** The context of the venue call running now (empty outside one). */
export function venueCallContext(): VenueCallContext {
  return store.getStore() ?? {};
}
