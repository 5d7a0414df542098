import type { z } from 'zod';
import { VenueError } from '../../core/errors.js';
import type { Timeframe } from '../../core/timeframe.js';
import { RequestBudget } from '../../risk/request-budget.js';
import { venueCallContext } from '../call-context.js';
import type { RequestBudget as VenueRequestBudget } from '../request-budget.js';
import { checkDeal, type IgDealingRules } from './dealing-rules.js';
import {
  accountsSchema,
  activitySchema,
  applicationSchema,
  confirmSchema,
  dealReferenceSchema,
  errorSchema,
  marketSchema,
  oauthTokenSchema,
  positionsSchema,
  pricesSchema,
  sessionDetailsSchema,
  sessionV2Schema,
  sessionV3Schema,
  workingOrdersSchema,
} from './schemas.js';

/** IG's documented gateways. */
export const IG_BASE_URLS = {
  demo: 'https://demo-api.ig.com/gateway/deal',
  live: 'https://api.ig.com/gateway/deal',
} as const;

/** Options of an IgClient. */
export interface IgClientOptions {
  /** IG_BASE_URLS.demo / .live, or a simulator's URL. */
  baseUrl: string;
  apiKey: string;
  identifier: string;
  password: string;
  /** 2: CST / X-SECURITY-TOKEN; 3: OAuth access + refresh token (default 2). */
  sessionVersion?: 2 | 3;
  /** Switch to this account after login (PUT /session). */
  accountId?: string;
  /** Non-trading requests per minute per account (IG documents 30). */
  nonTradingPerMinute?: number;
  /**
   * The venue's request budget (RISK-5, built by the runtime from `risk.venueRequestsPerMinute` or IG's 30 a
   * minute): every non-trading request draws on it instead of a budget of the client's own.
   */
  budget?: VenueRequestBudget;
  /** Called when IG refuses for an exceeded allowance or a budget wait is long. */
  onAlert?: (message: string) => void;
  /** Clock and sleep (tests drive them; defaults are Date.now and setTimeout). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

/** IG's two request allowances: trading (deals) and the rest. */
export type Kind = 'trading' | 'nonTrading';
const TOKEN_INVALID =
  /^error\.security\.(client-token-invalid|client-token-missing|oauth-token-invalid|account-token-invalid)$/;
const ALLOWANCE = /^error\.public-api\.exceeded-(account-trading|account|api-key|account-historical-data)-allowance$/;

/** A deal's outcome (GET /confirms). */
export type IgConfirm = z.infer<typeof confirmSchema>;
/** An open position (GET /positions). */
export type IgPosition = z.infer<typeof positionsSchema>['positions'][number];
/** A working order (GET /workingorders). */
export type IgWorkingOrder = z.infer<typeof workingOrdersSchema>['workingOrders'][number];

/** One market's details: its dealing rules, its quote and its margin. */
export interface IgMarket extends IgDealingRules {
  name: string;
  bid: number | null;
  offer: number | null;
  /** Margin as a fraction of the position's value (IG's marginFactor in PERCENTAGE / 100); undefined if not given. */
  marginRate: number | undefined;
  /** The quote's time of day (UTC, HH:MM:SS) as IG reports it. */
  updateTime: string | undefined;
  marketStatus: string;
}

/** One bar of GET /prices, on the mid of bid and ask. */
export interface IgBar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * A bar price on the mid of IG's bid and ask (one side, or the last traded price, where IG gives only that): the
 * one rule for REST price history and streamed candles, so both give the same bar.
 */
export function igMid(bid: number | null, ask: number | null, lastTraded: number | null = null): number {
  return bid !== null && ask !== null ? (bid + ask) / 2 : (bid ?? ask ?? lastTraded ?? Number.NaN);
}

/** IG's resolutions by our timeframes (the ones IG has). */
export const IG_RESOLUTIONS: Partial<Record<Timeframe, string>> = {
  '1m': 'MINUTE',
  '5m': 'MINUTE_5',
  '15m': 'MINUTE_15',
  '1h': 'HOUR',
  '4h': 'HOUR_4',
  '1d': 'DAY',
  '1w': 'WEEK',
};

/** IG's reject reasons (GET /confirms `reason`) that mean the deal itself was wrong or unaffordable. */
const REASON_CODES: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'VENUE_INSUFFICIENT_FUNDS',
  MINIMUM_ORDER_SIZE_ERROR: 'VENUE_INVALID_ORDER',
  ATTACHED_ORDER_LEVEL_ERROR: 'VENUE_INVALID_ORDER',
  ATTACHED_ORDER_TRAILING_STOP_ERROR: 'VENUE_INVALID_ORDER',
  GUARANTEED_STOP_NOT_ALLOWED: 'VENUE_INVALID_ORDER',
  MARKET_NOT_FOUND: 'VENUE_BAD_SYMBOL',
  POSITION_NOT_AVAILABLE_TO_CLOSE: 'VENUE_ORDER_NOT_FOUND',
  POSITION_NOT_FOUND: 'VENUE_ORDER_NOT_FOUND',
};

/** One entry of IG's activity history (GET /history/activity). */
export type IgActivity = z.infer<typeof activitySchema>['activities'][number];

/** A broker-side stop attached to a position: normal, trailing (with its increment) or guaranteed. */
export type IgStop =
  | { kind: 'normal'; distance: number }
  | { kind: 'trailing'; distance: number; increment: number }
  | { kind: 'guaranteed'; distance: number };

/**
 * Our thin IG REST client on fetch + zod (VENUE-2): sessions v2 and v3 with re-login when IG invalidates the
 * tokens (expiry, the weekend), token refresh for v3, account switch, the real allowances read from
 * /operations/application at connect and enforced as request budgets, a 403 `exceeded-*-allowance` turned into
 * a retryable VenueError with a back-off and an alert, dealing rules checked before a deal is sent, and every
 * deal confirmed through /confirms.
 */
export class IgClient {
  private readonly f: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly version: 2 | 3;
  private headers: Record<string, string> = {};
  private refreshToken: string | undefined;
  private accessExpiresAt = 0;
  private budgets: Record<Kind, VenueRequestBudget>;
  /** Historical price points left this week (from the last GET /prices); undefined before the first. */
  historicalAllowanceLeft: number | undefined;
  /** The client's clock (epoch ms): the one its budgets and token expiry read. */
  time(): number {
    return this.now();
  }

  /** True while IG's 403 allowance back-off refuses requests of this kind (or price history). */
  backingOff(kind: Kind | 'history'): boolean {
    return this.blockedUntil[kind] > this.now();
  }
  /** Epoch ms of the last response's `Date` header, and our clock when it arrived. */
  private lastServerDate: { server: number; local: number } | undefined;
  private blockedUntil: Record<Kind | 'history', number> = { trading: 0, nonTrading: 0, history: 0 };
  /** When IG's weekly historical-data allowance renews (from the last GET /prices), epoch ms. */
  private historyRenewsAt = 0;
  private readonly rulesCache = new Map<string, IgDealingRules>();
  /** The account the session trades (after a switch, the switched-to one). */
  accountId: string | undefined;
  /** The Lightstreamer endpoint the session returned. */
  lightstreamerEndpoint: string | undefined;
  /** Allowances IG reported for the API key. */
  allowances: z.infer<typeof applicationSchema> | undefined;
  /** Logins performed (the first, and each re-login). */
  logins = 0;

  constructor(readonly opts: IgClientOptions) {
    this.f = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.version = opts.sessionVersion ?? 2;
    const nonTrading = opts.nonTradingPerMinute ?? 30;
    this.budgets = {
      trading: new RequestBudget(nonTrading),
      nonTrading: opts.budget ?? new RequestBudget(nonTrading),
    };
  }

  /** Logs in, switches account when asked, and reads the allowances (trading budget = the account's allowance). */
  async connect(): Promise<void> {
    await this.login();
    if (this.opts.accountId && this.opts.accountId !== this.accountId) await this.switchAccount(this.opts.accountId);
    const apps = await this.call(
      'nonTrading',
      'GET',
      '/operations/application',
      1,
      undefined,
      applicationSchema.array(),
    );
    const app = apps.find((a) => a.apiKey === this.opts.apiKey) ?? apps[0];
    if (app) {
      this.allowances = app;
      this.budgets.trading = new RequestBudget(Math.max(1, app.allowanceAccountTrading));
      const overall = Math.max(1, Math.min(this.opts.nonTradingPerMinute ?? 30, app.allowanceAccountOverall));
      if (this.opts.budget === undefined) this.budgets.nonTrading = new RequestBudget(overall);
      else if (app.allowanceAccountOverall < (this.opts.nonTradingPerMinute ?? 30)) {
        this.opts.onAlert?.(
          `IG allows this account ${app.allowanceAccountOverall} non-trading requests a minute, fewer than the venue budget assumes`,
        );
      }
    }
  }

  /**
   * The login of IG's streaming server: its endpoint, the account id and `CST-…|XST-…`. A request goes first, so
   * a session IG has ended (the weekend) is logged in again; an OAuth (v3) session fetches its CST and XST.
   */
  async streamLogin(): Promise<{ endpoint: string; user: string; password: string }> {
    await this.call('nonTrading', 'GET', '/session', 1, undefined, undefined);
    let cst: string | null | undefined = this.headers.CST;
    let xst: string | null | undefined = this.headers['X-SECURITY-TOKEN'];
    if (this.version === 3) {
      await this.take('nonTrading', '/session');
      const res = await this.raw('GET', '/session?fetchSessionTokens=true', 1, undefined, {});
      if (!res.ok) await this.fail(res, 'nonTrading', 'GET', '/session?fetchSessionTokens=true');
      cst = res.headers.get('CST');
      xst = res.headers.get('X-SECURITY-TOKEN');
    }
    if (!cst || !xst || !this.lightstreamerEndpoint || !this.accountId)
      throw new VenueError('ig: the session gave no streaming login (CST, X-SECURITY-TOKEN, endpoint)', {
        retryable: true,
        venue: 'ig',
      });
    return { endpoint: this.lightstreamerEndpoint, user: this.accountId, password: `CST-${cst}|XST-${xst}` };
  }

  /** PUT /session: trade another account of the same login. */
  async switchAccount(accountId: string): Promise<void> {
    await this.call('nonTrading', 'PUT', '/session', 1, { accountId, defaultAccount: false }, undefined);
    this.accountId = accountId;
    if (this.version === 3) this.headers['IG-ACCOUNT-ID'] = accountId;
  }

  /** GET /accounts: balance, available funds, margin in use (deposit) and open P&L of each account. */
  async accounts(): Promise<z.infer<typeof accountsSchema>['accounts']> {
    return (await this.call('nonTrading', 'GET', '/accounts', 1, undefined, accountsSchema)).accounts;
  }

  /** GET /markets/{epic} v3: dealing rules (used for rounding and validation), the quote and the margin. */
  async market(epic: string): Promise<IgMarket> {
    const m = await this.call('nonTrading', 'GET', `/markets/${encodeURIComponent(epic)}`, 3, undefined, marketSchema);
    const rules: IgDealingRules = {
      epic,
      minDealSize: m.dealingRules.minDealSize,
      minNormalStopOrLimitDistance: m.dealingRules.minNormalStopOrLimitDistance,
      minControlledRiskStopDistance: m.dealingRules.minControlledRiskStopDistance,
      maxStopOrLimitDistance: m.dealingRules.maxStopOrLimitDistance,
      priceDecimals: m.snapshot.decimalPlacesFactor,
      controlledRiskAllowed: m.instrument.controlledRiskAllowed ?? false,
    };
    this.rulesCache.set(epic, rules);
    const pct = m.instrument.marginFactorUnit !== 'POINTS' ? m.instrument.marginFactor : undefined;
    return {
      ...rules,
      name: m.instrument.name,
      bid: m.snapshot.bid,
      offer: m.snapshot.offer,
      marginRate: pct === undefined ? undefined : pct / 100,
      updateTime: m.snapshot.updateTime,
      marketStatus: m.snapshot.marketStatus,
    };
  }

  /** The dealing rules of `epic` with its quote (one GET /markets). */
  async dealingRules(epic: string): Promise<IgMarket> {
    return this.market(epic);
  }

  /**
   * GET /prices/{epic} v3: the last `max` bars at `resolution` on the mid of bid and ask. Each point draws on IG's
   * weekly historical-data allowance; the remainder is kept in `historicalAllowanceLeft` and an alert is raised
   * below a tenth of it.
   */
  async prices(epic: string, resolution: string, max: number): Promise<IgBar[]> {
    const q = new URLSearchParams({ resolution, max: String(max), pageSize: '0' });
    const wait = this.blockedUntil.history - this.now();
    if (wait > 0) {
      throw new VenueError(`ig historical-data allowance exhausted: no price history for ${Math.ceil(wait / 1000)} s`, {
        retryable: true,
        venue: 'ig',
        code: 'VENUE_RATE_LIMIT',
        retryAfterMs: wait,
      });
    }
    const r = await this.call(
      'nonTrading',
      'GET',
      `/prices/${encodeURIComponent(epic)}?${q.toString()}`,
      3,
      undefined,
      pricesSchema,
    );
    const a = r.metadata.allowance;
    this.historicalAllowanceLeft = a.remainingAllowance;
    this.historyRenewsAt = this.now() + a.allowanceExpiry * 1000;
    if (a.remainingAllowance < a.totalAllowance / 10) {
      this.opts.onAlert?.(
        `IG historical-data allowance low: ${a.remainingAllowance} of ${a.totalAllowance} points left, renews in ${a.allowanceExpiry} s`,
      );
    }
    const mid = (p: { bid: number | null; ask: number | null; lastTraded: number | null }) =>
      igMid(p.bid, p.ask, p.lastTraded);
    return r.prices.map((p) => ({
      time: Date.parse(`${p.snapshotTimeUTC}Z`),
      open: mid(p.openPrice),
      high: mid(p.highPrice),
      low: mid(p.lowPrice),
      close: mid(p.closePrice),
      volume: p.lastTradedVolume ?? 0,
    }));
  }

  /** IG's clock: the `Date` header of GET /session (IG has no time endpoint), advanced by our time since. */
  async serverTime(): Promise<number> {
    await this.call('nonTrading', 'GET', '/session', 1, undefined, sessionDetailsSchema);
    const d = this.lastServerDate;
    if (!d) throw new VenueError('ig GET /session: no Date header', { retryable: true, venue: 'ig' });
    return d.server + (this.now() - d.local);
  }

  /**
   * Opens a position at market with a broker-side stop (POST /positions/otc with our deal reference, so a
   * repeat is not a second deal), then confirms it. The deal is checked against the dealing rules first; a
   * rejected confirm throws a non-retryable VenueError with IG's reason.
   */
  async openPosition(req: {
    epic: string;
    direction: 'BUY' | 'SELL';
    size: number;
    currencyCode: string;
    dealReference: string;
    stop?: IgStop;
    limitDistance?: number;
    /** The market, when the caller has just read it (saves a request). */
    market?: IgMarket;
  }): Promise<IgConfirm> {
    const rules = req.market ?? (await this.dealingRules(req.epic));
    const price = (req.direction === 'BUY' ? rules.offer : rules.bid) ?? Number.NaN;
    const { size } = checkDeal(rules, {
      size: req.size,
      price,
      ...(req.stop ? { stopDistance: req.stop.distance, guaranteedStop: req.stop.kind === 'guaranteed' } : {}),
      ...(req.limitDistance !== undefined ? { limitDistance: req.limitDistance } : {}),
    });
    const body: Record<string, unknown> = {
      epic: req.epic,
      expiry: '-',
      direction: req.direction,
      size,
      orderType: 'MARKET',
      currencyCode: req.currencyCode,
      forceOpen: true,
      guaranteedStop: req.stop?.kind === 'guaranteed',
      dealReference: req.dealReference,
    };
    if (req.stop) body.stopDistance = req.stop.distance;
    if (req.stop?.kind === 'trailing') {
      body.trailingStop = true;
      body.trailingStopIncrement = req.stop.increment;
    }
    if (req.limitDistance !== undefined) body.limitDistance = req.limitDistance;
    const { dealReference } = await this.call('trading', 'POST', '/positions/otc', 2, body, dealReferenceSchema);
    return this.confirmed(dealReference);
  }

  /** Moves a position's stop and/or limit level (PUT /positions/otc/{dealId}), confirmed. */
  async amendPosition(
    dealId: string,
    levels: { stopLevel?: number | null; limitLevel?: number | null },
  ): Promise<IgConfirm> {
    const { dealReference } = await this.call(
      'trading',
      'PUT',
      `/positions/otc/${encodeURIComponent(dealId)}`,
      2,
      levels,
      dealReferenceSchema,
    );
    return this.confirmed(dealReference);
  }

  /** Closes (part of) a position at market: POST /positions/otc with `_method: DELETE`, confirmed. */
  async closePosition(dealId: string, direction: 'BUY' | 'SELL', size: number): Promise<IgConfirm> {
    const body = { dealId, direction: direction === 'BUY' ? 'SELL' : 'BUY', size, orderType: 'MARKET', expiry: null };
    const { dealReference } = await this.call('trading', 'POST', '/positions/otc', 1, body, dealReferenceSchema, {
      _method: 'DELETE',
    });
    return this.confirmed(dealReference);
  }

  /**
   * GET /history/activity v3 (detailed) from `from` (epoch ms): every deal with its reference, direction, size,
   * level and actions (opened, closed, partially closed), following IG's paging (at most 10 pages).
   */
  async activity(from: number): Promise<IgActivity[]> {
    const iso = (t: number) => new Date(t).toISOString().slice(0, 19);
    const q = new URLSearchParams({ from: iso(from), detailed: 'true', pageSize: '500' });
    let path: string | undefined = `/history/activity?${q.toString()}`;
    const out: IgActivity[] = [];
    for (let page = 0; path !== undefined && page < 10; page++) {
      const r: z.infer<typeof activitySchema> = await this.call(
        'nonTrading',
        'GET',
        path,
        3,
        undefined,
        activitySchema,
      );
      out.push(...r.activities);
      const next: string | null | undefined = r.metadata?.paging?.next;
      path = next ? next.replace(/^\/?(gateway\/deal)?/, '/').replace(/^\/+/, '/') : undefined;
    }
    return out;
  }

  /** GET /positions (v2). */
  async positions(): Promise<IgPosition[]> {
    return (await this.call('nonTrading', 'GET', '/positions', 2, undefined, positionsSchema)).positions;
  }

  /** Creates a working (LIMIT or STOP) order, confirmed. */
  async createWorkingOrder(req: {
    epic: string;
    direction: 'BUY' | 'SELL';
    size: number;
    level: number;
    type: 'LIMIT' | 'STOP';
    currencyCode: string;
    dealReference: string;
    stopDistance?: number;
    guaranteedStop?: boolean;
    /** false: the order nets against opposite positions when it triggers (no stop may be attached then). */
    forceOpen?: boolean;
  }): Promise<IgConfirm> {
    const body = {
      expiry: '-',
      timeInForce: 'GOOD_TILL_CANCELLED',
      ...req,
      guaranteedStop: req.guaranteedStop ?? false,
      forceOpen: req.forceOpen ?? true,
    };
    const { dealReference } = await this.call('trading', 'POST', '/workingorders/otc', 2, body, dealReferenceSchema);
    return this.confirmed(dealReference);
  }

  /** GET /workingorders (v2). */
  async workingOrders(): Promise<IgWorkingOrder[]> {
    return (await this.call('nonTrading', 'GET', '/workingorders', 2, undefined, workingOrdersSchema)).workingOrders;
  }

  /** Deletes a working order, confirmed. */
  async deleteWorkingOrder(dealId: string): Promise<IgConfirm> {
    const { dealReference } = await this.call(
      'trading',
      'DELETE',
      `/workingorders/otc/${encodeURIComponent(dealId)}`,
      2,
      undefined,
      dealReferenceSchema,
    );
    return this.confirmed(dealReference);
  }

  /** GET /confirms/{ref}; a REJECTED deal throws a non-retryable VenueError carrying IG's reason. */
  async confirm(dealReference: string): Promise<IgConfirm> {
    return this.call(
      'nonTrading',
      'GET',
      `/confirms/${encodeURIComponent(dealReference)}`,
      1,
      undefined,
      confirmSchema,
    );
  }

  private async confirmed(dealReference: string): Promise<IgConfirm> {
    const c = await this.confirm(dealReference);
    if (c.dealStatus === 'REJECTED') {
      throw new VenueError(`ig deal ${dealReference} rejected: ${c.reason}`, {
        retryable: false,
        venue: 'ig',
        code: REASON_CODES[c.reason] ?? 'VENUE_REJECTED',
      });
    }
    return c;
  }

  private async login(): Promise<void> {
    this.logins++;
    this.headers = {};
    const body = { identifier: this.opts.identifier, password: this.opts.password };
    const res = await this.raw('POST', '/session', this.version, body, {});
    const json = await this.parse(res, this.version === 3 ? sessionV3Schema : sessionV2Schema, '/session');
    if (this.version === 3) {
      const s = json as z.infer<typeof sessionV3Schema>;
      this.accountId = s.accountId;
      this.lightstreamerEndpoint = s.lightstreamerEndpoint;
      this.applyToken(s.oauthToken);
      this.headers['IG-ACCOUNT-ID'] = s.accountId;
    } else {
      const s = json as z.infer<typeof sessionV2Schema>;
      const cst = res.headers.get('CST');
      const xst = res.headers.get('X-SECURITY-TOKEN');
      if (!cst || !xst)
        throw new VenueError('ig login: no CST / X-SECURITY-TOKEN headers', { retryable: true, venue: 'ig' });
      this.headers = { CST: cst, 'X-SECURITY-TOKEN': xst };
      this.accountId = s.currentAccountId;
      this.lightstreamerEndpoint = s.lightstreamerEndpoint;
    }
  }

  private applyToken(t: z.infer<typeof oauthTokenSchema>): void {
    this.headers.Authorization = `${t.token_type} ${t.access_token}`;
    this.refreshToken = t.refresh_token;
    this.accessExpiresAt = this.now() + t.expires_in * 1000;
  }

  // v3: a refresh before the access token expires; a full login when the refresh token is gone too.
  private async renew(): Promise<void> {
    if (this.version === 3 && this.refreshToken) {
      const res = await this.raw('POST', '/session/refresh-token', 1, { refresh_token: this.refreshToken }, {});
      if (res.ok) {
        this.applyToken(await this.parse(res, oauthTokenSchema, '/session/refresh-token'));
        return;
      }
    }
    await this.login();
    if (this.opts.accountId && this.opts.accountId !== this.accountId) await this.switchAccount(this.opts.accountId);
  }

  private async call<S extends z.ZodType>(
    kind: Kind,
    method: string,
    path: string,
    version: number,
    body: unknown,
    schema: S | undefined,
    extra: Record<string, string> = {},
  ): Promise<z.infer<S>> {
    if (this.version === 3 && this.headers.Authorization && this.now() >= this.accessExpiresAt - 5_000)
      await this.renew();
    await this.take(kind, path);
    let res = await this.raw(method, path, version, body, extra);
    if (res.status === 401) {
      const code = await this.errorCode(res);
      if (!TOKEN_INVALID.test(code))
        throw new VenueError(`ig ${method} ${path}: 401 ${code}`, { retryable: false, venue: 'ig' });
      // IG invalidates sessions on expiry and over the weekend: log in again and retry once.
      await this.renew();
      await this.take(kind, path);
      res = await this.raw(method, path, version, body, extra);
    }
    if (schema === undefined) {
      if (!res.ok) await this.fail(res, kind, method, path);
      return undefined as z.infer<S>;
    }
    return this.parse(res, schema, path, kind, method);
  }

  // Waits for the request budget of `kind`; refuses while IG's own allowance back-off runs.
  private async take(kind: Kind, path: string): Promise<void> {
    const blocked = this.blockedUntil[kind] - this.now();
    if (blocked > 0) {
      throw new VenueError(`ig ${kind} allowance exceeded: backing off ${Math.ceil(blocked / 1000)} s before ${path}`, {
        retryable: true,
        venue: 'ig',
        retryAfterMs: blocked,
      });
    }
    const budget = this.budgets[kind];
    // Kill switch calls draw on the budget's reserve, so they never wait behind polling.
    const urgent = venueCallContext().urgent === true;
    for (;;) {
      const now = this.now();
      if (budget.tryAcquire(now, urgent)) return;
      await this.sleep(Math.max(1, budget.waitTime(now, urgent)));
    }
  }

  private raw(
    method: string,
    path: string,
    version: number,
    body: unknown,
    extra: Record<string, string>,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      'X-IG-API-KEY': this.opts.apiKey,
      VERSION: String(version),
      Accept: 'application/json; charset=UTF-8',
      'Content-Type': 'application/json; charset=UTF-8',
      ...this.headers,
      ...extra,
    };
    return this.f(`${this.opts.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
      .then((res) => {
        const date = Date.parse(res.headers.get('date') ?? '');
        if (Number.isFinite(date)) this.lastServerDate = { server: date, local: this.now() };
        return res;
      })
      .catch((err: unknown) => {
        throw new VenueError(`ig ${method} ${path}: ${(err as Error).message}`, {
          retryable: true,
          venue: 'ig',
          cause: err,
        });
      });
  }

  private async parse<S extends z.ZodType>(
    res: Response,
    schema: S,
    path: string,
    kind: Kind = 'nonTrading',
    method = 'POST',
  ): Promise<z.infer<S>> {
    if (!res.ok) await this.fail(res, kind, method, path);
    const json = (await res.json().catch(() => undefined)) as unknown;
    const r = schema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new VenueError(`ig ${path}: unexpected response at ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
        retryable: false,
        venue: 'ig',
      });
    }
    return r.data;
  }

  private async errorCode(res: Response): Promise<string> {
    const r = errorSchema.safeParse(await res.json().catch(() => undefined));
    return r.success ? r.data.errorCode : `http-${res.status}`;
  }

  private async fail(res: Response, kind: Kind, method: string, path: string): Promise<never> {
    const code = await this.errorCode(res);
    if (res.status === 403 && ALLOWANCE.test(code)) {
      // The per-minute allowances: back off a full window. The weekly historical-data one stops only price
      // history, until it renews (as the last GET /prices said; a minute when unknown).
      const which = code.includes('historical') ? 'history' : code.includes('trading') ? 'trading' : kind;
      const pause = which === 'history' ? Math.max(60_000, this.historyRenewsAt - this.now()) : 60_000;
      this.blockedUntil[which] = this.now() + pause;
      this.opts.onAlert?.(
        `IG refused ${method} ${path}: ${code}; ${which} requests paused for ${Math.ceil(pause / 1000)} s`,
      );
      throw new VenueError(`ig ${method} ${path}: ${code}`, {
        retryable: true,
        venue: 'ig',
        code: 'VENUE_RATE_LIMIT',
        retryAfterMs: pause,
      });
    }
    const retryable = res.status >= 500 || res.status === 429;
    throw new VenueError(`ig ${method} ${path}: ${res.status} ${code}`, { retryable, venue: 'ig' });
  }
}
