import { useEffect, useState } from 'react';
import { api, openStream } from './api';

interface Level {
  price: number;
  quantity: number;
}
interface Book {
  symbol: string;
  time: number;
  bids: Level[];
  asks: Level[];
  spread: number | null;
}

const DEPTH = 10;

/** Cumulative quantity per level, for the depth bars. */
function cumulative(levels: Level[]): number[] {
  let sum = 0;
  return levels.map((l) => (sum += l.quantity));
}

/** The venue's order book: asks above, bids below, depth bars by cumulative size, and the spread; live. */
export function OrderBook() {
  const [symbols, setSymbols] = useState<string[]>([]);
  const [symbol, setSymbol] = useState('');
  const [book, setBook] = useState<Book | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    api<{ symbols: { symbol: string }[] }>('GET', '/api/market/symbols')
      .then((r) => {
        const list = [...new Set(r.symbols.map((s) => s.symbol))];
        setSymbols(list);
        if (list[0]) setSymbol(list[0]);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);

  useEffect(() => {
    if (!symbol) return;
    let stale = false;
    api<Book>('GET', `/api/market/orderbook?symbol=${encodeURIComponent(symbol)}&depth=${DEPTH}`)
      .then((b) => {
        if (!stale) setBook(b);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    const off = openStream(['orderbook'], (_t, data) => {
      const b = data as Book;
      if (b.symbol === symbol) setBook({ ...b, bids: b.bids.slice(0, DEPTH), asks: b.asks.slice(0, DEPTH) });
    });
    return () => {
      stale = true;
      off();
    };
  }, [symbol]);

  const bids = book?.bids ?? [];
  const asks = book?.asks ?? [];
  const cb = cumulative(bids);
  const ca = cumulative(asks);
  const max = Math.max(cb[cb.length - 1] ?? 0, ca[ca.length - 1] ?? 0) || 1;
  const mid = bids[0] && asks[0] ? (bids[0].price + asks[0].price) / 2 : undefined;
  const row = (l: Level, cum: number, side: 'bid' | 'ask') => (
    <tr key={`${side}${l.price}`} data-testid={`book-${side}`}>
      <td className={side === 'bid' ? 'pos' : 'neg'}>{l.price}</td>
      <td>{l.quantity}</td>
      <td className="depth">
        <span className={`bar ${side}`} style={{ width: `${(100 * cum) / max}%` }} data-testid="depth-bar" />
      </td>
    </tr>
  );

  return (
    <section className="card">
      <h2>Order book</h2>
      {error && (
        <p className="neg" role="alert">
          {error}
        </p>
      )}
      <select aria-label="book symbol" value={symbol} onChange={(e) => setSymbol(e.target.value)}>
        {symbols.map((s) => (
          <option key={s}>{s}</option>
        ))}
      </select>
      <table className="book" data-testid="order-book">
        <thead>
          <tr>
            <th>Price</th>
            <th>Size</th>
            <th>Depth</th>
          </tr>
        </thead>
        <tbody>
          {[...asks.map((l, i) => ({ l, c: ca[i] }))].reverse().map(({ l, c }) => row(l, c, 'ask'))}
          <tr className="spread">
            <td colSpan={3} data-testid="spread">
              {book?.spread != null
                ? `Spread ${book.spread.toFixed(4).replace(/\.?0+$/, '')}${mid ? ` (${((10_000 * book.spread) / mid).toFixed(1)} bp)` : ''}`
                : 'Spread —'}
            </td>
          </tr>
          {bids.map((l, i) => row(l, cb[i], 'bid'))}
        </tbody>
      </table>
    </section>
  );
}
