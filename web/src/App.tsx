import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Me, openStream, type Position, type RiskState, setCsrf } from './api';
import { CandleChart } from './CandleChart';
import { EquityChart } from './EquityChart';
import { Login } from './Login';
import { OpenOrders } from './OpenOrders';
import { OrderBook } from './OrderBook';
import { OrderForm } from './OrderForm';
import { RiskPanel } from './RiskPanel';
import { Trades } from './Trades';

// Pages off the trading screen load on first use, so the first load stays small.
const Backtests = lazy(() => import('./Backtests').then((m) => ({ default: m.Backtests })));
const Compliance = lazy(() => import('./Compliance').then((m) => ({ default: m.Compliance })));
const Settings = lazy(() => import('./Settings').then((m) => ({ default: m.Settings })));
const Assistant = lazy(() => import('./Assistant').then((m) => ({ default: m.Assistant })));
const Workspace = lazy(() => import('./Workspace').then((m) => ({ default: m.Workspace })));
const Deployments = lazy(() => import('./Deployments').then((m) => ({ default: m.Deployments })));
const Portfolio = lazy(() => import('./Portfolio').then((m) => ({ default: m.Portfolio })));

const PAGES = [
  'Trading',
  'Portfolio',
  'Deployments',
  'Backtests',
  'Workspace',
  'Assistant',
  'Compliance',
  'Settings',
] as const;
type Page = (typeof PAGES)[number];

const fmt = (x: number | undefined, d = 2) => (x === undefined ? '—' : x.toFixed(d));

/** The dashboard: login, then positions, risk and kill switch, order form, equity and trades, all live. */
export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [dark, setDark] = useState(() => localStorage.getItem('tf-theme') === 'dark');
  const [positions, setPositions] = useState<Position[]>([]);
  const [risk, setRisk] = useState<RiskState | null>(null);
  const [equity, setEquity] = useState<{ time: number; equity: number }[]>([]);
  const [version, setVersion] = useState('');
  const [live, setLive] = useState(0);
  const [closing, setClosing] = useState<Position | null>(null);
  const [closeResult, setCloseResult] = useState('');
  const [page, setPage] = useState<Page>(() => {
    const h = decodeURIComponent(location.hash.slice(1));
    return (PAGES as readonly string[]).includes(h) ? (h as Page) : 'Trading';
  });
  const go = (p: Page) => {
    setPage(p);
    history.replaceState(null, '', `#${p}`);
  };

  const loadMe = useCallback(async () => {
    try {
      const m = await api<Me>('GET', '/api/auth/me');
      setCsrf(m.csrfToken);
      setMe(m);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setMe(null);
      else throw err;
    }
  }, []);

  const refresh = useCallback(async () => {
    const [p, r, e, v] = await Promise.all([
      api<{ positions: Position[] }>('GET', '/api/positions'),
      api<RiskState>('GET', '/api/risk'),
      api<{ points: { time: number; equity: number }[] }>('GET', '/api/equity'),
      api<{ version: string; gitSha: string | null; configHash: string | null }>('GET', '/api/version'),
    ]);
    setPositions(p.positions);
    setRisk(r);
    setEquity(e.points);
    setVersion(
      `v${v.version}${v.gitSha ? ` (${v.gitSha.slice(0, 7)})` : ''}${v.configHash ? ` config ${v.configHash.slice(0, 8)}` : ''}`,
    );
  }, []);

  useEffect(() => {
    void loadMe();
  }, [loadMe]);

  useEffect(() => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    localStorage.setItem('tf-theme', dark ? 'dark' : 'light');
  }, [dark]);

  useEffect(() => {
    if (!me) return;
    void refresh();
    // Events say something changed; the REST snapshots say what it is now.
    return openStream(['positions', 'orders', 'fills', 'risk', 'pnl'], () => setLive((n) => n + 1));
  }, [me, refresh]);

  useEffect(() => {
    if (me && live > 0) {
      const t = setTimeout(() => void refresh(), 100);
      return () => clearTimeout(t);
    }
  }, [live, me, refresh]);

  if (me === undefined) return <p className="loading">Loading…</p>;
  if (me === null) return <Login onLogin={() => void loadMe()} />;

  const can = (a: string) => me.permissions.includes(a);
  const closePosition = async (p: Position) => {
    setClosing(null);
    try {
      const r = await api<{ message: string }>('POST', '/api/control/force-exit', { target: p.id, confirm: true });
      setCloseResult(r.message);
    } catch (err) {
      setCloseResult(err instanceof Error ? err.message : String(err));
    }
    void refresh();
  };
  const logout = async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    setCsrf(null);
    setMe(null);
  };

  return (
    <div className="app">
      <header>
        <strong>tradeforge</strong>
        <span className="muted" data-testid="version">
          {version}
        </span>
        <nav aria-label="pages">
          {PAGES.map((p) => (
            <button
              type="button"
              key={p}
              className={p === page ? 'active' : ''}
              aria-current={p === page ? 'page' : undefined}
              onClick={() => go(p)}
            >
              {p}
            </button>
          ))}
        </nav>
        <span className="spacer" />
        <span data-testid="whoami">
          {me.user.username} ({me.user.role})
        </span>
        <button type="button" onClick={() => setDark(!dark)}>
          {dark ? 'Light' : 'Dark'}
        </button>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      {page === 'Deployments' && (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Deployments canDeploy={can('deploy')} isAdmin={me.user.role === 'admin'} />
        </Suspense>
      )}
      {page === 'Portfolio' && (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Portfolio dark={dark} />
        </Suspense>
      )}
      {page === 'Backtests' && (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Backtests canRun={can('backtest.run')} dark={dark} />
        </Suspense>
      )}
      {page === 'Workspace' && (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Workspace canWrite={can('strategy.write')} canRun={can('backtest.run')} />
        </Suspense>
      )}
      {page === 'Assistant' && (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Assistant canChat={can('assistant.use')} canTrade={can('trade')} />
        </Suspense>
      )}
      {page === 'Compliance' && (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Compliance canVerify={can('audit.export')} />
        </Suspense>
      )}
      {page === 'Settings' && (
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Settings permissions={me.permissions} />
        </Suspense>
      )}
      <main hidden={page !== 'Trading'}>
        <CandleChart dark={dark} />
        <OrderBook />
        <section className="card">
          <h2>Positions</h2>
          <table data-testid="positions">
            <thead>
              <tr>
                <th>Symbol</th>
                <th>Side</th>
                <th>Qty</th>
                <th>Entry</th>
                <th>Mark</th>
                <th>Unrealised</th>
                {can('trade') && <th />}
              </tr>
            </thead>
            <tbody>
              {positions.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    No open positions
                  </td>
                </tr>
              )}
              {positions.map((p) => (
                <tr key={p.id} data-testid="position-row">
                  <td>{p.symbol}</td>
                  <td>{p.side}</td>
                  <td>{p.quantity}</td>
                  <td>{fmt(p.entryPrice)}</td>
                  <td>{fmt(p.markPrice)}</td>
                  <td className={(p.unrealisedPnl ?? 0) >= 0 ? 'pos' : 'neg'}>{fmt(p.unrealisedPnl)}</td>
                  {can('trade') && (
                    <td>
                      <button type="button" data-testid="close-position" onClick={() => setClosing(p)}>
                        Close
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {closing && (
            <div className="dialog" role="dialog" aria-label="confirm close">
              <p>
                Close {closing.side} {closing.quantity} {closing.symbol} at market?
              </p>
              <button
                type="button"
                className="danger"
                data-testid="confirm-close"
                onClick={() => void closePosition(closing)}
              >
                Confirm
              </button>
              <button type="button" onClick={() => setClosing(null)}>
                Keep
              </button>
            </div>
          )}
          {closeResult && (
            <p className="toast" role="status" data-testid="close-result">
              {closeResult}
            </p>
          )}
        </section>
        <OpenOrders canTrade={can('trade')} />
        <RiskPanel risk={risk} canKill={can('killswitch')} onChange={() => void refresh()} />
        {can('trade') && <OrderForm />}
        <section className="card wide">
          <h2>Equity</h2>
          <EquityChart points={equity} dark={dark} />
        </section>
        <Trades />
      </main>
    </div>
  );
}
