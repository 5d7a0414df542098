import { ColorType, createChart, LineSeries, type UTCTimestamp } from 'lightweight-charts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, openStream } from './api';

interface ExposureRow {
  key: string;
  long: number;
  short: number;
  gross: number;
  net: number;
  grossShare: number | null;
}

interface PortfolioData {
  equity: number;
  sharpe: number | null;
  maxDrawdownPct: number;
  maxDrawdownAbs: number;
  returnPct: number | null;
  curve: { time: number; equity: number; drawdownPct: number }[];
  allocation: { total: ExposureRow; bySymbol: ExposureRow[]; byStrategy: ExposureRow[]; byVenue: ExposureRow[] };
}

interface PnlRow {
  start: string;
  pnl: number;
  trades: number;
  fees: number;
}

type Period = 'day' | 'week' | 'month';

const fmt = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : x.toFixed(d));
const UTC = 'UTC';
const LOCAL = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Equity (top) and drawdown below its running peak (bottom, percent), one chart each. */
function CurveCharts({ curve, dark }: { curve: PortfolioData['curve']; dark: boolean }) {
  const eq = useRef<HTMLDivElement>(null);
  const dd = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!eq.current || !dd.current) return;
    const options = {
      height: 180,
      autoSize: true,
      layout: {
        attributionLogo: true,
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: dark ? '#ddd' : '#222',
      },
      timeScale: { timeVisible: true },
    } as const;
    const seen = new Set<number>();
    const points = curve.filter((p) => {
      const t = Math.floor(p.time / 1000);
      return !seen.has(t) && seen.add(t);
    });
    const a = createChart(eq.current, options);
    a.addSeries(LineSeries, { color: '#2b7de9', lineWidth: 2 }).setData(
      points.map((p) => ({ time: Math.floor(p.time / 1000) as UTCTimestamp, value: p.equity })),
    );
    const b = createChart(dd.current, options);
    b.addSeries(LineSeries, { color: '#d9534f', lineWidth: 2 }).setData(
      points.map((p) => ({ time: Math.floor(p.time / 1000) as UTCTimestamp, value: -p.drawdownPct })),
    );
    a.timeScale().fitContent();
    b.timeScale().fitContent();
    return () => {
      a.remove();
      b.remove();
    };
  }, [curve, dark]);
  return (
    <>
      <h3>Equity</h3>
      <div className="chart" ref={eq} data-testid="portfolio-equity-chart" />
      <h3>Drawdown (% below peak)</h3>
      <div className="chart" ref={dd} data-testid="portfolio-drawdown-chart" />
    </>
  );
}

function AllocationTable({ title, rows }: { title: string; rows: ExposureRow[] }) {
  return (
    <>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <p className="muted">No open positions.</p>
      ) : (
        <table data-testid={`allocation-${title.toLowerCase().replace(/^by /, '')}`}>
          <thead>
            <tr>
              <th>{title.replace(/^By /, '')}</th>
              <th>Long</th>
              <th>Short</th>
              <th>Net</th>
              <th>Share of equity</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-testid="allocation-row">
                <td>{r.key}</td>
                <td>{fmt(r.long)}</td>
                <td>{fmt(r.short)}</td>
                <td>{fmt(r.net)}</td>
                <td>{r.grossShare === null ? '—' : `${(r.grossShare * 100).toFixed(1)}%`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/**
 * Portfolio (UI-3): the equity curve and its drawdown, Sharpe and max drawdown (the backtests' metrics on live
 * equity), realised P&L by day, week (from Monday) or month in UTC or the browser's time zone, and the allocation
 * by symbol, strategy and venue. Refreshes on fills and positions from the stream.
 */
export function Portfolio({ dark }: { dark: boolean }) {
  const [data, setData] = useState<PortfolioData | null>(null);
  const [period, setPeriod] = useState<Period>('day');
  const [tz, setTz] = useState(UTC);
  const [rows, setRows] = useState<PnlRow[]>([]);
  const loadPortfolio = useCallback(() => {
    void api<PortfolioData>('GET', '/api/portfolio').then(setData);
  }, []);
  const loadPnl = useCallback(() => {
    void api<{ rows: PnlRow[] }>('GET', `/api/pnl?period=${period}&tz=${encodeURIComponent(tz)}`).then((r) =>
      setRows(r.rows),
    );
  }, [period, tz]);
  // Reloaded on every fill and position change the stream reports.
  useEffect(() => {
    loadPortfolio();
    return openStream(['fills', 'positions'], loadPortfolio);
  }, [loadPortfolio]);
  useEffect(() => {
    loadPnl();
    return openStream(['fills'], loadPnl);
  }, [loadPnl]);
  const max = Math.max(1e-9, ...rows.map((r) => Math.abs(r.pnl)));
  return (
    <main>
      <section className="card" data-testid="portfolio-figures">
        <h2>Portfolio</h2>
        <p>
          Equity <strong data-testid="portfolio-equity">{fmt(data?.equity)}</strong> · Return{' '}
          <strong>{fmt(data?.returnPct)}%</strong> · Sharpe{' '}
          <strong data-testid="portfolio-sharpe">{fmt(data?.sharpe)}</strong> · Max drawdown{' '}
          <strong data-testid="portfolio-maxdd">{fmt(data?.maxDrawdownPct)}%</strong> ({fmt(data?.maxDrawdownAbs)})
        </p>
        {data && <CurveCharts curve={data.curve} dark={dark} />}
      </section>
      <section className="card" data-testid="pnl-by-period">
        <h2>P&amp;L by period</h2>
        <fieldset className="actions" aria-label="period">
          {(['day', 'week', 'month'] as const).map((p) => (
            <button
              key={p}
              type="button"
              className={p === period ? 'active' : ''}
              aria-pressed={p === period}
              data-testid={`pnl-${p}`}
              onClick={() => setPeriod(p)}
            >
              {p}
            </button>
          ))}
          <select aria-label="time zone" value={tz} onChange={(e) => setTz(e.target.value)}>
            <option value={UTC}>UTC</option>
            {LOCAL !== UTC && <option value={LOCAL}>{LOCAL}</option>}
          </select>
        </fieldset>
        {rows.length === 0 ? (
          <p className="muted">No closed trades.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>{period === 'day' ? 'Day' : period === 'week' ? 'Week from' : 'Month'}</th>
                <th>P&amp;L</th>
                <th />
                <th>Trades</th>
                <th>Fees</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.start} data-testid="pnl-row">
                  <td>{period === 'month' ? r.start.slice(0, 7) : r.start}</td>
                  <td className={r.pnl >= 0 ? 'pos' : 'neg'} data-testid="pnl-value">
                    {r.pnl.toFixed(4)}
                  </td>
                  <td>
                    <div
                      className={r.pnl >= 0 ? 'pnl-bar pos-bar' : 'pnl-bar neg-bar'}
                      style={{ width: `${Math.round((Math.abs(r.pnl) / max) * 120)}px`, height: '10px' }}
                    />
                  </td>
                  <td data-testid="pnl-trades">{r.trades}</td>
                  <td>{r.fees.toFixed(4)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {data && (
        <section className="card" data-testid="allocation">
          <h2>Allocation</h2>
          <AllocationTable title="By symbol" rows={data.allocation.bySymbol} />
          <AllocationTable title="By strategy" rows={data.allocation.byStrategy} />
          <AllocationTable title="By venue" rows={data.allocation.byVenue} />
        </section>
      )}
    </main>
  );
}
