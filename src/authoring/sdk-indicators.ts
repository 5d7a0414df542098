/**
 * The streaming indicators the strategy SDK hands user code: the one list of them. `sdk.ts` re-exports it for
 * strategy files' types and freezes it for the sandbox's run-time copy.
 */
export {
  Adx,
  Atr,
  BollingerBands,
  Cci,
  Donchian,
  Ema,
  Macd,
  Obv,
  Roc,
  Rsi,
  Sma,
  StdDev,
  Stochastic,
  Vwap,
  Wma,
} from '../indicators/index.js';
