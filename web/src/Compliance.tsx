import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api } from './api';

interface AuditRecord {
  seq: number;
  time: number;
  actor: string;
  action: string;
  subject: string;
  details: unknown;
}
interface Verify {
  ok: boolean;
  checked: number;
  hmacChecked: boolean;
  firstBad?: { seq: number; problem: string };
}
interface Story {
  orderId: string;
  correlationId?: string;
  order?: Record<string, unknown>;
  timeline: { seq: number; time: number; actor: string; action: string; details: Record<string, unknown> }[];
  fills: Record<string, unknown>[];
  riskEvents: Record<string, unknown>[];
}

const when = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

/** Compliance (UI-4): engine version and config hash, the audit chain's status, audit search, order reconstruction. */
export function Compliance({ canVerify }: { canVerify: boolean }) {
  const [version, setVersion] = useState<{ version: string; gitSha: string | null; configHash: string | null }>();
  const [verify, setVerify] = useState<Verify | null>(null);
  const [query, setQuery] = useState({ subject: '', action: '', actor: '' });
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [orderId, setOrderId] = useState('');
  const [story, setStory] = useState<Story | null>(null);
  const [error, setError] = useState('');
  const fail = useCallback((e: unknown) => setError(e instanceof Error ? e.message : String(e)), []);

  const runSearch = useCallback(
    async (fields: Record<string, string>) => {
      const q = new URLSearchParams({ limit: '100' });
      for (const [k, v] of Object.entries(fields)) if (v) q.set(k, v);
      try {
        setRecords((await api<{ records: AuditRecord[] }>('GET', `/api/audit?${q}`)).records);
      } catch (err) {
        fail(err);
      }
    },
    [fail],
  );
  const search = (e: FormEvent) => {
    e.preventDefault();
    void runSearch(query);
  };

  useEffect(() => {
    void api<typeof version>('GET', '/api/version').then(setVersion);
    if (canVerify) void api<Verify>('GET', '/api/audit/verify').then(setVerify).catch(fail);
    void runSearch({});
  }, [canVerify, fail, runSearch]);

  const reconstruct = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      setStory(await api<Story>('GET', `/api/orders/${encodeURIComponent(orderId.trim())}/story`));
    } catch (err) {
      setStory(null);
      fail(err);
    }
  };

  return (
    <main>
      <section className="card">
        <h2>Engine</h2>
        <dl data-testid="engine-version">
          <dt>Version</dt>
          <dd>{version?.version ?? '—'}</dd>
          <dt>Git SHA</dt>
          <dd>{version?.gitSha ?? 'unknown'}</dd>
          <dt>Config hash</dt>
          <dd>{version?.configHash ?? 'none'}</dd>
        </dl>
        <h2>Audit chain</h2>
        {!canVerify && <p className="muted">Checking the chain needs the audit.export permission.</p>}
        {verify && (
          <p data-testid="audit-chain" className={verify.ok ? 'pos' : 'neg'}>
            {verify.ok
              ? `Intact: ${verify.checked} records checked${verify.hmacChecked ? ' (hashes and HMACs)' : ' (hashes)'}`
              : `BROKEN at record ${verify.firstBad?.seq}: ${verify.firstBad?.problem}`}
          </p>
        )}
      </section>
      <section className="card">
        <h2>Order reconstruction</h2>
        <form onSubmit={reconstruct} className="actions">
          <input
            aria-label="order id"
            placeholder="order or client order id"
            value={orderId}
            onChange={(e) => setOrderId(e.target.value)}
          />
          <button type="submit">Reconstruct</button>
        </form>
        {story && (
          <div data-testid="order-story">
            <p>
              Order {story.orderId}
              {story.correlationId ? ` (correlation ${story.correlationId})` : ''}: {String(story.order?.status ?? '')}
            </p>
            <ol>
              {story.timeline.map((t) => (
                <li key={t.seq}>
                  {when(t.time)} {t.action} by {t.actor}
                </li>
              ))}
            </ol>
            <p className="muted">
              {story.fills.length} fill(s), {story.riskEvents.length} risk event(s)
            </p>
          </div>
        )}
      </section>
      <section className="card wide">
        <h2>Audit log</h2>
        <form onSubmit={search} className="actions" aria-label="audit search">
          {(['subject', 'action', 'actor'] as const).map((k) => (
            <input
              key={k}
              aria-label={`audit ${k}`}
              placeholder={k}
              value={query[k]}
              onChange={(e) => setQuery({ ...query, [k]: e.target.value })}
            />
          ))}
          <button type="submit">Search</button>
        </form>
        {error && (
          <p className="neg" role="alert">
            {error}
          </p>
        )}
        <table data-testid="audit-records">
          <thead>
            <tr>
              <th>#</th>
              <th>Time (UTC)</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Subject</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <tr key={r.seq} data-testid="audit-row">
                <td>{r.seq}</td>
                <td>{when(r.time)}</td>
                <td>{r.actor}</td>
                <td>{r.action}</td>
                <td>{r.subject}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
