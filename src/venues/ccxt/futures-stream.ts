/**
 * Binance USDⓈ-M's user-data stream through ccxt's binanceusdm: a listen key (`POST /fapi/v1/listenKey`, kept alive
 * by ccxt every 20 minutes) and one socket (`/private/ws?listenKey=…`) carrying `ORDER_TRADE_UPDATE`,
 * `ACCOUNT_UPDATE` (balances, positions, funding) and `listenKeyExpired`, after which the server closes it.
 */
import type { Exchange } from 'ccxt';

/** The parts of ccxt's binance (pro) the futures stream uses that its typings leave out. */
interface BinancePro {
  options: Record<string, unknown>;
  authenticate(params: Record<string, unknown>): Promise<unknown>;
  getPrivateWsUrl(type: string, listenKey: string): string;
  client(url: string): {
    connect(backoffDelay?: number): Promise<unknown>;
    future(messageHash: string): Promise<unknown>;
    resolve(result: unknown, messageHash: string): unknown;
  };
  delay(timeout: number, method: (...args: unknown[]) => unknown, ...args: unknown[]): void;
  spawn(method: (...args: unknown[]) => unknown, ...args: unknown[]): unknown;
}

/**
 * Resolves once the futures user-data socket is open, which is when events start flowing (a listen-key stream has no
 * subscribe to be answered). Each call asks for the account's listen key again: after a dropped socket or a
 * `listenKeyExpired`, ccxt would otherwise reuse its cached key for up to 20 minutes and the server would close
 * every socket opened on it. Binance answers the POST with the live key, extended, so a key still valid is kept.
 */
export async function futuresUserStreamReady(exchange: Exchange): Promise<void> {
  const ex = exchange as unknown as BinancePro;
  const bucket = (ex.options.future ?? {}) as Record<string, unknown>;
  ex.options.future = { ...bucket, lastAuthenticatedTime: 0 };
  await ex.authenticate({ type: 'future' });
  const listenKey = (ex.options.future as Record<string, unknown>).listenKey;
  if (typeof listenKey !== 'string' || listenKey === '')
    throw new Error('binanceusdm: no listen key after authenticate');
  // ccxt's watch calls open this same client (one per URL); opening it here lets the reconciling read follow it.
  // ccxt never rejects `connect()` when the socket fails (it rejects the client's pending futures instead), so a
  // future of ours stands by to carry that failure, and is taken back once the socket is open.
  const client = ex.client(ex.getPrivateWsUrl('future', listenKey));
  const failed = client.future(READY_HASH);
  try {
    await Promise.race([client.connect(0), failed]);
  } finally {
    client.resolve(undefined, READY_HASH);
  }
}

/** The client future that carries a failed connect of `futuresUserStreamReady`. */
const READY_HASH = 'tradeforge:userStreamReady';

/**
 * Makes ccxt's delayed calls (the listen key keepalive) not hold the process open, and keeps one chain of each: every
 * `authenticate` schedules a keepalive that reschedules itself, so each resubscription would add a chain of PUTs.
 */
export function unrefListenKeyKeepalive(exchange: Exchange): void {
  const ex = exchange as unknown as BinancePro;
  const pending = new Set<unknown>();
  ex.delay = (timeout, method, ...args) => {
    if (pending.has(method)) return;
    pending.add(method);
    setTimeout(() => {
      pending.delete(method);
      ex.spawn(method, ...args);
    }, timeout).unref();
  };
}

/** A funding payment announced on the futures user-data stream (`ACCOUNT_UPDATE`, reason FUNDING_FEE). */
export interface FundingEvent {
  /** The margin asset's balance change: the payment (positive received, negative paid). */
  amount: number;
  asset: string;
  time: number;
}

/**
 * The funding payments an `ACCOUNT_UPDATE` announces (none for any other reason). They carry no income id, so they
 * only tell the funding booker to read the income history now (which books each payment once, by its id).
 */
export function fundingEventsOf(info: unknown): FundingEvent[] {
  const msg = info as { e?: unknown; E?: unknown; a?: { m?: unknown; B?: { a?: unknown; bc?: unknown }[] } } | null;
  if (msg?.e !== 'ACCOUNT_UPDATE' || msg.a?.m !== 'FUNDING_FEE') return [];
  const time = Number(msg.E ?? 0);
  return (msg.a.B ?? []).map((b) => ({ amount: Number(b.bc ?? 0), asset: String(b.a ?? ''), time }));
}
