/** The ccxt venue adapter. */
export { CcxtVenue, FUTURES_EXCHANGES, SANDBOX_EXCHANGES } from './ccxt-venue.js';
export type { CcxtVenueOptions } from './ccxt-venue.js';
export { mapCcxtError, VENUE_CODES } from './errors.js';
export type { CcxtFuturesOptions, FundingPayment, FundingRate, FuturesPosition } from './futures.js';
export type { FundingEvent } from './futures-stream.js';
