/** Exchange simulator: a loopback Binance-spot (and USDⓈ-M futures) look-alike with a seeded market and fault injection. */
export { BinanceApiError, DEFAULT_MARKETS, SimExchange } from './exchange.js';
export type {
  NewOrderParams,
  SimBalance,
  SimExchangeOptions,
  SimOrder,
  SimOrderStatus,
  SimExecutionType,
  SimOrderType,
  SimTrade,
} from './exchange.js';
export { FaultController } from './faults.js';
export { SimFuturesAccount } from './futures-account.js';
export type { SimFuturesPosition, SimIncome, SimMarginType } from './futures-account.js';
export { futuresCcxtUrls, SimFutures } from './futures-routes.js';
export type { SimFuturesOptions } from './futures-routes.js';
export type { FaultMatch, FaultRule } from './faults.js';
export type { SimMarketSpec } from './market-model.js';
export { ccxtUrlsFor, startSimulator } from './server.js';
export type { RequestLogEntry } from './http-intake.js';
export type { SimulatorHandle, SimulatorOptions } from './server.js';
export { LISTEN_KEY_TTL_MS, SimUserData } from './user-data.js';
export type { SimUserDataOptions, UserDataStats } from './user-data.js';
export { krakenCcxtUrls, krakenWsUrl, startKrakenSimulator } from './kraken-server.js';
export type { KrakenSimulatorHandle, KrakenSimulatorOptions } from './kraken-server.js';
export { KRAKEN_ASSETS, KRAKEN_BALANCES, KRAKEN_MARKETS } from './kraken-format.js';
export type { KrakenAssetSpec, KrakenPairSpec } from './kraken-format.js';
export { KRAKEN_WS_TOKEN_TTL_MS, KrakenPrivateWs } from './kraken-ws.js';
export type { KrakenWsStats } from './kraken-ws.js';
