import { useEffect, useRef, useState } from 'react';
import { ApiError, api, openStream } from './api';

type Kind = 'rules' | 'pine' | 'ts';

interface Step {
  runId: string;
  step: string;
  source?: string;
  /** Arrival order on this page. */
  seq: number;
}
interface Run {
  status: string;
  output?: { outcome?: string; source?: string; kind?: Kind; version?: { strategyId: string; version: number } };
}
interface Job {
  job: string;
  status: string;
  progress: number;
  backtestId?: string;
  error?: string;
}
interface Metrics {
  [k: string]: unknown;
}

const SHOWN: [string, string][] = [
  ['totalReturnPct', 'Return %'],
  ['sharpe', 'Sharpe'],
  ['maxDrawdownPct', 'Max drawdown %'],
  ['winRatePct', 'Win rate %'],
  ['trades', 'Trades'],
];
const fmt = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? String(Number(x.toFixed(2))) : '—');
const message = (err: unknown) => (err instanceof ApiError || err instanceof Error ? err.message : String(err));

/**
 * The strategy workspace (issue 14): write rules, Pine or TypeScript (or have the LLM write them, watching its
 * timeline), check, store a version, backtest it with its report, pass the promotion gate and start its dry run.
 */
export function Workspace({ canWrite, canRun }: { canWrite: boolean; canRun: boolean }) {
  const [kind, setKind] = useState<Kind>('rules');
  const [id, setId] = useState('');
  const [source, setSource] = useState('');
  const [prompt, setPrompt] = useState('');
  const [data, setData] = useState('sample');
  const [check, setCheck] = useState('');
  const [ref, setRef] = useState('');
  const [state, setState] = useState('');
  const [steps, setSteps] = useState<Step[]>([]);
  const [runId, setRunId] = useState('');
  const [job, setJob] = useState<Job | null>(null);
  const [metrics, setMetrics] = useState<Metrics | null>(null);
  const [backtestId, setBacktestId] = useState('');
  const [note, setNote] = useState('');
  const seen = useRef<Step[]>([]);

  // Every agent step on the page's stream; the timeline shows those of this page's generation. (The backtest's
  // progress is read by polling its job, which also gives its end.)
  useEffect(
    () =>
      openStream(['agent'], (_topic, d) => {
        const s = { ...(d as Omit<Step, 'seq'>), seq: seen.current.length };
        if (s.step === 'llm.delta') return;
        seen.current = [...seen.current, s];
        setSteps(seen.current);
      }),
    [],
  );

  const lifecycle = async (r: string) => {
    const l = await api<{ state: string }>('GET', `/api/strategies/${encodeURIComponent(r)}/lifecycle`);
    setState(l.state);
  };

  const doCheck = async () => {
    setCheck('');
    try {
      const r = await api<
        | { ok: true; name: string; smoke: { trades: number; bars: number } }
        | { ok: false; stage: string; problems: string[] }
      >('POST', '/api/strategies/check', { source, kind });
      setCheck(
        r.ok
          ? `OK: ${r.name}, ${r.smoke.trades} trades on ${r.smoke.bars} sample bars`
          : `Refused (${r.stage}): ${r.problems.join(' ')}`,
      );
    } catch (err) {
      setCheck(message(err));
    }
  };

  const generate = async () => {
    setNote('');
    try {
      const r = await api<{ runId: string }>('POST', '/api/agents/generate', {
        prompt,
        format: kind === 'ts' ? 'ts' : 'rules',
        ...(id ? { name: id } : {}),
      });
      setRunId(r.runId);
      for (;;) {
        const run = await api<Run>('GET', `/api/agents/runs/${r.runId}`);
        if (run.status !== 'running') {
          const o = run.output ?? {};
          if (o.source) setSource(o.source);
          if (o.kind) setKind(o.kind);
          if (o.version) {
            const v = `${o.version.strategyId}@v${o.version.version}`;
            setRef(v);
            await lifecycle(v);
          }
          setNote(`generation ${o.outcome ?? run.status}`);
          return;
        }
        await new Promise((res) => setTimeout(res, 250));
      }
    } catch (err) {
      setNote(message(err));
    }
  };

  const save = async () => {
    setNote('');
    try {
      const r = await api<{ ref: string; added: boolean }>('POST', '/api/strategies/versions', {
        source,
        kind,
        ...(id ? { id } : {}),
      });
      setRef(r.ref);
      await lifecycle(r.ref);
      setNote(r.added ? `stored ${r.ref}` : `${r.ref} already holds this source`);
    } catch (err) {
      setNote(message(err));
    }
  };

  const backtest = async () => {
    setMetrics(null);
    setBacktestId('');
    try {
      const j = await api<Job>('POST', '/api/backtests', { strategy: ref, data });
      setJob(j);
      for (;;) {
        const cur = await api<Job>('GET', `/api/backtests/jobs/${j.job}`);
        setJob(cur);
        if (cur.status === 'failed') return setNote(cur.error ?? 'the backtest failed');
        if (cur.status === 'done' && cur.backtestId) {
          const run = await api<{ metrics: Metrics }>('GET', `/api/backtests/${cur.backtestId}`);
          setMetrics(run.metrics);
          setBacktestId(cur.backtestId);
          await lifecycle(ref);
          return;
        }
        await new Promise((res) => setTimeout(res, 250));
      }
    } catch (err) {
      setNote(message(err));
    }
  };

  const move = async (path: string, body: unknown) => {
    setNote('');
    try {
      const r = await api<{ state?: string; to?: string }>(
        'POST',
        `/api/strategies/${encodeURIComponent(ref)}/${path}`,
        body,
      );
      setState(r.state ?? r.to ?? state);
    } catch (err) {
      const reasons = (err as { reasons?: string[] }).reasons;
      setNote(reasons?.length ? reasons.join('; ') : message(err));
      await lifecycle(ref).catch(() => undefined);
    }
  };

  const timeline = steps.filter((s) => s.runId === runId);
  return (
    <main>
      <section className="card wide" data-testid="workspace">
        <h2>Strategy workspace</h2>
        <div className="row">
          <label>
            Kind{' '}
            <select aria-label="kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="rules">rules</option>
              <option value="pine">Pine Script</option>
              <option value="ts">TypeScript</option>
            </select>
          </label>
          <label>
            Id <input aria-label="strategy id" value={id} onChange={(e) => setId(e.target.value)} />
          </label>
          <label>
            Data <input aria-label="data" value={data} onChange={(e) => setData(e.target.value)} />
          </label>
        </div>
        <textarea
          aria-label="strategy source"
          rows={10}
          value={source}
          onChange={(e) => setSource(e.target.value)}
          spellCheck={false}
          placeholder="buy when sma(10) crosses above sma(30)"
        />
        <div className="row">
          <button type="button" data-testid="check" onClick={() => void doCheck()} disabled={!source || !canRun}>
            Check
          </button>
          {canWrite && (
            <button type="button" data-testid="save-version" onClick={() => void save()} disabled={!source}>
              Save version
            </button>
          )}
          {ref && canRun && (
            <button type="button" data-testid="run-backtest" onClick={() => void backtest()}>
              Backtest
            </button>
          )}
          {ref && canWrite && (
            <button type="button" data-testid="gate" onClick={() => void move('gate', { data })}>
              Gate
            </button>
          )}
          {ref && canWrite && state === 'gated' && (
            <button type="button" data-testid="promote-dry-run" onClick={() => void move('promote', {})}>
              Promote to dry run
            </button>
          )}
        </div>
        {check && (
          <p data-testid="check-result" className="muted">
            {check}
          </p>
        )}
        {ref && (
          <p>
            Version <strong data-testid="version-ref">{ref}</strong> — state{' '}
            <strong data-testid="lifecycle-state">{state || '…'}</strong>
          </p>
        )}
        {note && (
          <p role="status" data-testid="workspace-note">
            {note}
          </p>
        )}
        {job && job.status !== 'done' && <progress data-testid="backtest-progress" max={1} value={job.progress} />}
        {metrics && (
          <div data-testid="backtest-result">
            <table>
              <tbody>
                {SHOWN.map(([k, label]) => (
                  <tr key={k}>
                    <th>{label}</th>
                    <td>{fmt(metrics[k])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <a href={`/api/backtests/${backtestId}/report`} target="_blank" rel="noreferrer">
              Full report (JSON)
            </a>
          </div>
        )}
      </section>
      {canWrite && (
        <section className="card wide">
          <h2>Generate with the LLM</h2>
          <textarea
            aria-label="idea"
            rows={3}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            placeholder="Describe the idea, e.g. buy pullbacks in an uptrend"
          />
          <button type="button" data-testid="generate" onClick={() => void generate()} disabled={!prompt}>
            Generate
          </button>
          <ol data-testid="timeline">
            {timeline.map((s) => (
              <li key={s.seq} data-testid="timeline-step">
                {s.step} <span className="muted">{s.source ?? ''}</span>
              </li>
            ))}
          </ol>
        </section>
      )}
    </main>
  );
}
