import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api } from './api';

/** The editable limits: in force, from the config file, and saved from here. */
interface Preferences {
  effective: Record<string, number>;
  file: Record<string, number>;
  saved: Record<string, number>;
}

const KEYS: { key: string; label: string }[] = [
  { key: 'maxOrderNotional', label: 'Max order notional' },
  { key: 'maxPositionNotional', label: 'Max position notional' },
  { key: 'capitalCap', label: 'Capital cap' },
  { key: 'maxGrossExposure', label: 'Max gross exposure (× equity)' },
  { key: 'maxConcentration', label: 'Max concentration (share)' },
  { key: 'breakers.dailyLoss', label: 'Daily loss breaker (share)' },
  { key: 'breakers.emergencyLoss', label: 'Emergency loss breaker (share)' },
  { key: 'breakers.maxDrawdown', label: 'Max drawdown breaker (share)' },
  { key: 'breakers.consecutiveLosses', label: 'Consecutive losses breaker' },
];

/**
 * Risk preferences (UI-5): the limits in force with their config-file value; admins change them here. Lowering a
 * limit applies at once; raising or removing one asks for a confirmation first (the API refuses it without).
 * Field errors come from the API's 400.
 */
export function RiskSettings({ canChange }: { canChange: boolean }) {
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [loosening, setLoosening] = useState<string | null>(null);
  const [msg, setMsg] = useState('');
  const load = useCallback(async () => {
    const p = await api<Preferences>('GET', '/api/risk/preferences');
    setPrefs(p);
    setDraft(
      Object.fromEntries(KEYS.map(({ key }) => [key, p.effective[key] === undefined ? '' : String(p.effective[key])])),
    );
  }, []);
  useEffect(() => {
    void load().catch((err: unknown) => setMsg(err instanceof Error ? err.message : String(err)));
  }, [load]);

  /** The changed keys: a number sets, an emptied field drops the saved value (back to the file's). */
  const patch = () => {
    // A value that is not a number goes as typed, so the API's field error names it.
    const out: Record<string, number | string | null> = {};
    for (const { key } of KEYS) {
      const now = prefs?.effective[key];
      const v = (draft[key] ?? '').trim();
      if (v === '' && now !== undefined) out[key] = null;
      else if (v !== '' && Number(v) !== now) out[key] = Number.isFinite(Number(v)) ? Number(v) : v;
    }
    return out;
  };
  const send = async (confirmLoosening: boolean) => {
    setErrors({});
    setMsg('');
    try {
      const body = { ...patch(), ...(confirmLoosening ? { confirmLoosening: true } : {}) };
      await api('PATCH', '/api/risk/preferences', body);
      setLoosening(null);
      setMsg('Risk limits saved and in force.');
      await load();
    } catch (err) {
      if (err instanceof ApiError && err.fields.length > 0) {
        const loosen = err.fields.find((f) => f.field === 'body.confirmLoosening');
        if (loosen) {
          setLoosening(loosen.message.replace(/^must be true to loosen: /, ''));
          return;
        }
        setErrors(Object.fromEntries(err.fields.map((f) => [f.field.replace(/^body\./, ''), f.message])));
        setMsg('Not saved: fix the fields marked.');
      } else setMsg(err instanceof Error ? err.message : String(err));
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void send(false);
  };
  if (!prefs) return msg ? <p className="muted">{msg}</p> : null;
  return (
    <section className="card" data-testid="risk-settings">
      <h2>Risk preferences</h2>
      <p className="muted">
        Saved values win over the config file's; clear a field to go back to the file's value. Lowering a limit applies
        at once; raising or removing one asks for a confirmation.
      </p>
      <form onSubmit={submit}>
        <table>
          <tbody>
            {KEYS.map(({ key, label }) => (
              <tr key={key}>
                <td>
                  <label htmlFor={`risk-${key}`}>{label}</label>
                </td>
                <td>
                  <input
                    id={`risk-${key}`}
                    aria-label={key}
                    inputMode="decimal"
                    value={draft[key] ?? ''}
                    disabled={!canChange}
                    onChange={(e) => setDraft((d) => ({ ...d, [key]: e.target.value }))}
                  />
                  {errors[key] && (
                    <span className="neg" data-testid="risk-field-error">
                      {' '}
                      {errors[key]}
                    </span>
                  )}
                </td>
                <td className="muted">
                  file: {prefs.file[key] ?? '—'}
                  {prefs.saved[key] !== undefined ? ' (saved value in force)' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {canChange && (
          <button type="submit" data-testid="save-risk">
            Save limits
          </button>
        )}
      </form>
      {loosening && (
        <div className="dialog" role="dialog" aria-label="confirm loosening">
          <p>This loosens the risk limits: {loosening}. Apply it?</p>
          <button type="button" data-testid="confirm-loosening" onClick={() => void send(true)}>
            Loosen
          </button>
          <button type="button" onClick={() => setLoosening(null)}>
            Cancel
          </button>
        </div>
      )}
      {msg && (
        <p className="toast" role="status" data-testid="risk-settings-result">
          {msg}
        </p>
      )}
    </section>
  );
}
