import { type FormEvent, useEffect, useState } from 'react';
import { api, type OrderDecision } from './api';

/** Market, limit or stop order through the risk engine: preview, confirm, then the decision with its reason. */
export function OrderForm() {
  const [symbol, setSymbol] = useState('BTC/USDT');
  const [side, setSide] = useState<'buy' | 'sell'>('buy');
  const [type, setType] = useState<'market' | 'limit' | 'stop'>('market');
  const [quantity, setQuantity] = useState('0.01');
  const [price, setPrice] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<{ text: string; ok: boolean } | null>(null);
  const [balance, setBalance] = useState<{ currency: string; free: number } | null>(null);
  useEffect(() => {
    void api<{ currency: string; assets: { asset: string; free: number }[] }>('GET', '/api/balances')
      .then((b) => setBalance({ currency: b.currency, free: b.assets.find((a) => a.asset === b.currency)?.free ?? 0 }))
      .catch(() => setBalance(null));
  }, []);

  const body = () => ({
    symbol,
    side,
    type,
    quantity: Number(quantity),
    ...(type === 'limit' && price ? { price: Number(price) } : {}),
    ...(type === 'stop' && price ? { stopPrice: Number(price) } : {}),
  });
  const show = (d: OrderDecision, placed: boolean) =>
    setOutcome(
      d.accepted
        ? {
            ok: true,
            text: placed
              ? `Order placed (${d.orderId})`
              : `Risk check passed; estimated cost ${d.estimatedCost ?? '?'}`,
          }
        : { ok: false, text: `Rejected by risk: ${d.code} — ${d.detail}` },
    );
  const fail = (err: unknown) => setOutcome({ ok: false, text: err instanceof Error ? err.message : String(err) });

  const preview = async (e: FormEvent) => {
    e.preventDefault();
    try {
      show(await api<OrderDecision>('POST', '/api/orders/preview', body()), false);
    } catch (err) {
      fail(err);
    }
  };
  const place = async () => {
    setConfirming(false);
    try {
      show(await api<OrderDecision>('POST', '/api/orders', { ...body(), confirm: true }), true);
    } catch (err) {
      fail(err);
    }
  };

  return (
    <section className="card">
      <h2>Order</h2>
      <form onSubmit={preview} className="order-form" aria-label="order">
        <input aria-label="symbol" value={symbol} onChange={(e) => setSymbol(e.target.value)} />
        <select aria-label="side" value={side} onChange={(e) => setSide(e.target.value as 'buy' | 'sell')}>
          <option value="buy">Buy</option>
          <option value="sell">Sell</option>
        </select>
        <select aria-label="type" value={type} onChange={(e) => setType(e.target.value as 'market' | 'limit' | 'stop')}>
          <option value="market">Market</option>
          <option value="limit">Limit</option>
          <option value="stop">Stop</option>
        </select>
        <input aria-label="quantity" value={quantity} onChange={(e) => setQuantity(e.target.value)} />
        {type !== 'market' && <input aria-label="price" value={price} onChange={(e) => setPrice(e.target.value)} />}
        <button type="submit">Check risk</button>
        <button type="button" data-testid="place-order" onClick={() => setConfirming(true)}>
          Place…
        </button>
      </form>
      {balance && (
        <p className="muted" data-testid="available">
          Available: {balance.free.toFixed(2)} {balance.currency}
        </p>
      )}
      {confirming && (
        <div className="dialog" role="dialog" aria-label="confirm order">
          <p>
            {side.toUpperCase()} {quantity} {symbol} ({type})?
          </p>
          <button type="button" data-testid="confirm-order" onClick={() => void place()}>
            Confirm
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {outcome && (
        <p className={`toast ${outcome.ok ? 'pos' : 'neg'}`} role="status" data-testid="order-result">
          {outcome.text}
        </p>
      )}
    </section>
  );
}
