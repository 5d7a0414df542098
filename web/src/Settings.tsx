import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { AlertSettings } from './AlertSettings';
import { api, type ControlResult, type RiskState } from './api';
import { RiskSettings } from './RiskSettings';

interface Secret {
  name: string;
  updatedAt: number | null;
}
interface User {
  id: string;
  username: string;
  role: 'admin' | 'viewer';
  isOwner: boolean;
  totpEnabled: boolean;
}

/** API keys and other secrets: names with a masked value; set and delete (admins). Values never come back. */
function Secrets() {
  const [vault, setVault] = useState('');
  const [secrets, setSecrets] = useState<Secret[]>([]);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [msg, setMsg] = useState('');
  const load = useCallback(async () => {
    const r = await api<{ vault: string; secrets: Secret[] }>('GET', '/api/secrets');
    setVault(r.vault);
    setSecrets(r.secrets);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const act = async (p: Promise<ControlResult>) => {
    try {
      setMsg((await p).message);
    } catch (err) {
      setMsg(err instanceof Error ? err.message : String(err));
    }
    await load();
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    void act(api<ControlResult>('PUT', `/api/secrets/${encodeURIComponent(name)}`, { value })).then(() => setValue(''));
  };
  return (
    <section className="card" data-testid="secrets">
      <h2>API keys and secrets</h2>
      <p className="muted">Vault {vault}. Values are write-only: they never leave the vault.</p>
      <table>
        <tbody>
          {secrets.map((s) => (
            <tr key={s.name} data-testid="secret-row">
              <td>{s.name}</td>
              <td className="muted">••••••••</td>
              <td>
                <button
                  type="button"
                  onClick={() => void act(api<ControlResult>('DELETE', `/api/secrets/${encodeURIComponent(s.name)}`))}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form onSubmit={save} className="actions">
        <input
          aria-label="secret name"
          placeholder="name, e.g. binance.apiKey"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <input
          aria-label="secret value"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit">Save</button>
      </form>
      {msg && (
        <p className="toast" role="status">
          {msg}
        </p>
      )}
    </section>
  );
}

/** The deployments' venues, each with a connection test (one balance read) for admins. */
function Venues({ canTest }: { canTest: boolean }) {
  const [venues, setVenues] = useState<{ id: string; type: string; real: boolean }[]>([]);
  const [results, setResults] = useState<Record<string, string>>({});
  useEffect(() => {
    void api<{ venues: { id: string; type: string; real: boolean }[] }>('GET', '/api/venues')
      .then((r) => setVenues(r.venues))
      .catch(() => setVenues([]));
  }, []);
  const test = async (id: string) => {
    setResults((r) => ({ ...r, [id]: 'testing…' }));
    try {
      const t = await api<{ ok: boolean; message: string; latencyMs: number }>('POST', `/api/venues/${id}/test`);
      setResults((r) => ({ ...r, [id]: `${t.ok ? 'OK' : 'FAILED'}: ${t.message} (${t.latencyMs} ms)` }));
    } catch (err) {
      setResults((r) => ({ ...r, [id]: err instanceof Error ? err.message : String(err) }));
    }
  };
  return (
    <section className="card" data-testid="venues">
      <h2>Venues</h2>
      <table>
        <tbody>
          {venues.map((v) => (
            <tr key={v.id}>
              <td>{v.id}</td>
              <td>{v.type}</td>
              <td className={v.real ? 'neg' : 'muted'}>{v.real ? 'real money' : 'simulated'}</td>
              {canTest && (
                <td>
                  <button type="button" data-testid="test-venue" onClick={() => void test(v.id)}>
                    Test connection
                  </button>
                </td>
              )}
              <td data-testid="venue-test-result">{results[v.id] ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Users and roles (admin only). */
function Users() {
  const [users, setUsers] = useState<User[]>([]);
  const [form, setForm] = useState({ username: '', password: '', role: 'viewer' as 'admin' | 'viewer' });
  const [msg, setMsg] = useState('');
  const load = useCallback(async () => setUsers((await api<{ users: User[] }>('GET', '/api/users')).users), []);
  useEffect(() => {
    void load();
  }, [load]);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const u = await api<User>('POST', '/api/users', form);
      setMsg(`created ${u.username} (${u.role})`);
      setForm({ ...form, username: '', password: '' });
    } catch (err) {
      setMsg(err instanceof Error ? err.message : String(err));
    }
    await load();
  };
  return (
    <section className="card" data-testid="users">
      <h2>Users</h2>
      <table>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{u.role}</td>
              <td>{u.isOwner ? 'owner' : ''}</td>
              <td>{u.totpEnabled ? 'TOTP on' : 'TOTP off'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form onSubmit={create} className="actions">
        <input
          aria-label="new username"
          value={form.username}
          onChange={(e) => setForm({ ...form, username: e.target.value })}
        />
        <input
          aria-label="new password"
          type="password"
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <select
          aria-label="new role"
          value={form.role}
          onChange={(e) => setForm({ ...form, role: e.target.value as 'admin' | 'viewer' })}
        >
          <option value="viewer">viewer</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit">Add user</button>
      </form>
      {msg && <p className="toast">{msg}</p>}
    </section>
  );
}

/**
 * Settings (UI-5): the configured risk limits, API keys (admins: masked, set, delete), the venues with a connection
 * test (admins), the risk preferences and alert channels (editable by admins) and users (admins).
 */
export function Settings({ permissions }: { permissions: string[] }) {
  const [risk, setRisk] = useState<RiskState | null>(null);
  useEffect(() => {
    void api<RiskState>('GET', '/api/risk').then(setRisk);
  }, []);
  return (
    <main>
      <section className="card">
        <h2>Risk limits</h2>
        <p className="muted">
          In force now: the config file's risk section over the live defaults, with the preferences below.
        </p>
        <table data-testid="risk-limits">
          <tbody>
            {Object.entries(risk?.limits ?? {}).map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <RiskSettings canChange={permissions.includes('risk.change')} />
      {permissions.includes('secrets.list') && <Secrets />}
      {permissions.includes('secrets.list') && <AlertSettings canEdit={permissions.includes('secrets.write')} />}
      <Venues canTest={permissions.includes('secrets.write')} />
      {permissions.includes('users.manage') && <Users />}
    </main>
  );
}
