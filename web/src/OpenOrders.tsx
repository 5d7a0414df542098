import { useCallback, useEffect, useState } from 'react';
import { api, type ControlResult, openStream } from './api';

interface OpenOrder {
  id: string;
  deployment?: string;
  symbol: string;
  side: string;
  type: string;
  quantity: number;
  price?: number;
  stopPrice?: number;
  status: string;
}

/** Open orders, live from the orders topic; traders can cancel one (after a confirmation). */
export function OpenOrders({ canTrade }: { canTrade: boolean }) {
  const [orders, setOrders] = useState<OpenOrder[]>([]);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [result, setResult] = useState('');
  const load = useCallback(async () => {
    setOrders((await api<{ orders: OpenOrder[] }>('GET', '/api/orders?status=open')).orders);
  }, []);
  useEffect(() => {
    void load();
    return openStream(['orders', 'fills'], () => void load());
  }, [load]);
  const cancel = async (id: string) => {
    setConfirming(null);
    try {
      setResult((await api<ControlResult>('DELETE', `/api/orders/${encodeURIComponent(id)}`)).message);
    } catch (err) {
      setResult(err instanceof Error ? err.message : String(err));
    }
    await load();
  };
  return (
    <section className="card">
      <h2>Open orders</h2>
      <table data-testid="open-orders">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Side</th>
            <th>Type</th>
            <th>Qty</th>
            <th>Price</th>
            {canTrade && <th />}
          </tr>
        </thead>
        <tbody>
          {orders.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No open orders
              </td>
            </tr>
          )}
          {orders.map((o) => (
            <tr key={o.id} data-testid="open-order-row">
              <td>{o.symbol}</td>
              <td className={o.side === 'buy' ? 'pos' : 'neg'}>{o.side}</td>
              <td>{o.type}</td>
              <td>{o.quantity}</td>
              <td>{o.price ?? o.stopPrice ?? '—'}</td>
              {canTrade && (
                <td>
                  <button type="button" data-testid="cancel-order" onClick={() => setConfirming(o.id)}>
                    Cancel
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {confirming && (
        <div className="dialog" role="dialog" aria-label="confirm cancel">
          <p>Cancel order {confirming}?</p>
          <button type="button" data-testid="confirm-cancel" onClick={() => void cancel(confirming)}>
            Confirm
          </button>
          <button type="button" onClick={() => setConfirming(null)}>
            Keep
          </button>
        </div>
      )}
      {result && (
        <p className="toast" role="status" data-testid="cancel-result">
          {result}
        </p>
      )}
    </section>
  );
}
