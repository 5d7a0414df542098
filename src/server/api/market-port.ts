/**
 * What the API needs to show markets: the symbols the runtime trades, their candles (with indicator overlays), the
 * order book, and live tickers and books on demand. The runtime implements it (`app/api-market.ts`).
 */
import type { StreamEvent } from './port.js';

/** One candle. */
export interface ApiCandle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** One indicator overlay: its output name and one value per candle (null during warm-up). */
export interface ApiOverlay {
  name: string;
  values: (number | null)[];
}

/** Candles of one symbol at one timeframe, oldest first, with the overlays asked for. */
export interface ApiCandles {
  symbol: string;
  timeframe: string;
  candles: ApiCandle[];
  overlays: ApiOverlay[];
}

/** A symbol a deployment trades, with the timeframe its bars arrive in. */
export interface ApiMarketSymbol {
  symbol: string;
  deployment: string;
  timeframe: string;
}

/** An order book: bids best (highest) first, asks best (lowest) first. */
export interface ApiOrderBook {
  symbol: string;
  time: number;
  bids: { price: number; quantity: number }[];
  asks: { price: number; quantity: number }[];
}

/** The request of {@link ApiMarketData.candles}. */
export interface CandleRequest {
  symbol: string;
  /** Default: the deployment's own timeframe. */
  timeframe?: string;
  limit: number;
  /** Indicator specs such as `sma:20` or `bbands:20,2` (docs/indicators). */
  indicators: readonly string[];
}

/** Market data for the chart and the order book. */
export interface ApiMarketData {
  symbols(): ApiMarketSymbol[];
  /**
   * The latest candles; throws ValidationError naming the field (`symbol`, `timeframe`, `indicators`) for a symbol
   * no deployment trades, a timeframe below the bars' own, or an unknown indicator.
   */
  candles(req: CandleRequest): ApiCandles;
  /** The venue's order book (ValidationError `symbol` for a symbol no deployment trades). */
  orderBook(symbol: string, depth: number): Promise<ApiOrderBook>;
  /**
   * Starts the venue streams of a topic (`tickers` or `orderbook`, keyed by symbol) for every traded symbol and
   * returns the function that stops them. The API calls it when the first client subscribes and stops it when
   * the last one leaves, so an idle dashboard costs the venue nothing.
   */
  watch(topic: 'tickers' | 'orderbook', emit: (e: StreamEvent) => void): () => void;
}
