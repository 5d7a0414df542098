import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LightstreamerStub } from './lightstreamer-stub.js';

/** A market the IG simulator quotes, with its dealing rules (points). */
export interface IgSimMarket {
  epic: string;
  name: string;
  bid: number;
  offer: number;
  decimals: number;
  minDealSize: number;
  minStopDistance: number;
  minGuaranteedStopDistance: number;
  maxStopDistance: number;
  controlledRiskAllowed: boolean;
  /** Margin as a percentage of the position's value (IG's `marginFactor`, unit PERCENTAGE); default 3.33. */
  marginFactor?: number;
}

/** Options of the IG simulator. */
export interface IgSimulatorOptions {
  apiKey?: string;
  identifier?: string;
  password?: string;
  accounts?: { accountId: string; balance: number; currency?: string }[];
  markets?: IgSimMarket[];
  /** Per-minute allowances, as GET /operations/application reports them. */
  allowances?: { accountTrading?: number; accountOverall?: number; applicationOverall?: number };
  /** Seconds an OAuth access token lives (v3). */
  accessTokenSeconds?: number;
  /** The simulator's clock (epoch ms); the allowances and token expiry read it. */
  now?: () => number;
}

interface Session {
  accountId: string;
  expiresAt: number;
}

/** A position the simulator holds (tests may add one directly, e.g. a position without a stop). */
export interface SimPosition {
  dealId: string;
  dealReference: string;
  epic: string;
  direction: 'BUY' | 'SELL';
  size: number;
  level: number;
  stopLevel: number | null;
  limitLevel: number | null;
  controlledRisk: boolean;
  trailingStopDistance: number | null;
  trailingStep: number | null;
  createdDateUTC: string;
}

interface SimWorkingOrder {
  dealId: string;
  epic: string;
  direction: 'BUY' | 'SELL';
  orderSize: number;
  orderLevel: number;
  orderType: 'LIMIT' | 'STOP';
  timeInForce: string;
  stopDistance: number | null;
  limitDistance: number | null;
  guaranteedStop: boolean;
  /** false: nets against an opposite position when it triggers. */
  forceOpen: boolean;
  createdDateUTC: string;
}

/** The candle scales of IG's CHART items the simulator streams, and their lengths. */
const CHART_SCALES: Readonly<Record<string, number>> = { '1MINUTE': 60_000, '5MINUTE': 300_000, HOUR: 3_600_000 };

/** One quote of a market's price path. */
interface PathQuote {
  t: number;
  bid: number;
  offer: number;
}

/** One side's open, high, low and close. */
interface SideOhlc {
  open: number;
  high: number;
  low: number;
  close: number;
}

const DEFAULT_MARKET: IgSimMarket = {
  epic: 'CS.D.EURUSD.CFD.IP',
  name: 'EUR/USD',
  bid: 11_000.2,
  offer: 11_000.8,
  decimals: 1,
  minDealSize: 0.5,
  minStopDistance: 2,
  minGuaranteedStopDistance: 10,
  maxStopDistance: 5_000,
  controlledRiskAllowed: true,
};

/**
 * A local IG REST simulator on loopback (tests only; IG is the outside world): sessions v2 (CST /
 * X-SECURITY-TOKEN) and v3 (OAuth with refresh), account switch, per-minute allowances with IG's 403
 * `exceeded-*-allowance` errors, weekend session invalidation, accounts, market details with dealing rules,
 * positions with broker-side stops (normal, trailing, guaranteed) opened by deal reference and confirmed,
 * amend, close through `_method: DELETE`, working orders, and injected faults.
 */
export class IgSimulator {
  readonly apiKey: string;
  readonly identifier: string;
  readonly password: string;
  readonly markets = new Map<string, IgSimMarket>();
  readonly accounts: { accountId: string; balance: number; currency: string }[];
  readonly positions: SimPosition[] = [];
  readonly workingOrders: SimWorkingOrder[] = [];
  /** Requests seen, as "METHOD path VERSION" (for tests). */
  readonly log: string[] = [];
  /** Deals as GET /history/activity reports them (newest last). */
  readonly activities: Record<string, unknown>[] = [];
  /** Requests refused for an exceeded allowance (a soak asserts none). */
  allowanceRefusals = 0;
  /** Requests per allowance kind and account, with their times (the per-minute windows). */
  private readonly usage = new Map<string, number[]>();
  private readonly sessions = new Map<string, Session>(); // CST / access token → session
  private readonly refreshTokens = new Map<string, string>(); // refresh → accountId
  private readonly confirms = new Map<string, Record<string, unknown>>();
  private readonly faults: { status: number; errorCode: string; method?: string; path?: string }[] = [];
  private readonly drops: { method: string; path: string }[] = [];
  private readonly allowances: Required<NonNullable<IgSimulatorOptions['allowances']>>;
  private readonly accessTokenSeconds: number;
  /** The simulator's clock (epoch ms): allowances, token expiry, deal times and candle periods read it. */
  readonly now: () => number;
  private server: Server | undefined;
  private seq = 0;
  /** Historical price points left this week (GET /prices draws on it, as IG's allowance). */
  historicalAllowance = 10_000;
  /**
   * IG's streaming server (Lightstreamer) on the same port: MARKET:{epic} items (BID, OFFER, UPDATE_TIME,
   * MARKET_STATE) on every `setPrice`, TRADE:{accountId} items (OPU, IG's open position updates) on every deal,
   * ACCOUNT:{accountId} items (PNL, DEPOSIT, AVAILABLE_CASH, FUNDS, MARGIN, AVAILABLE_TO_DEAL, EQUITY, EQUITY_USED,
   * and the limited / non-limited risk parts) after every deal and price move, and CHART:{epic}:{scale} candles
   * (1MINUTE, 5MINUTE, HOUR: bid and offer OHLC, LTV, UTM, CONS_TICK_COUNT, CONS_END) from the market's price path,
   * each ended (CONS_END 1) when the simulator's clock passes its end. The stream is logged in with the account id
   * and `CST-{cst}|XST-{xst}` of a live session, as at IG.
   */
  readonly streaming = new LightstreamerStub(
    (user, password) => {
      const m = /^CST-(.+)\|XST-(.+)$/.exec(password);
      const s = m ? this.sessions.get(m[1]) : undefined;
      return s !== undefined && m?.[2] === `xst-${m?.[1]}` && s.accountId === user;
    },
    (item) => this.snapshotOf(item),
  );
  /** Every quote each market had, from construction on (REST price history and CHART candles are built on it). */
  private readonly path = new Map<string, PathQuote[]>();
  /** The candle each CHART item (epic:scale) last published as forming. */
  private readonly announced = new Map<string, number>();
  private chartTimer: NodeJS.Timeout | undefined;
  private baseUrl = 'http://127.0.0.1';

  constructor(opts: IgSimulatorOptions = {}) {
    this.apiKey = opts.apiKey ?? 'sim-api-key';
    this.identifier = opts.identifier ?? 'trader';
    this.password = opts.password ?? 'secret';
    this.accounts = (opts.accounts ?? [{ accountId: 'ABC123', balance: 10_000 }]).map((a) => ({
      currency: 'USD',
      ...a,
    }));
    this.now = opts.now ?? Date.now;
    for (const m of opts.markets ?? [DEFAULT_MARKET]) {
      this.markets.set(m.epic, { ...m });
      this.path.set(m.epic, [{ t: this.now(), bid: m.bid, offer: m.offer }]);
    }
    this.allowances = { accountTrading: 100, accountOverall: 30, applicationOverall: 60, ...opts.allowances };
    this.accessTokenSeconds = opts.accessTokenSeconds ?? 60;
  }

  /** Starts listening on a free loopback port; returns the base URL (…/gateway/deal). */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      if (isStream(req)) return this.streaming.handleHttp(req, res);
      this.handle(req, res).catch((err: unknown) =>
        send(res, 500, { errorCode: `error.sim.${(err as Error).message}` }),
      );
    });
    const isStream = this.streaming.attach(this.server);
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    // IG ends each candle when its period is over, ticks or not: the clock is checked ten times a second.
    this.chartTimer = setInterval(() => this.advanceCharts(false), 100);
    this.chartTimer.unref();
    return `${this.baseUrl}/gateway/deal`;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (this.chartTimer) clearInterval(this.chartTimer);
    this.chartTimer = undefined;
    this.streaming.close();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Invalidates every session and token, as IG does over the weekend (streaming sessions end too). */
  invalidateSessions(): void {
    this.sessions.clear();
    this.refreshTokens.clear();
    this.streaming.dropAll();
  }

  /**
   * Moves a market's quote (a tick of its price path, at the simulator's clock) and streams it: MARKET:{epic}, the
   * CHART candles it falls in, and the accounts' figures (their P&L moved).
   */
  setPrice(epic: string, bid: number, offer: number): void {
    const m = this.markets.get(epic);
    if (!m) throw new Error(`no market ${epic}`);
    m.bid = bid;
    m.offer = offer;
    this.path.get(epic)?.push({ t: this.now(), bid, offer });
    this.streaming.publish(`MARKET:${epic}`, this.quoteFields(m));
    this.advanceCharts(true, epic);
    this.publishAccounts();
  }

  /**
   * The bid and offer open, high, low and close of `epic` over [start, start + stepMs) on its price path (the quote
   * in force at the start, then every tick inside), with the number of ticks inside; undefined before the path.
   * REST price history and the CHART items both read it, so a bar is the same either way.
   */
  pathCandle(
    epic: string,
    start: number,
    stepMs: number,
  ): { bid: SideOhlc; offer: SideOhlc; ticks: number } | undefined {
    let prior: PathQuote | undefined;
    const inside: PathQuote[] = [];
    for (const q of this.path.get(epic) ?? []) {
      if (q.t < start) prior = q;
      else if (q.t < start + stepMs) inside.push(q);
      else break;
    }
    const seq = prior ? [prior, ...inside] : inside;
    const first = seq[0];
    const last = seq.at(-1);
    if (!first || !last) return undefined;
    const side = (k: 'bid' | 'offer'): SideOhlc => ({
      open: first[k],
      high: Math.max(...seq.map((q) => q[k])),
      low: Math.min(...seq.map((q) => q[k])),
      close: last[k],
    });
    return { bid: side('bid'), offer: side('offer'), ticks: inside.length };
  }

  // A CHART item's fields for the candle starting at `start`.
  private candleFields(epic: string, stepMs: number, start: number, end: boolean): Record<string, string> | undefined {
    const c = this.pathCandle(epic, start, stepMs);
    if (!c) return undefined;
    return {
      UTM: String(start),
      BID_OPEN: String(c.bid.open),
      BID_HIGH: String(c.bid.high),
      BID_LOW: String(c.bid.low),
      BID_CLOSE: String(c.bid.close),
      OFR_OPEN: String(c.offer.open),
      OFR_HIGH: String(c.offer.high),
      OFR_LOW: String(c.offer.low),
      OFR_CLOSE: String(c.offer.close),
      LTV: String(c.ticks),
      CONS_TICK_COUNT: String(c.ticks),
      CONS_END: end ? '1' : '0',
    };
  }

  /**
   * Brings the CHART items up to the clock: every candle whose period is over is published ended (CONS_END 1), then
   * the forming one (always, with `tick`: a tick of `only` just moved it).
   */
  private advanceCharts(tick: boolean, only?: string): void {
    const now = this.now();
    for (const epic of only === undefined ? this.markets.keys() : [only]) {
      for (const [scale, step] of Object.entries(CHART_SCALES)) {
        const item = `CHART:${epic}:${scale}`;
        const current = Math.floor(now / step) * step;
        const at = this.announced.get(item);
        if (at !== undefined && at < current) {
          // A clock moved far ahead ends at most the last hundred candles.
          for (let start = Math.max(at, current - 100 * step); start < current; start += step) {
            const ended = this.candleFields(epic, step, start, true);
            if (ended) this.streaming.publish(item, ended);
          }
        }
        if (at === current && !tick) continue;
        const forming = this.candleFields(epic, step, current, false);
        if (forming) this.streaming.publish(item, forming);
        this.announced.set(item, current);
      }
    }
  }

  // An ACCOUNT item's fields: the figures REST /accounts reports, under IG's streaming names.
  private accountFields(accountId: string): Record<string, string> | undefined {
    const a = this.accounts.find((x) => x.accountId === accountId);
    if (!a) return undefined;
    const pnl = this.profitLoss();
    const margin = this.margin();
    const guaranteed = this.positions.filter((p) => p.controlledRisk);
    const marginLr = guaranteed.reduce((s, p) => s + this.marginOf(p), 0);
    const pnlLr = guaranteed.reduce((s, p) => s + this.profitLossOf(p), 0);
    const equity = a.balance + pnl;
    return {
      PNL: String(pnl),
      PNL_LR: String(pnlLr),
      PNL_NLR: String(pnl - pnlLr),
      DEPOSIT: String(margin),
      AVAILABLE_CASH: String(a.balance - margin),
      FUNDS: String(a.balance),
      MARGIN: String(margin),
      MARGIN_LR: String(marginLr),
      MARGIN_NLR: String(margin - marginLr),
      AVAILABLE_TO_DEAL: String(a.balance + pnl - margin),
      EQUITY: String(equity),
      EQUITY_USED: String(equity > 0 ? (margin / equity) * 100 : 0),
    };
  }

  private publishAccounts(): void {
    for (const a of this.accounts) {
      const fields = this.accountFields(a.accountId);
      if (fields) this.streaming.publish(`ACCOUNT:${a.accountId}`, fields);
    }
  }

  // The current state of an item, for a MERGE snapshot.
  private snapshotOf(item: string): Record<string, string> | undefined {
    const [kind = '', ...rest] = item.split(':');
    if (kind === 'MARKET') {
      const m = this.markets.get(rest.join(':'));
      return m ? this.quoteFields(m) : undefined;
    }
    if (kind === 'ACCOUNT') return this.accountFields(rest.join(':'));
    if (kind === 'CHART') {
      const scale = rest.pop() ?? '';
      const step = CHART_SCALES[scale];
      const epic = rest.join(':');
      if (step === undefined || !this.markets.has(epic)) return undefined;
      return this.candleFields(epic, step, Math.floor(this.now() / step) * step, false);
    }
    return undefined;
  }

  // A MARKET item's fields for the market's quote now.
  private quoteFields(m: IgSimMarket): Record<string, string> {
    return {
      BID: String(m.bid),
      OFFER: String(m.offer),
      UPDATE_TIME: new Date(this.now()).toISOString().slice(11, 19),
      MARKET_STATE: 'TRADEABLE',
    };
  }

  /**
   * Closes a position at its stop level, as IG does when the market reaches it (tests move no prices, so they call
   * this); the account books the loss. Returns false when the deal has no stop.
   */
  hitStop(dealId: string): boolean {
    const i = this.positions.findIndex((p) => p.dealId === dealId);
    const p = this.positions[i];
    if (!p || p.stopLevel === null) return false;
    this.accounts[0].balance += (p.direction === 'BUY' ? p.stopLevel - p.level : p.level - p.stopLevel) * p.size;
    this.positions.splice(i, 1);
    this.activity(
      this.newRef(),
      p.dealId,
      p.epic,
      p.direction === 'BUY' ? 'SELL' : 'BUY',
      p.size,
      p.stopLevel,
      'POSITION_CLOSED',
      'SYSTEM',
    );
    return true;
  }

  /**
   * Carries out the next request matching `method` and `path` (a prefix) but never answers it: the connection is
   * cut after the work is done (the dangerous case: the deal exists, the client saw an error).
   */
  dropNextAnswer(method: string, path: string): void {
    this.drops.push({ method, path });
  }

  /** Makes the next request fail with this status and IG error code (once per call). */
  failNext(status: number, errorCode: string, match?: { method: string; path: string }): void {
    this.faults.push({ status, errorCode, ...match });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/^\/gateway\/deal/, '');
    const version = String(req.headers.version ?? '1');
    const override = req.headers._method;
    const method = typeof override === 'string' ? override.toUpperCase() : (req.method ?? 'GET');
    const body = await readBody(req);
    this.log.push(`${method} ${path} v${version}`);
    const drop = this.drops.findIndex((d) => d.method === method && path.startsWith(d.path));
    if (drop >= 0) {
      this.drops.splice(drop, 1);
      res.end = (() => {
        req.socket.destroy();
        return res;
      }) as typeof res.end;
    }
    if (req.headers['x-ig-api-key'] !== this.apiKey)
      return send(res, 403, { errorCode: 'error.security.api-key-invalid' });
    // The first fault this request matches (one without a match takes any request).
    const f = this.faults.findIndex(
      (x) => (x.method === undefined || x.method === method) && (x.path === undefined || path.startsWith(x.path)),
    );
    if (f >= 0) {
      const [fault] = this.faults.splice(f, 1);
      return send(res, fault.status, { errorCode: fault.errorCode });
    }
    if (path === '/session' && method === 'POST') return this.login(res, version, body);
    if (path === '/session/refresh-token' && method === 'POST') return this.refresh(res, body);
    const session = this.authenticate(req);
    if (typeof session === 'string') return send(res, 401, { errorCode: session });
    const trading = method !== 'GET' && /^\/(positions|workingorders)\/otc/.test(path);
    const kind = trading ? 'accountTrading' : 'accountOverall';
    if (!this.spend(`${kind}:${session.accountId}`, this.allowances[kind])) {
      this.allowanceRefusals++;
      return send(res, 403, {
        errorCode: trading
          ? 'error.public-api.exceeded-account-trading-allowance'
          : 'error.public-api.exceeded-account-allowance',
      });
    }
    if (path === '/session' && method === 'GET') {
      const a = this.accounts.find((x) => x.accountId === session.accountId) ?? this.accounts[0];
      if (url.searchParams.get('fetchSessionTokens') === 'true') {
        // An OAuth (v3) session asks for CST / X-SECURITY-TOKEN to log in to the streaming server with.
        const cst = randomUUID();
        this.sessions.set(cst, { accountId: session.accountId, expiresAt: Number.POSITIVE_INFINITY });
        res.setHeader('CST', cst);
        res.setHeader('X-SECURITY-TOKEN', `xst-${cst}`);
      }
      return send(res, 200, {
        clientId: 'C1',
        accountId: session.accountId,
        timezoneOffset: 0,
        locale: 'en_GB',
        currency: a.currency,
        lightstreamerEndpoint: this.baseUrl,
      });
    }
    if (path === '/history/activity' && method === 'GET') {
      const from = Date.parse(`${url.searchParams.get('from') ?? '1970-01-01T00:00:00'}Z`);
      return send(res, 200, {
        activities: this.activities.filter((a) => Date.parse(`${String(a.date)}Z`) >= from),
        metadata: { paging: { size: this.activities.length, next: null } },
      });
    }
    const prices = /^\/prices\/([^/]+)$/.exec(path);
    if (prices && method === 'GET') return this.priceHistory(res, decodeURIComponent(prices[1]), url.searchParams);
    if (path === '/session' && method === 'PUT') {
      const id = String(body.accountId ?? '');
      if (!this.accounts.some((a) => a.accountId === id))
        return send(res, 400, { errorCode: 'error.switch.accountId-invalid' });
      session.accountId = id;
      return send(res, 200, { trailingStopsEnabled: true, dealingEnabled: true, hasActiveDemoAccounts: true });
    }
    if (path === '/operations/application' && method === 'GET') {
      return send(res, 200, [
        {
          apiKey: this.apiKey,
          status: 'ENABLED',
          allowanceApplicationOverall: this.allowances.applicationOverall,
          allowanceAccountTrading: this.allowances.accountTrading,
          allowanceAccountOverall: this.allowances.accountOverall,
          allowanceAccountHistoricalData: 10_000,
          concurrentSubscriptionsLimit: 40,
        },
      ]);
    }
    if (path === '/accounts' && method === 'GET') {
      return send(res, 200, {
        accounts: this.accounts.map((a) => {
          const pnl = this.profitLoss();
          return {
            accountId: a.accountId,
            accountName: a.accountId,
            accountType: 'CFD',
            preferred: a === this.accounts[0],
            currency: a.currency,
            balance: {
              balance: a.balance,
              deposit: this.margin(),
              profitLoss: pnl,
              available: a.balance + pnl - this.margin(),
            },
          };
        }),
      });
    }
    const market = /^\/markets\/([^/]+)$/.exec(path);
    if (market && method === 'GET') return this.marketDetails(res, decodeURIComponent(market[1]));
    const confirm = /^\/confirms\/([^/]+)$/.exec(path);
    if (confirm && method === 'GET') {
      const c = this.confirms.get(decodeURIComponent(confirm[1]));
      return c ? send(res, 200, c) : send(res, 404, { errorCode: 'error.confirms.deal-not-found' });
    }
    if (path === '/positions' && method === 'GET') {
      return send(res, 200, {
        positions: this.positions.map((p) => {
          const m = this.markets.get(p.epic) as IgSimMarket;
          const { epic: _e, ...position } = p;
          return { position: { ...position, currency: 'USD' }, market: { epic: p.epic, bid: m.bid, offer: m.offer } };
        }),
      });
    }
    if (path === '/positions/otc' && method === 'POST') return this.openPosition(res, body);
    if (path === '/positions/otc' && method === 'DELETE') return this.closePosition(res, body);
    const amend = /^\/positions\/otc\/([^/]+)$/.exec(path);
    if (amend && method === 'PUT') return this.amend(res, decodeURIComponent(amend[1]), body);
    if (path === '/workingorders' && method === 'GET') {
      return send(res, 200, {
        workingOrders: this.workingOrders.map((w) => ({ workingOrderData: w, marketData: { epic: w.epic } })),
      });
    }
    if (path === '/workingorders/otc' && method === 'POST') return this.createWorkingOrder(res, body);
    const wo = /^\/workingorders\/otc\/([^/]+)$/.exec(path);
    if (wo && method === 'DELETE') {
      const i = this.workingOrders.findIndex((w) => w.dealId === decodeURIComponent(wo[1]));
      if (i < 0) return send(res, 404, { errorCode: 'error.service.workingorders.not-found' });
      const [w] = this.workingOrders.splice(i, 1);
      const ref = this.newRef();
      this.confirms.set(ref, {
        dealReference: ref,
        dealId: w.dealId,
        dealStatus: 'ACCEPTED',
        reason: 'SUCCESS',
        status: 'DELETED',
        epic: w.epic,
      });
      return send(res, 200, { dealReference: ref });
    }
    return send(res, 404, { errorCode: 'error.sim.unknown-endpoint' });
  }

  private login(res: ServerResponse, version: string, body: Record<string, unknown>) {
    if (body.identifier !== this.identifier || body.password !== this.password) {
      return send(res, 401, { errorCode: 'error.security.invalid-details' });
    }
    const accountId = this.accounts[0].accountId;
    if (version === '3') {
      const token = this.issueToken(accountId);
      return send(res, 200, {
        clientId: 'C1',
        accountId,
        timezoneOffset: 0,
        lightstreamerEndpoint: this.baseUrl,
        oauthToken: token,
      });
    }
    const cst = randomUUID();
    this.sessions.set(cst, { accountId, expiresAt: Number.POSITIVE_INFINITY });
    res.setHeader('CST', cst);
    res.setHeader('X-SECURITY-TOKEN', `xst-${cst}`);
    send(res, 200, {
      currentAccountId: accountId,
      clientId: 'C1',
      lightstreamerEndpoint: this.baseUrl,
      accounts: this.accounts.map((a, i) => ({ accountId: a.accountId, accountName: a.accountId, preferred: i === 0 })),
    });
  }

  private refresh(res: ServerResponse, body: Record<string, unknown>) {
    const accountId = this.refreshTokens.get(String(body.refresh_token ?? ''));
    if (accountId === undefined) return send(res, 401, { errorCode: 'error.security.oauth-token-invalid' });
    this.refreshTokens.delete(String(body.refresh_token));
    send(res, 200, this.issueToken(accountId));
  }

  private issueToken(accountId: string) {
    const access = randomUUID();
    const refresh = randomUUID();
    this.sessions.set(access, { accountId, expiresAt: this.now() + this.accessTokenSeconds * 1000 });
    this.refreshTokens.set(refresh, accountId);
    return {
      access_token: access,
      refresh_token: refresh,
      scope: 'profile',
      token_type: 'Bearer',
      expires_in: String(this.accessTokenSeconds),
    };
  }

  // The session of a request, or the IG error code explaining why there is none.
  private authenticate(req: IncomingMessage): Session | string {
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ')) {
      const s = this.sessions.get(auth.slice(7));
      if (!s || s.expiresAt <= this.now()) return 'error.security.oauth-token-invalid';
      const acct = req.headers['ig-account-id'];
      if (typeof acct === 'string' && acct !== s.accountId) {
        if (!this.accounts.some((a) => a.accountId === acct)) return 'error.security.account-token-invalid';
        s.accountId = acct;
      }
      return s;
    }
    const cst = req.headers.cst;
    const xst = req.headers['x-security-token'];
    if (typeof cst !== 'string' || typeof xst !== 'string') return 'error.security.client-token-missing';
    const s = this.sessions.get(cst);
    if (!s || xst !== `xst-${cst}`) return 'error.security.client-token-invalid';
    return s;
  }

  private spend(key: string, perMinute: number): boolean {
    const now = this.now();
    const times = (this.usage.get(key) ?? []).filter((t) => t > now - 60_000);
    if (times.length >= perMinute) {
      this.usage.set(key, times);
      return false;
    }
    times.push(now);
    this.usage.set(key, times);
    return true;
  }

  private marketDetails(res: ServerResponse, epic: string) {
    const m = this.markets.get(epic);
    if (!m) return send(res, 404, { errorCode: 'error.service.marketdata.instrument.epic.unavailable' });
    const pts = (value: number) => ({ unit: 'POINTS', value });
    send(res, 200, {
      instrument: {
        epic,
        name: m.name,
        type: 'CURRENCIES',
        lotSize: 1,
        currencies: [{ code: 'USD', isDefault: true }],
        controlledRiskAllowed: m.controlledRiskAllowed,
        marginFactor: m.marginFactor ?? 3.33,
        marginFactorUnit: 'PERCENTAGE',
      },
      dealingRules: {
        minDealSize: pts(m.minDealSize),
        minNormalStopOrLimitDistance: pts(m.minStopDistance),
        minControlledRiskStopDistance: pts(m.minGuaranteedStopDistance),
        maxStopOrLimitDistance: pts(m.maxStopDistance),
        minStepDistance: pts(1),
      },
      snapshot: {
        bid: m.bid,
        offer: m.offer,
        decimalPlacesFactor: m.decimals,
        scalingFactor: 1,
        marketStatus: 'TRADEABLE',
        updateTime: new Date(this.now()).toISOString().slice(11, 19),
      },
    });
  }

  // GET /prices/{epic} v3: bars around the current mid (bid and ask each side), drawing on the weekly allowance.
  private priceHistory(res: ServerResponse, epic: string, q: URLSearchParams) {
    const m = this.markets.get(epic);
    if (!m) return send(res, 404, { errorCode: 'error.service.marketdata.instrument.epic.unavailable' });
    const seconds: Record<string, number> = {
      MINUTE: 60,
      MINUTE_5: 300,
      MINUTE_15: 900,
      MINUTE_30: 1800,
      HOUR: 3600,
      HOUR_4: 14_400,
      DAY: 86_400,
      WEEK: 604_800,
    };
    const step = seconds[q.get('resolution') ?? 'MINUTE'];
    if (step === undefined) return send(res, 400, { errorCode: 'error.invalid.resolution' });
    const max = Math.max(1, Math.min(Number(q.get('max') ?? 10), 1000));
    if (this.historicalAllowance < max)
      return send(res, 403, { errorCode: 'error.public-api.exceeded-account-historical-data-allowance' });
    this.historicalAllowance -= max;
    const spread = m.offer - m.bid;
    const last = Math.floor(this.now() / 1000 / step) * step;
    const bars = [];
    for (let i = max - 1; i >= 0; i--) {
      const start = (last - i * step) * 1000;
      const c = this.pathCandle(epic, start, step * 1000);
      if (c) {
        // On the price path: the bar the CHART items stream for the same period.
        const at = (k: keyof SideOhlc) => ({ bid: c.bid[k], ask: c.offer[k], lastTraded: null });
        bars.push({
          snapshotTimeUTC: new Date(start).toISOString().slice(0, 19),
          openPrice: at('open'),
          closePrice: at('close'),
          highPrice: at('high'),
          lowPrice: at('low'),
          lastTradedVolume: c.ticks,
        });
        continue;
      }
      // Before the path (history before the simulator ran): a deterministic wiggle, so tests can check shapes.
      const bid = round(m.bid * (1 + 0.0005 * Math.sin(i)), m.decimals);
      const open = round(m.bid * (1 + 0.0005 * Math.sin(i + 1)), m.decimals);
      const hi = Math.max(bid, open) + 1;
      const lo = Math.min(bid, open) - 1;
      const side = (b: number) => ({ bid: round(b, m.decimals), ask: round(b + spread, m.decimals), lastTraded: null });
      bars.push({
        snapshotTimeUTC: new Date((last - i * step) * 1000).toISOString().slice(0, 19),
        openPrice: side(open),
        closePrice: side(i === 0 ? m.bid : bid),
        highPrice: side(Math.max(hi, i === 0 ? m.bid : bid)),
        lowPrice: side(Math.min(lo, i === 0 ? m.bid : bid)),
        lastTradedVolume: 100,
      });
    }
    send(res, 200, {
      prices: bars,
      instrumentType: 'CURRENCIES',
      metadata: {
        allowance: { remainingAllowance: this.historicalAllowance, totalAllowance: 10_000, allowanceExpiry: 604_800 },
        size: bars.length,
        pageData: { pageSize: 0, pageNumber: 1, totalPages: 1 },
      },
    });
  }

  private openPosition(res: ServerResponse, b: Record<string, unknown>) {
    const ref = typeof b.dealReference === 'string' && b.dealReference ? b.dealReference : this.newRef();
    if (this.confirms.has(ref)) return send(res, 200, { dealReference: ref }); // the same reference deals once
    const m = this.markets.get(String(b.epic));
    const reject = (reason: string) => {
      this.confirms.set(ref, {
        dealReference: ref,
        dealId: null,
        dealStatus: 'REJECTED',
        reason,
        status: null,
        epic: b.epic ?? null,
      });
      send(res, 200, { dealReference: ref });
    };
    if (!m) return reject('MARKET_NOT_FOUND');
    const size = Number(b.size);
    const direction = b.direction === 'SELL' ? 'SELL' : 'BUY';
    if (!(size >= m.minDealSize)) return reject('MINIMUM_ORDER_SIZE_ERROR');
    const level = direction === 'BUY' ? m.offer : m.bid;
    if (size * level * ((m.marginFactor ?? 3.33) / 100) > this.available()) return reject('INSUFFICIENT_FUNDS');
    const guaranteed = b.guaranteedStop === true;
    if (guaranteed && !m.controlledRiskAllowed) return reject('GUARANTEED_STOP_NOT_ALLOWED');
    let stopLevel: number | null = null;
    const stopDistance = b.stopDistance === undefined || b.stopDistance === null ? undefined : Number(b.stopDistance);
    const trailing = b.trailingStop === true;
    if (stopDistance !== undefined) {
      if (
        stopDistance < (guaranteed ? m.minGuaranteedStopDistance : m.minStopDistance) ||
        stopDistance > m.maxStopDistance
      ) {
        return reject('ATTACHED_ORDER_LEVEL_ERROR');
      }
      stopLevel = round(direction === 'BUY' ? level - stopDistance : level + stopDistance, m.decimals);
    }
    if (trailing && (stopDistance === undefined || b.trailingStopIncrement === undefined))
      return reject('ATTACHED_ORDER_LEVEL_ERROR');
    const limitDistance =
      b.limitDistance === undefined || b.limitDistance === null ? undefined : Number(b.limitDistance);
    const limitLevel =
      limitDistance === undefined
        ? null
        : round(direction === 'BUY' ? level + limitDistance : level - limitDistance, m.decimals);
    const dealId = `DIAAAA${++this.seq}`;
    const p: SimPosition = {
      dealId,
      dealReference: ref,
      epic: m.epic,
      direction,
      size,
      level,
      stopLevel,
      limitLevel,
      controlledRisk: guaranteed,
      trailingStopDistance: trailing ? (stopDistance ?? null) : null,
      trailingStep: trailing ? Number(b.trailingStopIncrement) : null,
      createdDateUTC: new Date(this.now()).toISOString().slice(0, 23),
    };
    this.positions.push(p);
    this.activity(ref, dealId, m.epic, direction, size, level, 'POSITION_OPENED', 'PUBLIC_WEB_API');
    this.confirms.set(ref, {
      dealReference: ref,
      dealId,
      dealStatus: 'ACCEPTED',
      reason: 'SUCCESS',
      status: 'OPEN',
      epic: m.epic,
      direction,
      size,
      level,
      stopLevel,
      limitLevel,
      guaranteedStop: guaranteed,
      trailingStop: trailing,
      date: p.createdDateUTC,
    });
    send(res, 200, { dealReference: ref });
  }

  private closePosition(res: ServerResponse, b: Record<string, unknown>) {
    const ref = this.newRef();
    const i = this.positions.findIndex((p) => p.dealId === b.dealId);
    if (i < 0) {
      this.confirms.set(ref, {
        dealReference: ref,
        dealId: null,
        dealStatus: 'REJECTED',
        reason: 'POSITION_NOT_AVAILABLE_TO_CLOSE',
        status: null,
      });
      return send(res, 200, { dealReference: ref });
    }
    const p = this.positions[i];
    const m = this.markets.get(p.epic) as IgSimMarket;
    const size = Math.min(Number(b.size), p.size);
    const level = p.direction === 'BUY' ? m.bid : m.offer;
    const pnl = (p.direction === 'BUY' ? level - p.level : p.level - level) * size;
    this.accounts[0].balance += pnl;
    p.size -= size;
    if (p.size <= 1e-9) this.positions.splice(i, 1);
    const closer = p.direction === 'BUY' ? 'SELL' : 'BUY';
    const action = p.size <= 1e-9 ? 'POSITION_CLOSED' : 'POSITION_PARTIALLY_CLOSED';
    this.activity(ref, p.dealId, p.epic, closer, size, level, action, 'PUBLIC_WEB_API');
    this.confirms.set(ref, {
      dealReference: ref,
      dealId: p.dealId,
      dealStatus: 'ACCEPTED',
      reason: 'SUCCESS',
      status: p.size <= 1e-9 ? 'CLOSED' : 'PARTIALLY_CLOSED',
      epic: p.epic,
      direction: b.direction ?? null,
      size,
      level,
    });
    send(res, 200, { dealReference: ref });
  }

  private amend(res: ServerResponse, dealId: string, b: Record<string, unknown>) {
    const p = this.positions.find((x) => x.dealId === dealId);
    const ref = this.newRef();
    if (!p) {
      this.confirms.set(ref, {
        dealReference: ref,
        dealId,
        dealStatus: 'REJECTED',
        reason: 'POSITION_NOT_FOUND',
        status: null,
      });
      return send(res, 200, { dealReference: ref });
    }
    const m = this.markets.get(p.epic) as IgSimMarket;
    const stop = b.stopLevel === undefined || b.stopLevel === null ? p.stopLevel : Number(b.stopLevel);
    const price = p.direction === 'BUY' ? m.bid : m.offer;
    if (
      stop !== null &&
      Math.abs(price - stop) < (p.controlledRisk ? m.minGuaranteedStopDistance : m.minStopDistance)
    ) {
      this.confirms.set(ref, {
        dealReference: ref,
        dealId,
        dealStatus: 'REJECTED',
        reason: 'ATTACHED_ORDER_LEVEL_ERROR',
        status: null,
      });
      return send(res, 200, { dealReference: ref });
    }
    p.stopLevel = stop;
    if (b.limitLevel !== undefined) p.limitLevel = b.limitLevel === null ? null : Number(b.limitLevel);
    this.confirms.set(ref, {
      dealReference: ref,
      dealId,
      dealStatus: 'ACCEPTED',
      reason: 'SUCCESS',
      status: 'AMENDED',
      stopLevel: p.stopLevel,
      limitLevel: p.limitLevel,
    });
    send(res, 200, { dealReference: ref });
  }

  private createWorkingOrder(res: ServerResponse, b: Record<string, unknown>) {
    const ref = typeof b.dealReference === 'string' && b.dealReference ? b.dealReference : this.newRef();
    if (this.confirms.has(ref)) return send(res, 200, { dealReference: ref });
    const m = this.markets.get(String(b.epic));
    const tooBig = m && Number(b.size) * Number(b.level) * ((m.marginFactor ?? 3.33) / 100) > this.available();
    if (!m || !(Number(b.size) >= m.minDealSize) || tooBig) {
      this.confirms.set(ref, {
        dealReference: ref,
        dealId: null,
        dealStatus: 'REJECTED',
        reason: m ? (tooBig ? 'INSUFFICIENT_FUNDS' : 'MINIMUM_ORDER_SIZE_ERROR') : 'MARKET_NOT_FOUND',
        status: null,
      });
      return send(res, 200, { dealReference: ref });
    }
    const dealId = `DIAAAB${++this.seq}`;
    const w: SimWorkingOrder = {
      dealId,
      epic: m.epic,
      direction: b.direction === 'SELL' ? 'SELL' : 'BUY',
      orderSize: Number(b.size),
      orderLevel: Number(b.level),
      orderType: b.type === 'STOP' ? 'STOP' : 'LIMIT',
      timeInForce: String(b.timeInForce ?? 'GOOD_TILL_CANCELLED'),
      stopDistance: b.stopDistance === undefined ? null : Number(b.stopDistance),
      limitDistance: b.limitDistance === undefined ? null : Number(b.limitDistance),
      guaranteedStop: b.guaranteedStop === true,
      forceOpen: b.forceOpen !== false,
      createdDateUTC: new Date(this.now()).toISOString().slice(0, 23),
    };
    this.workingOrders.push(w);
    this.confirms.set(ref, {
      dealReference: ref,
      dealId,
      dealStatus: 'ACCEPTED',
      reason: 'SUCCESS',
      status: 'OPEN',
      epic: m.epic,
      direction: w.direction,
      size: w.orderSize,
      level: w.orderLevel,
    });
    send(res, 200, { dealReference: ref });
  }

  private profitLoss(): number {
    return this.positions.reduce((s, p) => s + this.profitLossOf(p), 0);
  }

  private profitLossOf(p: SimPosition): number {
    const m = this.markets.get(p.epic) as IgSimMarket;
    return (p.direction === 'BUY' ? m.bid - p.level : p.level - m.offer) * p.size;
  }

  private margin(): number {
    return this.positions.reduce((s, p) => s + this.marginOf(p), 0);
  }

  // The market's margin factor (3.33% by default, a typical FX CFD rate) on the position value.
  private marginOf(p: SimPosition): number {
    return p.size * p.level * ((this.markets.get(p.epic)?.marginFactor ?? 3.33) / 100);
  }

  private available(): number {
    return this.accounts[0].balance + this.profitLoss() - this.margin();
  }

  private activity(
    dealReference: string,
    dealId: string,
    epic: string,
    direction: 'BUY' | 'SELL',
    size: number,
    level: number,
    actionType: string,
    channel: string,
  ): void {
    this.activities.push({
      date: new Date(this.now()).toISOString().slice(0, 23),
      epic,
      period: '-',
      dealId,
      channel,
      type: 'POSITION',
      status: 'ACCEPTED',
      description: actionType,
      details: { dealReference, actions: [{ actionType, affectedDealId: dealId }], direction, size, level },
    });
    // IG streams the deal to the account's TRADE item: OPU, an open position update (OPEN, UPDATED or DELETED).
    const open = this.positions.find((p) => p.dealId === dealId);
    const status = actionType === 'POSITION_OPENED' ? 'OPEN' : open ? 'UPDATED' : 'DELETED';
    this.streaming.publish(`TRADE:${this.accounts[0].accountId}`, {
      OPU: JSON.stringify({
        dealReference,
        dealId,
        direction: open?.direction ?? direction,
        epic,
        status,
        dealStatus: 'ACCEPTED',
        level,
        size: open?.size ?? 0,
        timestamp: new Date(this.now()).toISOString().slice(0, 23),
        channel,
      }),
    });
    // The deal moved the account's margin and funds: ACCOUNT follows the OPU.
    this.publishAccounts();
  }

  private newRef(): string {
    return `SIMREF${++this.seq}`;
  }
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=UTF-8');
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
