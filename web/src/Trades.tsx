import { useEffect, useState } from 'react';
import { api, openStream, type Trade } from './api';

/** One trade's identity: the store's row and the `trade.closed.v1` event of the same round trip agree on it. */
const tradeKey = (t: Trade) => `${t.strategyId}:${t.symbol}:${t.entryTime}:${t.exitTime}:${t.quantity}`;

/** The stored trades and those streamed since, each once, by exit time (the store's order). */
function mergeTrades(stored: readonly Trade[], streamed: readonly Trade[]): Trade[] {
  const byKey = new Map<string, Trade>();
  for (const t of [...stored, ...streamed]) if (!byKey.has(tradeKey(t))) byKey.set(tradeKey(t), t);
  return [...byKey.values()].sort((a, b) => a.exitTime - b.exitTime);
}

/**
 * Closed trades with a symbol filter and CSV export. Loaded when the page opens and the filter changes (and on a
 * stream resync); a trade closed meanwhile comes in on the `fills` topic's `trade.closed.v1` event, which carries the
 * trade, so the table grows with no extra request and without waiting for the store's batched write.
 */
export function Trades() {
  const [symbol, setSymbol] = useState('');
  const [trades, setTrades] = useState<Trade[]>([]);
  useEffect(() => {
    const q = symbol ? `?symbol=${encodeURIComponent(symbol)}` : '';
    let stored: Trade[] = [];
    // Kept past a reload: the store writes in batches, so a load may answer before it holds a trade just streamed.
    const streamed: Trade[] = [];
    let gone = false;
    const show = () => {
      if (!gone) setTrades(mergeTrades(stored, streamed));
    };
    const load = () =>
      void api<{ trades: Trade[] }>('GET', `/api/trades${q}`).then((r) => {
        stored = r.trades;
        show();
      });
    load();
    const stop = openStream(['fills'], (topic, data) => {
      if (topic === 'resync') return load();
      const e = data as { event?: string; trade?: Trade };
      if (e.event === 'trade.closed.v1' && e.trade && (!symbol || e.trade.symbol === symbol)) {
        streamed.push(e.trade);
        show();
      }
    });
    return () => {
      gone = true;
      stop();
    };
  }, [symbol]);
  const q = symbol ? `?symbol=${encodeURIComponent(symbol)}` : '';
  return (
    <section className="card wide">
      <h2>Trades</h2>
      <div className="actions">
        <input
          aria-label="filter symbol"
          placeholder="symbol"
          value={symbol}
          onChange={(e) => setSymbol(e.target.value)}
        />
        <a href={`/api/trades.csv${q}`} download="trades.csv">
          Export CSV
        </a>
      </div>
      <table data-testid="trades">
        <thead>
          <tr>
            <th>Exit</th>
            <th>Strategy</th>
            <th>Symbol</th>
            <th>Side</th>
            <th>P&amp;L</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {trades.map((t) => (
            <tr key={tradeKey(t)} data-testid="trade-row">
              <td>{new Date(t.exitTime).toISOString().slice(0, 16).replace('T', ' ')}</td>
              <td>{t.strategyId}</td>
              <td>{t.symbol}</td>
              <td>{t.side}</td>
              <td className={t.pnl >= 0 ? 'pos' : 'neg'}>{t.pnl.toFixed(2)}</td>
              <td>{t.exitReason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
