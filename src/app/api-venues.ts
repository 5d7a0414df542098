/** The runtime's venues for the API (`server/api/routes-venues.ts`): the deployments' venues and a connection test. */
import type { Venue } from '../core/venue.js';
import type { ApiVenues, ApiVenueTest } from '../server/api/routes-venues.js';

/** A venue as the test needs it (a `BuiltVenue` is one). */
export interface TestableVenue {
  id: string;
  type: string;
  real: boolean;
  venue: Pick<Venue, 'fetchBalances'>;
}

/** How long a connection test waits for the venue. */
const TEST_TIMEOUT_MS = 10_000;

/** Venues over the deployments' built venues (each once). */
export function runtimeVenues(venues: () => readonly TestableVenue[]): ApiVenues {
  const unique = () => [...new Map(venues().map((v) => [v.id, v])).values()];
  return {
    list: () => unique().map((v) => ({ id: v.id, type: v.type, real: v.real })),
    async test(id): Promise<ApiVenueTest | undefined> {
      const v = unique().find((x) => x.id === id);
      if (!v) return undefined;
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const balances = await Promise.race([
          v.venue.fetchBalances(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS);
          }),
        ]);
        const latencyMs = Math.round(performance.now() - t0);
        return { ok: true, message: `${id} answered: ${balances.length} balance(s)`, latencyMs };
      } catch (err) {
        const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
        return { ok: false, message: `${id}: ${msg}`, latencyMs: Math.round(performance.now() - t0) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
