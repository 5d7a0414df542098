import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api } from './api';

/** One deployment as GET /api/deployments lists it. */
interface Deployment {
  id: string;
  strategy: string;
  venue: string;
  mode: string;
  profile: string | null;
  symbols: string[];
  status: string;
  origin: 'config' | 'api';
  createdBy: string | null;
  updatedAt: number;
}

/** What a create, start or stop answered. */
interface Outcome {
  message: string;
  deployment: Deployment;
}

/** A change waiting for the user's confirmation. */
type Pending = { action: 'start'; id: string } | { action: 'stop'; id: string; flatten: boolean };

const errorText = (err: unknown) => (err instanceof ApiError || err instanceof Error ? err.message : String(err));

/**
 * Deployments: every recorded one with its status; for users who may deploy, a form that creates one (the config
 * file's fields plus the mode) and start/stop buttons, each after a confirmation. Viewers see the list only.
 */
export function Deployments({ canDeploy, isAdmin }: { canDeploy: boolean; isAdmin: boolean }) {
  const [list, setList] = useState<Deployment[]>([]);
  const [venues, setVenues] = useState<string[]>([]);
  const [result, setResult] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [form, setForm] = useState({
    id: '',
    strategy: 'sma-cross',
    venue: '',
    symbols: 'BTC/USDT',
    timeframe: '1m',
    stake: '10%',
    params: '{}',
    capitalCap: '',
    mode: 'paper',
    confirmLive: false,
  });
  const load = useCallback(async () => {
    setList((await api<{ deployments: Deployment[] }>('GET', '/api/deployments')).deployments);
  }, []);
  useEffect(() => {
    void load();
    void api<{ venues: { id: string }[] }>('GET', '/api/venues')
      .then((r) => {
        const ids = [...new Set(r.venues.map((v) => v.id))];
        setVenues(ids);
        setForm((f) => (f.venue === '' && ids[0] ? { ...f, venue: ids[0] } : f));
      })
      .catch(() => setVenues([]));
  }, [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    let params: unknown;
    try {
      params = JSON.parse(form.params || '{}');
    } catch {
      setResult('params: not valid JSON');
      return;
    }
    const body = {
      id: form.id,
      strategy: form.strategy,
      venue: form.venue,
      symbols: form.symbols
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      timeframe: form.timeframe,
      ...(form.stake ? { stake: /^\d+(\.\d+)?$/.test(form.stake) ? Number(form.stake) : form.stake } : {}),
      params,
      ...(form.capitalCap ? { capitalCap: Number(form.capitalCap) } : {}),
      mode: form.mode,
      ...(form.mode === 'live' ? { confirmLive: form.confirmLive } : {}),
    };
    try {
      setResult((await api<Outcome>('POST', '/api/deployments', body)).message);
    } catch (err) {
      setResult(errorText(err));
    }
    await load();
  };

  const confirm = async (p: Pending) => {
    setPending(null);
    const path = `/api/deployments/${encodeURIComponent(p.id)}/${p.action}`;
    try {
      const out = await api<Outcome>('POST', path, p.action === 'stop' ? { flatten: p.flatten } : undefined);
      setResult(out.message);
    } catch (err) {
      setResult(errorText(err));
    }
    await load();
  };

  const field = (name: keyof typeof form, label: string) => (
    <label>
      {label}
      <input
        aria-label={label}
        value={String(form[name])}
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
      />
    </label>
  );

  return (
    <main>
      <section className="card">
        <h2>Deployments</h2>
        <table data-testid="deployments">
          <thead>
            <tr>
              <th>Id</th>
              <th>Strategy</th>
              <th>Venue</th>
              <th>Symbols</th>
              <th>Mode</th>
              <th>Origin</th>
              <th>Status</th>
              {canDeploy && <th />}
            </tr>
          </thead>
          <tbody>
            {list.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  No deployments
                </td>
              </tr>
            )}
            {list.map((d) => (
              <tr key={d.id} data-testid="deployment-row">
                <td>{d.id}</td>
                <td>{d.strategy}</td>
                <td>{d.venue}</td>
                <td>{d.symbols.join(', ')}</td>
                <td>{d.profile === 'dev' ? 'paper' : (d.profile ?? d.mode)}</td>
                <td>{d.origin === 'api' ? `API (${d.createdBy ?? '?'})` : 'config file'}</td>
                <td data-testid="deployment-status">{d.status}</td>
                {canDeploy && (
                  <td>
                    {d.origin === 'api' && (d.status === 'created' || d.status === 'stopped') && (
                      <button
                        type="button"
                        data-testid="start-deployment"
                        onClick={() => setPending({ action: 'start', id: d.id })}
                      >
                        Start
                      </button>
                    )}
                    {d.origin === 'api' && d.status === 'running' && (
                      <button
                        type="button"
                        data-testid="stop-deployment"
                        onClick={() => setPending({ action: 'stop', id: d.id, flatten: false })}
                      >
                        Stop
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {result && (
          <p data-testid="deployment-result" role="status">
            {result}
          </p>
        )}
        {pending && (
          <div className="dialog" role="dialog" aria-label={`confirm ${pending.action}`}>
            <p>
              {pending.action === 'start'
                ? `Start deployment ${pending.id}? It reconciles with the venue and then trades.`
                : `Stop deployment ${pending.id}? Its resting orders are cancelled.`}
            </p>
            {pending.action === 'stop' && (
              <label>
                <input
                  type="checkbox"
                  data-testid="stop-flatten"
                  checked={pending.flatten}
                  onChange={(e) => setPending({ ...pending, flatten: e.target.checked })}
                />
                Close its positions too (otherwise they are kept)
              </label>
            )}
            <button type="button" data-testid="confirm-deployment" onClick={() => void confirm(pending)}>
              {pending.action === 'start' ? 'Start' : 'Stop'}
            </button>
            <button type="button" onClick={() => setPending(null)}>
              Cancel
            </button>
          </div>
        )}
      </section>
      {canDeploy && (
        <section className="card">
          <h2>New deployment</h2>
          <form data-testid="create-deployment" onSubmit={(e) => void create(e)}>
            {field('id', 'Deployment id')}
            {field('strategy', 'Strategy (name or ID@vN)')}
            <label>
              Venue
              <select
                aria-label="Venue"
                value={form.venue}
                onChange={(e) => setForm({ ...form, venue: e.target.value })}
              >
                {venues.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
            {field('symbols', 'Symbols (comma-separated)')}
            {field('timeframe', 'Timeframe')}
            {field('stake', 'Stake')}
            {field('params', 'Params (JSON)')}
            {field('capitalCap', 'Capital cap')}
            <label>
              Mode
              <select aria-label="Mode" value={form.mode} onChange={(e) => setForm({ ...form, mode: e.target.value })}>
                <option value="paper">paper</option>
                <option value="dry_run">dry_run</option>
                {isAdmin && <option value="live">live</option>}
              </select>
            </label>
            {form.mode === 'live' && (
              <label>
                <input
                  type="checkbox"
                  aria-label="Confirm real money"
                  checked={form.confirmLive}
                  onChange={(e) => setForm({ ...form, confirmLive: e.target.checked })}
                />
                I confirm this deployment trades real money
              </label>
            )}
            <button type="submit" data-testid="create-deployment-submit">
              Create
            </button>
          </form>
        </section>
      )}
    </main>
  );
}
