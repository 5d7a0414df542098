import { useEffect, useState } from 'react';
import { api, type Trade } from './api';

/** Closed trades with a symbol filter and CSV export. */
export function Trades() {
  const [symbol, setSymbol] = useState('');
  const [trades, setTrades] = useState<Trade[]>([]);
  useEffect(() => {
    const q = symbol ? `?symbol=${encodeURIComponent(symbol)}` : '';
    void api<{ trades: Trade[] }>('GET', `/api/trades${q}`).then((r) => setTrades(r.trades));
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
            <tr key={`${t.strategyId}:${t.symbol}:${t.exitTime}`}>
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
