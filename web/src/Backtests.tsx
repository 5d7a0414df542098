import { ColorType, createChart, LineSeries, type UTCTimestamp } from 'lightweight-charts';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { api, openStream } from './api';

interface Job {
  job: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  phase: string;
  progress: number;
  strategy: string;
  backtestId?: string;
  error?: string;
}
interface Summary {
  id: string;
  strategy: string | null;
  kind: string;
  data: string | null;
  metrics: Record<string, unknown>;
  startedAt: number;
}
interface Run {
  id: string;
  strategy: string | null;
  metrics: Record<string, unknown>;
  equity: { time: number[]; value: number[] };
  trades: Record<string, unknown>[];
  tradeCount: number;
}
interface Builtin {
  name: string;
  params: { name: string; default: number | string | boolean }[];
}

/** The metrics shown per run, in this order. */
const METRICS: [string, string, (x: number) => string][] = [
  ['totalReturnPct', 'Total return', (x) => `${x.toFixed(2)} %`],
  ['cagrPct', 'CAGR', (x) => `${x.toFixed(2)} %`],
  ['sharpe', 'Sharpe', (x) => x.toFixed(2)],
  ['sortino', 'Sortino', (x) => x.toFixed(2)],
  ['maxDrawdownPct', 'Max drawdown', (x) => `${x.toFixed(2)} %`],
  ['winRatePct', 'Win rate', (x) => `${x.toFixed(1)} %`],
  ['profitFactor', 'Profit factor', (x) => x.toFixed(2)],
  ['trades', 'Trades', (x) => String(x)],
  ['finalEquity', 'Final equity', (x) => x.toFixed(2)],
];
const COLORS = ['#2b7de9', '#e9a23b', '#1e9e5a', '#9b59b6'];

const show = (m: Record<string, unknown>, key: string, f: (x: number) => string) =>
  typeof m[key] === 'number' && Number.isFinite(m[key]) ? f(m[key] as number) : '—';

/** Equity curves of one or more runs on one chart. */
function RunsChart({ runs, dark }: { runs: Run[]; dark: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || runs.length === 0) return;
    const chart = createChart(el.current, {
      height: 280,
      autoSize: true,
      layout: {
        attributionLogo: true,
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: dark ? '#ddd' : '#222',
      },
    });
    runs.forEach((r, k) => {
      const s = chart.addSeries(LineSeries, { color: COLORS[k % COLORS.length], lineWidth: 2 });
      const seen = new Set<number>();
      const data: { time: UTCTimestamp; value: number }[] = [];
      r.equity.time.forEach((t, i) => {
        const sec = Math.floor(t / 1000);
        if (!seen.has(sec)) {
          seen.add(sec);
          data.push({ time: sec as UTCTimestamp, value: r.equity.value[i] });
        }
      });
      s.setData(data);
    });
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [runs, dark]);
  return (
    <div
      className="chart tall"
      ref={el}
      data-testid="backtest-chart"
      data-runs={runs.length}
      data-points={runs.reduce((n, r) => n + r.equity.time.length, 0)}
    />
  );
}

/** Backtests: run one with a progress bar, see its metrics and equity curve, compare runs side by side. */
export function Backtests({ canRun, dark }: { canRun: boolean; dark: boolean }) {
  const [builtins, setBuiltins] = useState<Builtin[]>([]);
  const [strategy, setStrategy] = useState('sma-cross');
  const [params, setParams] = useState<Record<string, string>>({});
  const [data, setData] = useState('sample');
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState('');
  const [list, setList] = useState<Summary[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const [runs, setRuns] = useState<Run[]>([]);

  const loadList = useCallback(async () => {
    const r = await api<{ runs: Summary[] }>('GET', '/api/backtests?limit=50');
    setList(r.runs.filter((x) => x.kind === 'backtest'));
  }, []);

  useEffect(() => {
    void api<{ builtins: Builtin[] }>('GET', '/api/strategies').then((r) => setBuiltins(r.builtins));
    void loadList();
  }, [loadList]);

  useEffect(
    () =>
      openStream(['backtest'], (_t, d) => {
        const j = d as Job;
        setJob((cur) => (cur && cur.job === j.job ? j : cur));
        if (j.status === 'done' && j.backtestId) {
          void loadList();
          setSelected((s) => [j.backtestId as string, ...s.filter((x) => x !== j.backtestId)].slice(0, 4));
        }
      }),
    [loadList],
  );

  useEffect(() => {
    let stale = false;
    Promise.all(selected.map((id) => api<Run>('GET', `/api/backtests/${id}?trades=20`)))
      .then((r) => {
        if (!stale) setRuns(r);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    return () => {
      stale = true;
    };
  }, [selected]);

  const def = builtins.find((b) => b.name === strategy);
  const run = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    const p: Record<string, number | string | boolean> = {};
    for (const [k, v] of Object.entries(params)) {
      if (v === '') continue;
      const d = def?.params.find((x) => x.name === k)?.default;
      p[k] = typeof d === 'number' ? Number(v) : typeof d === 'boolean' ? v === 'true' : v;
    }
    try {
      setJob(
        await api<Job>('POST', '/api/backtests', {
          strategy,
          ...(data !== 'sample' ? { data } : {}),
          ...(Object.keys(p).length ? { params: p } : {}),
        }),
      );
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id].slice(-4)));

  return (
    <main>
      {canRun && (
        <section className="card">
          <h2>Run a backtest</h2>
          <form onSubmit={run} className="order-form" aria-label="backtest">
            <select aria-label="strategy" value={strategy} onChange={(e) => setStrategy(e.target.value)}>
              {builtins.map((b) => (
                <option key={b.name}>{b.name}</option>
              ))}
            </select>
            <input
              aria-label="data"
              value={data}
              onChange={(e) => setData(e.target.value)}
              title="sample or a stored symbol"
            />
            {def?.params
              .filter((p) => typeof p.default === 'number')
              .map((p) => (
                <input
                  key={p.name}
                  aria-label={`param ${p.name}`}
                  placeholder={`${p.name} (${p.default})`}
                  value={params[p.name] ?? ''}
                  onChange={(e) => setParams({ ...params, [p.name]: e.target.value })}
                />
              ))}
            <button type="submit" data-testid="run-backtest">
              Run
            </button>
          </form>
          {job && (
            <div data-testid="backtest-job" data-status={job.status}>
              <progress max={1} value={job.progress} aria-label="backtest progress" />
              <span>
                {' '}
                {job.strategy}: {job.phase} {Math.round(100 * job.progress)} %
              </span>
              {job.error && (
                <p className="neg" role="alert">
                  {job.error}
                </p>
              )}
            </div>
          )}
          {error && (
            <p className="neg" role="alert">
              {error}
            </p>
          )}
        </section>
      )}
      <section className="card">
        <h2>Runs</h2>
        <table data-testid="backtest-runs">
          <thead>
            <tr>
              <th />
              <th>Id</th>
              <th>Strategy</th>
              <th>Return</th>
              <th>Sharpe</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`compare ${r.id}`}
                    checked={selected.includes(r.id)}
                    onChange={() => toggle(r.id)}
                  />
                </td>
                <td>{r.id}</td>
                <td>{r.strategy}</td>
                <td>{show(r.metrics, 'totalReturnPct', (x) => `${x.toFixed(2)} %`)}</td>
                <td>{show(r.metrics, 'sharpe', (x) => x.toFixed(2))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card wide">
        <h2>{runs.length > 1 ? 'Compare runs' : 'Run'}</h2>
        {runs.length === 0 ? (
          <p className="muted">Run a backtest or pick runs to compare.</p>
        ) : (
          <>
            <table data-testid="backtest-metrics">
              <thead>
                <tr>
                  <th>Metric</th>
                  {runs.map((r, k) => (
                    <th key={r.id} style={{ color: COLORS[k % COLORS.length] }}>
                      {r.strategy} {r.id}{' '}
                      <a href={`/api/backtests/${r.id}/report`} download>
                        report
                      </a>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {METRICS.map(([key, label, f]) => (
                  <tr key={key}>
                    <td>{label}</td>
                    {runs.map((r) => (
                      <td key={r.id} data-metric={key}>
                        {show(r.metrics, key, f)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
            <RunsChart runs={runs} dark={dark} />
          </>
        )}
      </section>
    </main>
  );
}
