/**
 * The trading context an assistant chat carries (AUTH-10): balance, positions, recent orders and prices, each
 * switched on or off by the user. A section that is off is neither read nor sent.
 */

/** Which parts of the account the model may see. */
export interface ContextToggles {
  balance: boolean;
  positions: boolean;
  orders: boolean;
  prices: boolean;
}

/** Everything on: the default of a chat. */
export const ALL_CONTEXT: Readonly<ContextToggles> = Object.freeze({
  balance: true,
  positions: true,
  orders: true,
  prices: true,
});

/** The account's balances. */
export interface ContextBalance {
  currency: string;
  equity: number;
  assets: readonly { asset: string; free: number; total: number }[];
}

/** One open position. */
export interface ContextPosition {
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  entryPrice: number;
  markPrice?: number;
  unrealisedPnl?: number;
}

/** One recent order. */
export interface ContextOrder {
  symbol: string;
  side: string;
  type: string;
  quantity: number;
  price?: number;
  status: string;
  createdAt?: number;
}

/** Where the context comes from (the runtime, through the API port). */
export interface TradingContextSource {
  balance(): Promise<ContextBalance>;
  positions(): Promise<readonly ContextPosition[]>;
  recentOrders(limit: number): Promise<readonly ContextOrder[]>;
  /** Last price by symbol. */
  prices(): Promise<Readonly<Record<string, number>>>;
}

/** The context of one chat turn: only the sections that were on. */
export interface TradingSnapshot {
  balance?: ContextBalance;
  positions?: readonly ContextPosition[];
  orders?: readonly ContextOrder[];
  prices?: Readonly<Record<string, number>>;
}

/** How many recent orders a chat shows the model. */
export const CONTEXT_ORDERS = 20;

/** Reads the sections that are on, in parallel; the others are never asked for. */
export async function gatherContext(source: TradingContextSource, on: ContextToggles): Promise<TradingSnapshot> {
  const [balance, positions, orders, prices] = await Promise.all([
    on.balance ? source.balance() : undefined,
    on.positions ? source.positions() : undefined,
    on.orders ? source.recentOrders(CONTEXT_ORDERS) : undefined,
    on.prices ? source.prices() : undefined,
  ]);
  return {
    ...(balance ? { balance } : {}),
    ...(positions ? { positions } : {}),
    ...(orders ? { orders } : {}),
    ...(prices ? { prices } : {}),
  };
}

const num = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(10))) : 'n/a');

/** The snapshot as the text the model reads; undefined when every section is off. */
export function contextText(s: TradingSnapshot): string | undefined {
  const parts: string[] = [];
  if (s.balance) {
    const b = s.balance;
    const assets = b.assets.map((a) => `${a.asset} ${num(a.total)} (free ${num(a.free)})`).join(', ');
    parts.push(`Balance: equity ${num(b.equity)} ${b.currency}${assets ? `; ${assets}` : ''}.`);
  }
  if (s.positions) {
    parts.push(
      s.positions.length === 0
        ? 'Open positions: none.'
        : `Open positions:\n${s.positions
            .map(
              (p) =>
                `- ${p.symbol} ${p.side} ${num(p.quantity)} @ ${num(p.entryPrice)}` +
                (p.markPrice !== undefined ? `, mark ${num(p.markPrice)}` : '') +
                (p.unrealisedPnl !== undefined ? `, unrealised P&L ${num(p.unrealisedPnl)}` : ''),
            )
            .join('\n')}`,
    );
  }
  if (s.orders) {
    parts.push(
      s.orders.length === 0
        ? 'Recent orders: none.'
        : `Recent orders (newest first):\n${s.orders
            .map(
              (o) =>
                `- ${o.side} ${num(o.quantity)} ${o.symbol} ${o.type}` +
                (o.price !== undefined ? ` @ ${num(o.price)}` : '') +
                ` — ${o.status}`,
            )
            .join('\n')}`,
    );
  }
  if (s.prices) {
    const entries = Object.entries(s.prices);
    parts.push(
      entries.length === 0
        ? 'Prices: none known.'
        : `Last prices: ${entries.map(([sym, p]) => `${sym} ${num(p)}`).join(', ')}.`,
    );
  }
  return parts.length ? `The trader's account right now:\n${parts.join('\n')}` : undefined;
}
