/**
 * Our symbols to IB contracts and back: `AAPL/USD` is a stock routed through SMART in USD, `EUR/USD` (two currency
 * codes) a forex pair on IDEALPRO.
 */
import type { Contract } from '@stoqey/ib';
import { SecType } from '@stoqey/ib';
import { ValidationError } from '../../core/errors.js';
import type { InstrumentKind } from '../../core/instrument.js';

// Currencies IDEALPRO quotes; a symbol made of two of them is forex, anything else a stock.
const IDEALPRO_CURRENCIES = new Set([
  'USD',
  'EUR',
  'GBP',
  'JPY',
  'CHF',
  'AUD',
  'NZD',
  'CAD',
  'SEK',
  'NOK',
  'DKK',
  'HKD',
  'SGD',
  'MXN',
  'CNH',
  'ZAR',
  'PLN',
  'CZK',
  'HUF',
  'ILS',
  'TRY',
  'KRW',
]);

/** The IB contract for one of our symbols, and what kind of instrument it is. */
export interface IbkrContractSpec {
  contract: Contract;
  kind: Extract<InstrumentKind, 'stock' | 'forex'>;
}

/** Maps `BASE/QUOTE` to its IB contract; throws a ValidationError naming the symbol when it is malformed. */
export function contractFor(symbol: string): IbkrContractSpec {
  const m = /^([A-Z0-9.]{1,12})\/([A-Z]{3})$/.exec(symbol);
  if (!m) throw new ValidationError(`IBKR symbol "${symbol}" must look like AAPL/USD or EUR/USD`, 'symbol');
  const [, base, quote] = m;
  if (IDEALPRO_CURRENCIES.has(base) && IDEALPRO_CURRENCIES.has(quote)) {
    return { kind: 'forex', contract: { symbol: base, secType: SecType.CASH, exchange: 'IDEALPRO', currency: quote } };
  }
  return { kind: 'stock', contract: { symbol: base, secType: SecType.STK, exchange: 'SMART', currency: quote } };
}

/** Our symbol for an IB contract (stock and forex alike: `symbol/currency`). */
export function symbolOf(contract: Contract): string {
  return `${contract.symbol ?? ''}/${contract.currency ?? ''}`;
}
