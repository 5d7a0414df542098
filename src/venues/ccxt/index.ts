/** The ccxt venue adapter. */
export { CcxtVenue, SANDBOX_EXCHANGES } from './ccxt-venue.js';
export type { CcxtVenueOptions } from './ccxt-venue.js';
export { mapCcxtError, VENUE_CODES } from './errors.js';
