import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, api, type ControlResult } from './api';

interface Channel {
  channel: 'telegram' | 'discord' | 'email';
  minSeverity: string;
  target: string;
  secret: string;
  secretSet: boolean;
  settings: Record<string, unknown>;
  source: 'file' | 'saved';
  active: boolean | null;
}

type Kind = Channel['channel'];

/** The form's fields per kind: [settings key, label, kind of input]. */
const FIELDS: Record<Kind, [string, string, 'text' | 'list' | 'number' | 'bool'][]> = {
  telegram: [
    ['chatIds', 'Chat ids (comma separated)', 'list'],
    ['tokenSecret', 'Vault name of the bot token', 'text'],
    ['apiRoot', 'Bot API root (optional)', 'text'],
  ],
  discord: [['webhookSecret', 'Vault name of the webhook URL', 'text']],
  email: [
    ['host', 'SMTP host', 'text'],
    ['port', 'SMTP port', 'number'],
    ['secure', 'TLS from the start', 'bool'],
    ['user', 'SMTP user (optional)', 'text'],
    ['passwordSecret', 'Vault name of the SMTP password', 'text'],
    ['from', 'From', 'text'],
    ['to', 'To (comma separated)', 'list'],
  ],
};

const SECRET_LABEL: Record<Kind, string> = {
  telegram: 'Bot token',
  discord: 'Webhook URL',
  email: 'SMTP password',
};

/** The form's text for a settings value. */
const asText = (v: unknown) => (Array.isArray(v) ? v.join(', ') : v === undefined || v === null ? '' : String(v));

/** The settings object from the form (empty optional fields left out, so the config schema's defaults apply). */
function settingsFrom(kind: Kind, form: Record<string, string>, severity: string): Record<string, unknown> {
  const out: Record<string, unknown> = { minSeverity: severity };
  for (const [key, , type] of FIELDS[kind]) {
    const v = (form[key] ?? '').trim();
    if (type === 'bool') out[key] = v === 'true';
    else if (v === '') continue;
    else if (type === 'number') out[key] = Number.isFinite(Number(v)) ? Number(v) : v;
    else if (type === 'list') {
      const items = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      out[key] = key === 'chatIds' ? items.map((s) => (/^-?\d+$/.test(s) ? Number(s) : s)) : items;
    } else out[key] = v;
  }
  return out;
}

/**
 * Alert channels (UI-5, admins): the channels in force with their secret's state, and for admins an editor that
 * sets, removes and test-sends them through the runtime. The secret's value goes to the vault and never comes back.
 */
export function AlertSettings({ canEdit }: { canEdit: boolean }) {
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [editable, setEditable] = useState(false);
  const [kind, setKind] = useState<Kind>('telegram');
  const [severity, setSeverity] = useState('warning');
  const [form, setForm] = useState<Record<string, string>>({});
  const [secretValue, setSecretValue] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [msg, setMsg] = useState('');
  const load = useCallback(async () => {
    const r = await api<{ channels: Channel[]; editable: boolean }>('GET', '/api/alerts/channels');
    setChannels(r.channels);
    setEditable(r.editable);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const edit = (c: Channel) => {
    setKind(c.channel);
    setSeverity(c.minSeverity);
    setForm(Object.fromEntries(FIELDS[c.channel].map(([k]) => [k, asText(c.settings[k])])));
    setErrors({});
  };
  const act = async (p: Promise<ControlResult>) => {
    try {
      setMsg((await p).message);
    } catch (err) {
      setMsg(err instanceof Error ? err.message : String(err));
    }
    await load();
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    try {
      await api('PUT', `/api/alerts/channels/${kind}`, {
        settings: settingsFrom(kind, form, severity),
        ...(secretValue ? { secretValue } : {}),
      });
      setSecretValue('');
      setMsg(`${kind} channel saved; alerts go to it from now on.`);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length > 0) {
        setErrors(Object.fromEntries(err.fields.map((f) => [f.field.replace(/^body\.(settings\.)?/, ''), f.message])));
        setMsg('Not saved: fix the fields marked.');
      } else setMsg(err instanceof Error ? err.message : String(err));
    }
    await load();
  };
  const fieldError = (key: string) =>
    errors[key] ? (
      <span className="neg" data-testid="alert-field-error">
        {' '}
        {errors[key]}
      </span>
    ) : null;
  const canChange = canEdit && editable;
  return (
    <section className="card" data-testid="alert-channels">
      <h2>Alert channels</h2>
      <p className="muted">
        {editable
          ? 'Saved here, they win over the config file’s alerts section and apply at once.'
          : "Set up in the config file's alerts section; their secrets are set above."}
      </p>
      {channels?.length === 0 && <p className="muted">No alert channel configured.</p>}
      <table>
        <tbody>
          {(channels ?? []).map((c) => (
            <tr key={c.channel} data-testid="alert-channel-row">
              <td>{c.channel}</td>
              <td>{c.minSeverity} and above</td>
              <td>{c.target}</td>
              <td className={c.secretSet ? 'pos' : 'neg'}>
                {c.secret}: {c.secretSet ? 'set' : 'missing'}
              </td>
              <td className="muted">
                {c.source === 'saved' ? 'saved here' : 'config file'}
                {c.active === false ? ' · not sending' : ''}
              </td>
              {canChange && (
                <td className="actions">
                  <button type="button" onClick={() => edit(c)}>
                    Edit
                  </button>
                  <button
                    type="button"
                    data-testid="test-alert"
                    onClick={() => void act(api<ControlResult>('POST', `/api/alerts/channels/${c.channel}/test`))}
                  >
                    Send test
                  </button>
                  <button
                    type="button"
                    onClick={() => void act(api<ControlResult>('DELETE', `/api/alerts/channels/${c.channel}`))}
                  >
                    Remove
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {canChange && (
        <form onSubmit={(e) => void save(e)} data-testid="alert-form">
          <label>
            Channel{' '}
            <select aria-label="channel kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="telegram">Telegram</option>
              <option value="discord">Discord webhook</option>
              <option value="email">E-mail</option>
            </select>
          </label>{' '}
          <label>
            Minimum severity{' '}
            <select aria-label="minimum severity" value={severity} onChange={(e) => setSeverity(e.target.value)}>
              <option value="info">info</option>
              <option value="warning">warning</option>
              <option value="critical">critical</option>
            </select>
          </label>
          {fieldError('minSeverity')}
          {FIELDS[kind].map(([key, label, type]) => (
            <div key={`${kind}-${key}`}>
              <label htmlFor={`alert-${key}`}>{label}</label>{' '}
              {type === 'bool' ? (
                <input
                  id={`alert-${key}`}
                  type="checkbox"
                  aria-label={key}
                  checked={form[key] === 'true'}
                  onChange={(e) => setForm((f) => ({ ...f, [key]: String(e.target.checked) }))}
                />
              ) : (
                <input
                  id={`alert-${key}`}
                  aria-label={key}
                  value={form[key] ?? ''}
                  onChange={(e) => setForm((f) => ({ ...f, [key]: e.target.value }))}
                />
              )}
              {fieldError(key)}
            </div>
          ))}
          <div>
            <label>
              {SECRET_LABEL[kind]} (stored in the vault; leave empty to keep the stored one){' '}
              <input
                aria-label="channel secret"
                type="password"
                autoComplete="off"
                value={secretValue}
                onChange={(e) => setSecretValue(e.target.value)}
              />
            </label>
            {fieldError('secretValue')}
          </div>
          <button type="submit" data-testid="save-alert-channel">
            Save channel
          </button>
        </form>
      )}
      {msg && (
        <p className="toast" role="status" data-testid="alert-settings-result">
          {msg}
        </p>
      )}
    </section>
  );
}
