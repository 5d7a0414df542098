import { useState } from 'react';
import { api, type ControlResult, type RiskState } from './api';

/** Breakers, entries and the kill switch (admins only: viewers never see its button). */
export function RiskPanel({
  risk,
  canKill,
  onChange,
}: {
  risk: RiskState | null;
  canKill: boolean;
  onChange: () => void;
}) {
  const [confirming, setConfirming] = useState<'kill' | 'recover' | null>(null);
  const [result, setResult] = useState('');

  const run = async (what: 'kill' | 'recover') => {
    setConfirming(null);
    const started = performance.now();
    try {
      const r = await api<ControlResult>('POST', `/api/control/${what}`, { confirm: true });
      setResult(`${r.message} (${Math.round(performance.now() - started)} ms)`);
    } catch (err) {
      setResult(err instanceof Error ? err.message : String(err));
    }
    onChange();
  };

  return (
    <section className="card">
      <h2>Risk</h2>
      <p data-testid="kill-state">
        Kill switch:{' '}
        <strong className={risk?.killSwitchActive ? 'neg' : 'pos'}>{risk?.killSwitchActive ? 'ENGAGED' : 'off'}</strong>
        {' · '}Entries: {risk?.entriesEnabled ? 'enabled' : 'stopped'}
      </p>
      <ul>
        {(risk?.breakers ?? []).length === 0 && <li className="muted">No breaker tripped</li>}
        {(risk?.breakers ?? []).map((b) => (
          <li key={`${b.deployment}:${b.breaker}`} className="neg">
            {b.deployment}: {b.breaker} {b.detail}
          </li>
        ))}
      </ul>
      {canKill && (
        <div className="actions">
          <button type="button" className="danger" data-testid="kill-switch" onClick={() => setConfirming('kill')}>
            KILL SWITCH
          </button>
          <button type="button" data-testid="recover" onClick={() => setConfirming('recover')}>
            Recover
          </button>
        </div>
      )}
      {confirming && (
        <div className="dialog" role="dialog" aria-label="confirm">
          <p>
            {confirming === 'kill'
              ? 'Cancel every order, close every position and halt trading?'
              : 'Release the kill switch and resume trading?'}
          </p>
          <button type="button" className="danger" data-testid="confirm" onClick={() => void run(confirming)}>
            Confirm
          </button>
          <button type="button" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </div>
      )}
      {result && (
        <p className="toast" role="status" data-testid="control-result">
          {result}
        </p>
      )}
    </section>
  );
}
