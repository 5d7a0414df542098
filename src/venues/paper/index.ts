/** The paper venue (VENUE-5): a paper account filled on live prices by the backtester's matching engine. */
export { PAPER_CODES, PaperVenue } from './paper-venue.js';
export type { MarketDataSource, PaperVenueOptions } from './paper-venue.js';
export { Ledger } from './ledger.js';
export { SaveGate } from './save-gate.js';
export type { SaveSnapshot } from './save-gate.js';
export { parsePaperState } from './state.js';
export type { PaperOrderState, PaperState } from './state.js';
