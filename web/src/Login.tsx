import { type FormEvent, useState } from 'react';
import { ApiError, api, setCsrf } from './api';

/** The login page: username, password and, when the account has it, a TOTP code. */
export function Login({ onLogin }: { onLogin: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState('');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      const r = await api<{ csrfToken: string }>('POST', '/api/auth/login', {
        username,
        password,
        ...(totp ? { totp } : {}),
      });
      setCsrf(r.csrfToken);
      onLogin();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required') setNeedTotp(true);
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <form className="login card" onSubmit={submit} aria-label="login">
      <h1>tradeforge</h1>
      <label>
        Username
        <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {needTotp && (
        <label>
          Authenticator code
          <input name="totp" inputMode="numeric" value={totp} onChange={(e) => setTotp(e.target.value)} />
        </label>
      )}
      <button type="submit">Log in</button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
