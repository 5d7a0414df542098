/**
 * The context side of the membrane between a sandboxed strategy and the host (evaluated inside the sandbox).
 * `makeContext(h)` builds the StrategyContext a strategy sees out of the sandbox's own objects; `h` is the host
 * bridge, whose functions take and return only primitives (numbers, strings, booleans, JSON text), and which
 * stays in this closure: user code never holds a host object, so no `.constructor` chain leads to the host's
 * Function. A host error arrives as a thrown string and is re-thrown as a sandbox Error.
 */
export const MEMBRANE_SOURCE = `(function (h) {
'use strict';
const parse = (s) => (s === null || s === undefined ? null : JSON.parse(s));
const call = (f) => function () {
  try { return f.apply(undefined, arguments); } catch (e) { throw new Error(typeof e === 'string' ? e : 'host error'); }
};
const opt = (o) => (o === undefined || o === null ? null : JSON.stringify({
  symbol: o.symbol === undefined ? undefined : String(o.symbol),
  quantity: o.quantity === undefined ? undefined : Number(o.quantity),
  tag: o.tag === undefined ? undefined : String(o.tag),
  timeInForce: o.timeInForce === undefined ? undefined : String(o.timeInForce),
  clientOrderId: o.clientOrderId === undefined ? undefined : String(o.clientOrderId),
  reduceOnly: o.reduceOnly === undefined ? undefined : Boolean(o.reduceOnly),
}));
const str = (x) => (x === undefined || x === null ? undefined : String(x));
const hist = call(h.hist), histLen = call(h.histLen), histArray = call(h.histArray), order = call(h.order);
function history(symbol, timeframe) {
  const s = str(symbol), tf = str(timeframe);
  const get = (field, ago) => hist(s, tf, String(field), ago === undefined ? 0 : Number(ago));
  return Object.freeze({
    get length() { return histLen(s, tf); },
    get,
    time: (ago) => get('time', ago), open: (ago) => get('open', ago), high: (ago) => get('high', ago),
    low: (ago) => get('low', ago), close: (ago) => get('close', ago), volume: (ago) => get('volume', ago),
    toArray: (field) => Float64Array.from(parse(histArray(s, tf, String(field))), (v) => (v === null ? NaN : v)),
  });
}
const bar = call(h.bar);
const barView = Object.freeze({
  get time() { return bar(0); }, get open() { return bar(1); }, get high() { return bar(2); },
  get low() { return bar(3); }, get close() { return bar(4); }, get volume() { return bar(5); },
  get index() { return bar(6); },
});
const pf = call(h.portfolio);
const portfolio = Object.freeze({
  get cash() { return pf(0); }, equity: () => pf(1), position: (s) => pf(2, str(s)),
  averagePrice: (s) => pf(3, str(s)), unrealizedPnl: (s) => pf(4, str(s)),
  get realizedPnl() { return pf(5); }, get feesPaid() { return pf(6); },
});
const fixed = parse(h.fixed());
const info = call(h.info);
const market = (kind) => (o) => parse(order(kind, '', NaN, NaN, opt(o)));
return Object.freeze({
  strategyId: fixed.strategyId,
  symbols: Object.freeze(fixed.symbols),
  timeframe: fixed.timeframe,
  params: Object.freeze(fixed.params),
  get time() { return info(0); },
  get symbol() { return info(1); },
  get symbolIndex() { return info(2); },
  bar: barView,
  portfolio,
  history,
  value: (column, ago, symbol) => call(h.value)(String(column), ago === undefined ? 0 : Number(ago), str(symbol)),
  text: (column, ago, symbol) => call(h.text)(String(column), ago === undefined ? 0 : Number(ago), str(symbol)),
  position: (symbol) => call(h.position)(str(symbol)),
  openOrders: (symbol) => parse(call(h.openOrders)(str(symbol))),
  buy: market('buy'), sell: market('sell'), short: market('short'), cover: market('cover'),
  close: (symbol, tag) => parse(order('close', '', NaN, NaN, opt({ symbol, tag }))),
  limit: (side, price, o) => parse(order('limit', String(side), Number(price), NaN, opt(o))),
  stop: (side, stopPrice, o) => parse(order('stop', String(side), NaN, Number(stopPrice), opt(o))),
  stopLimit: (side, stopPrice, price, o) => parse(order('stopLimit', String(side), Number(price), Number(stopPrice), opt(o))),
  cancel: (id) => { call(h.cancel)(String(id)); },
  stakeQuantity: (price, symbol) => call(h.stakeQuantity)(Number(price), str(symbol)),
  log: (message, level) => { call(h.log)(String(message), level === undefined ? 'info' : String(level)); },
});
})`;
