/**
 * The simulator's Binance USDⓈ-M futures API (`/fapi/...`): a second `SimExchange` (the same matching engine) whose
 * settlement is a `SimFuturesAccount`, and the routes ccxt's `binanceusdm` calls. The server hands it every
 * `/fapi/` request after the signature check of the paths `isPrivate` names.
 */
import { s8, ticker24h } from './binance-format.js';
import { BinanceApiError, DEFAULT_MARKETS, SimExchange, type SimExchangeOptions } from './exchange.js';
import { SimFuturesAccount, type SimFuturesAccountOptions } from './futures-account.js';
import { SimAlgoOrders } from './futures-algo.js';
import {
  futuresAccountJson,
  futuresBalanceJson,
  accountUpdate,
  algoOrderJson,
  algoUpdate,
  futuresOrderJson,
  futuresProtocol,
  futuresSymbolInfo,
  futuresTradeJson,
  incomeJson,
  positionRiskV2,
  positionRiskV3,
  premiumIndexJson,
} from './futures-format.js';
import { depthAnswer, FUTURES_LIMITS, klinesAnswer, numParam } from './market-routes.js';
import { SimUserData, type SimUserDataOptions } from './user-data.js';

/** Options of the futures side of the simulator. */
export interface SimFuturesOptions extends SimFuturesAccountOptions {
  /** Taker and maker fee rate (default 0.0004, Binance's USDⓈ-M taker fee). */
  feeRate?: number;
}

/** What the futures user-data stream needs from the server: credentials, the request clock, the key validity. */
export type SimFuturesStreamOptions = Omit<SimUserDataOptions, 'exchange' | 'protocol'>;

const PRIVATE = new Set([
  '/fapi/v1/order',
  '/fapi/v1/openOrders',
  '/fapi/v1/allOrders',
  '/fapi/v1/userTrades',
  '/fapi/v1/leverage',
  '/fapi/v1/marginType',
  '/fapi/v1/income',
  '/fapi/v1/leverageBracket',
  '/fapi/v1/positionSide/dual',
  '/fapi/v1/symbolConfig',
  '/fapi/v2/account',
  '/fapi/v3/account',
  '/fapi/v2/balance',
  '/fapi/v3/balance',
  '/fapi/v2/positionRisk',
  '/fapi/v3/positionRisk',
  '/fapi/v1/algoOrder',
  '/fapi/v1/openAlgoOrders',
  '/fapi/v1/allAlgoOrders',
]);

/** The `urls.api` entries of ccxt's `binanceusdm` for a simulator at `url` (REST only: `fapi` v1, v2 and v3). */
export function futuresCcxtUrls(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of [1, 2, 3]) {
    const suffix = v === 1 ? '' : `V${v}`;
    out[`fapiPublic${suffix}`] = `${url}/fapi/v${v}`;
    out[`fapiPrivate${suffix}`] = `${url}/fapi/v${v}`;
  }
  return out;
}

/** The futures exchange, its account and its routes. */
export class SimFutures {
  readonly exchange: SimExchange;
  readonly account: SimFuturesAccount;
  /** The futures user-data stream (`/fapi/v1/listenKey`, `/fstream/private/ws?listenKey=…`). */
  readonly userData: SimUserData;
  /** Conditional orders (stops) resting untriggered at the Algo Service. */
  readonly algo: SimAlgoOrders;

  constructor(base: SimExchangeOptions, opts: SimFuturesOptions = {}, stream?: SimFuturesStreamOptions) {
    let account: SimFuturesAccount | undefined;
    this.exchange = new SimExchange({
      ...base,
      // Its own book and price path, like a perpetual beside its spot market.
      seed: (base.seed ?? 42) + 1_000,
      markets: base.markets ?? DEFAULT_MARKETS,
      balances: {},
      feeRate: opts.feeRate ?? 0.0004,
      settlement: (ex) => {
        account = new SimFuturesAccount(ex, opts);
        return account;
      },
    });
    this.account = account as unknown as SimFuturesAccount;
    // Without the server's credentials (a unit test of the account), the simulator's defaults.
    const creds = stream ?? { apiKey: 'sim-key', secret: 'sim-secret', requestClock: this.exchange.now };
    this.userData = new SimUserData({ ...creds, exchange: this.exchange, protocol: futuresProtocol(this.account) });
    this.algo = new SimAlgoOrders(this.exchange, this.account);
    this.algo.onUpdate((a) => this.userData.push([algoUpdate(a, this.exchange.now())]));
  }

  /** Moves a market's price (tests) and triggers the conditional orders it reaches. */
  setPrice(symbol: string, price: number): void {
    this.exchange.setPrice(symbol, price);
    this.algo.check();
  }

  /** Paths that need a signed request (USER_DATA and TRADE). */
  isPrivate(path: string): boolean {
    return PRIVATE.has(path);
  }

  /**
   * Advances the market and pays funding due on the exchange clock; each payment goes out on the user-data stream
   * as an `ACCOUNT_UPDATE` of reason FUNDING_FEE (with the position only when it is isolated, as Binance sends it).
   */
  tick(dtMs: number): void {
    this.exchange.tick(dtMs);
    this.algo.check();
    const now = this.exchange.now();
    for (const paid of this.account.applyFunding(now)) {
      const isolated = this.account.position(paid.symbol).marginType === 'ISOLATED';
      this.userData.push([accountUpdate(this.account, 'FUNDING_FEE', isolated ? [paid.symbol] : [], paid.income, now)]);
    }
  }

  /** Answers one `/fapi/` request; throws BinanceApiError as Binance answers errors. */
  route(method: string, path: string, p: URLSearchParams, serverTime: number): unknown {
    const ex = this.exchange;
    const a = this.account;
    const now = ex.now();
    const num = (k: string) => numParam(p, k);
    const symbolOpt = () => {
      const s = p.get('symbol') ?? undefined;
      if (s) ex.market(s);
      return s;
    };
    const orderRef = () => {
      const id = num('orderId');
      const cid = p.get('origClientOrderId') ?? undefined;
      if (id === undefined && !cid)
        throw new BinanceApiError(
          400,
          -1102,
          "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        );
      return { id, cid };
    };
    switch (`${method} ${path}`) {
      // USER_STREAM security (the server checks the API key): one key per account.
      case 'POST /fapi/v1/listenKey':
        return { listenKey: this.userData.createListenKey() };
      case 'PUT /fapi/v1/listenKey':
        this.userData.keepAlive(p.get('listenKey') ?? '');
        return { listenKey: this.userData.listenKeys()[0] };
      case 'DELETE /fapi/v1/listenKey':
        this.userData.closeListenKey(p.get('listenKey') ?? '');
        return {};
      case 'GET /fapi/v1/ping':
        return {};
      case 'GET /fapi/v1/time':
        return { serverTime };
      case 'GET /fapi/v1/exchangeInfo':
        return {
          timezone: 'UTC',
          serverTime: now,
          futuresType: 'U_MARGINED',
          rateLimits: [
            { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
            { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
          ],
          exchangeFilters: [],
          assets: [{ asset: a.asset, marginAvailable: true, autoAssetExchange: '-10000' }],
          symbols: [...ex.markets.values()].map((m) => futuresSymbolInfo(m, a.maintMarginRate)),
        };
      case 'GET /fapi/v1/ticker/24hr': {
        const s = symbolOpt();
        return s ? ticker24h(ex.market(s), now) : [...ex.markets.values()].map((m) => ticker24h(m, now));
      }
      case 'GET /fapi/v1/ticker/bookTicker': {
        const one = (sym: string) => {
          const m = ex.market(sym);
          return {
            symbol: sym,
            bidPrice: s8(m.bestBid()),
            bidQty: s8(m.bids[0]?.qty ?? 0),
            askPrice: s8(m.bestAsk()),
            askQty: s8(m.asks[0]?.qty ?? 0),
            time: now,
          };
        };
        const s = symbolOpt();
        return s ? one(s) : [...ex.markets.keys()].map(one);
      }
      case 'GET /fapi/v1/klines':
        return klinesAnswer(ex, p, FUTURES_LIMITS);
      case 'GET /fapi/v1/depth':
        return depthAnswer(ex, p, FUTURES_LIMITS);
      case 'GET /fapi/v1/premiumIndex': {
        const s = symbolOpt();
        return s ? premiumIndexJson(a, s, now) : [...ex.markets.keys()].map((k) => premiumIndexJson(a, k, now));
      }
      case 'GET /fapi/v1/leverageBracket':
        return [...ex.markets.keys()].map((symbol) => ({
          symbol,
          brackets: [
            {
              bracket: 1,
              initialLeverage: 125,
              notionalCap: 1_000_000,
              notionalFloor: 0,
              maintMarginRatio: a.maintMarginRate,
              cum: 0,
            },
          ],
        }));
      case 'GET /fapi/v1/symbolConfig':
        return a
          .allPositions()
          .filter((x) => !p.get('symbol') || x.symbol === p.get('symbol'))
          .map((x) => ({
            symbol: x.symbol,
            marginType: x.marginType,
            isAutoAddMargin: false,
            leverage: x.leverage,
            maxNotionalValue: '1000000',
          }));
      case 'GET /fapi/v1/positionSide/dual':
        return { dualSidePosition: false };
      case 'POST /fapi/v1/positionSide/dual':
        if (p.get('dualSidePosition') === 'true')
          throw new BinanceApiError(400, -4000, 'Hedge mode is not supported by the simulator.');
        throw new BinanceApiError(400, -4059, 'No need to change position side.');
      case 'POST /fapi/v1/leverage': {
        const s = p.get('symbol') ?? undefined;
        const lev = num('leverage');
        if (lev === undefined) throw new BinanceApiError(400, -1102, "Mandatory parameter 'leverage' was not sent.");
        const pos = a.setLeverage(ex.market(s).spec.symbol, lev);
        return { leverage: pos.leverage, maxNotionalValue: '1000000', symbol: pos.symbol };
      }
      case 'POST /fapi/v1/marginType':
        a.setMarginType(ex.market(p.get('symbol') ?? undefined).spec.symbol, p.get('marginType') ?? '');
        return { code: 200, msg: 'success' };
      case 'GET /fapi/v2/account':
      case 'GET /fapi/v3/account':
        return futuresAccountJson(a, now);
      case 'GET /fapi/v2/balance':
      case 'GET /fapi/v3/balance':
        return futuresBalanceJson(a, now);
      case 'GET /fapi/v2/positionRisk':
      case 'GET /fapi/v3/positionRisk': {
        const s = symbolOpt();
        const list = a.allPositions().filter((x) => !s || x.symbol === s);
        // v3 lists only symbols with a position or open orders; v2 lists every symbol.
        if (path === '/fapi/v3/positionRisk')
          return list.filter((x) => x.qty !== 0 || ex.openOrders(x.symbol).length > 0).map((x) => positionRiskV3(a, x));
        return list.map((x) => positionRiskV2(a, x));
      }
      case 'GET /fapi/v1/income': {
        const s = symbolOpt();
        const type = p.get('incomeType') ?? undefined;
        const start = num('startTime');
        const end = num('endTime');
        const limit = Math.min(num('limit') ?? 100, 1000);
        return a.income
          .filter(
            (e) =>
              (!s || e.symbol === s) &&
              (!type || e.incomeType === type) &&
              (start === undefined || e.time >= start) &&
              (end === undefined || e.time <= end),
          )
          .slice(0, limit)
          .map(incomeJson);
      }
      case 'POST /fapi/v1/order': {
        const positionSide = p.get('positionSide');
        if (positionSide && positionSide !== 'BOTH')
          throw new BinanceApiError(400, -4061, "Order's position side does not match user's setting.");
        const type = p.get('type') ?? '';
        // Conditional orders moved to the Algo Service (`/fapi/v1/algoOrder`), as on Binance since its migration.
        if (['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'].includes(type))
          throw new BinanceApiError(
            400,
            -4120,
            'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
          );
        if (type !== 'MARKET' && type !== 'LIMIT') throw new BinanceApiError(400, -1116, 'Invalid orderType.');
        const o = ex.placeOrder(
          {
            symbol: p.get('symbol') ?? '',
            side: p.get('side') ?? '',
            type,
            quantity: num('quantity'),
            price: num('price'),
            timeInForce: p.get('timeInForce') ?? undefined,
            reduceOnly: p.get('reduceOnly') === 'true',
          },
          p.get('newClientOrderId') || `sim_${Math.random().toString(36).slice(2, 14)}`,
        );
        return futuresOrderJson(o);
      }
      case 'POST /fapi/v1/algoOrder': {
        if (p.get('algoType') !== 'CONDITIONAL') throw new BinanceApiError(400, -1116, 'Invalid algoType.');
        const positionSide = p.get('positionSide');
        if (positionSide && positionSide !== 'BOTH')
          throw new BinanceApiError(400, -4061, "Order's position side does not match user's setting.");
        const a = this.algo.place({
          symbol: p.get('symbol') ?? '',
          side: p.get('side') ?? '',
          type: p.get('type') ?? '',
          quantity: num('quantity'),
          triggerPrice: num('triggerPrice') ?? num('stopPrice'),
          ...(p.get('workingType') ? { workingType: p.get('workingType') as string } : {}),
          reduceOnly: p.get('reduceOnly') === 'true',
          closePosition: p.get('closePosition') === 'true',
          clientAlgoId: p.get('clientAlgoId') || `sim_${Math.random().toString(36).slice(2, 14)}`,
        });
        return algoOrderJson(a);
      }
      case 'GET /fapi/v1/algoOrder':
      case 'DELETE /fapi/v1/algoOrder': {
        const id = num('algoId');
        const cid = p.get('clientAlgoId') ?? undefined;
        if (id === undefined && !cid)
          throw new BinanceApiError(
            400,
            -1102,
            "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!",
          );
        if (method === 'DELETE') {
          const a = this.algo.cancel(id, cid);
          return { algoId: a.algoId, clientAlgoId: a.clientAlgoId, code: '200', msg: 'success' };
        }
        const a = this.algo.find(id, cid);
        if (!a) throw new BinanceApiError(400, -2013, 'Order does not exist.');
        return algoOrderJson(a);
      }
      case 'GET /fapi/v1/openAlgoOrders':
        return this.algo.open(symbolOpt()).map(algoOrderJson);
      case 'GET /fapi/v1/allAlgoOrders': {
        const sym = ex.market(p.get('symbol') ?? undefined).spec.symbol;
        return this.algo.orders.filter((a) => a.symbol === sym).map(algoOrderJson);
      }
      case 'GET /fapi/v1/order': {
        const sym = ex.market(p.get('symbol') ?? undefined).spec.symbol;
        const { id, cid } = orderRef();
        const o = ex.findOrder(sym, id, cid);
        if (!o) throw new BinanceApiError(400, -2013, 'Order does not exist.');
        return futuresOrderJson(o);
      }
      case 'DELETE /fapi/v1/order': {
        const sym = ex.market(p.get('symbol') ?? undefined).spec.symbol;
        const { id, cid } = orderRef();
        return futuresOrderJson(ex.cancelOrder(sym, id, cid));
      }
      case 'GET /fapi/v1/openOrders':
        return ex.openOrders(symbolOpt()).map(futuresOrderJson);
      case 'GET /fapi/v1/allOrders': {
        const sym = ex.market(p.get('symbol') ?? undefined).spec.symbol;
        return ex.orders.filter((o) => o.symbol === sym).map(futuresOrderJson);
      }
      case 'GET /fapi/v1/userTrades': {
        const sym = ex.market(p.get('symbol') ?? undefined).spec.symbol;
        const start = num('startTime');
        const end = num('endTime');
        const fromId = num('fromId');
        const orderId = num('orderId');
        const limit = Math.min(num('limit') ?? 500, 1000);
        return ex.trades
          .filter(
            (t) =>
              t.symbol === sym &&
              (start === undefined || t.time >= start) &&
              (end === undefined || t.time <= end) &&
              (fromId === undefined || t.id >= fromId) &&
              (orderId === undefined || t.orderId === orderId),
          )
          .slice(0, limit)
          .map(futuresTradeJson);
      }
      default:
        throw new BinanceApiError(404, -1000, `Unknown endpoint ${method} ${path}`);
    }
  }
}
