import { describe, expect, it } from 'vitest';
import { defaultRedactor, isSecretField, REDACTED, Redactor, redact } from '../src/security/redact.js';

describe('redact', () => {
  it('masks known secret fields deeply and leaves other fields alone', () => {
    const input = {
      venue: 'binance',
      apiKey: 'AKIA-should-hide',
      nested: { api_secret: 'x1', list: [{ password: 'p', token: 't', note: 'fine' }], Authorization: 'Bearer abc' },
      headers: new Map([['cookie', 'sid=1']]),
      secrets: { apiKey: 'exchange.key' },
      maxTokens: 400,
      passphrase: '',
    };
    const out = redact(input, new Redactor());
    expect(out.venue).toBe('binance');
    expect(out.apiKey).toBe(REDACTED);
    expect(out.nested.api_secret).toBe(REDACTED);
    expect(out.nested.list[0]).toEqual({ password: REDACTED, token: REDACTED, note: 'fine' });
    expect(out.nested.Authorization).toBe(REDACTED);
    expect(out.headers.get('cookie')).toBe(REDACTED);
    expect(out.maxTokens).toBe(400);
    expect(out.passphrase).toBe('');
    // The input is not mutated.
    expect(input.apiKey).toBe('AKIA-should-hide');
    expect(isSecretField('privateKey')).toBe(true);
    expect(isSecretField('symbol')).toBe(false);
  });

  it('masks registered vault values anywhere, including errors and cycles', () => {
    const r = new Redactor();
    r.register('hunter2-very-secret');
    r.register('abc');
    const cyclic: Record<string, unknown> = { msg: 'login with hunter2-very-secret failed' };
    cyclic.self = cyclic;
    const out = r.redact(cyclic);
    expect(out.msg).toBe(`login with ${REDACTED} failed`);
    expect((out.self as Record<string, unknown>).msg).toBe(`login with ${REDACTED} failed`);
    const err = r.redact(new Error('bad key hunter2-very-secret')) as unknown as { message: string };
    expect(err.message).toBe(`bad key ${REDACTED}`);
    expect(r.redact('abc stays: too short to register')).toBe('abc stays: too short to register');
    expect(r.containsSecret('x hunter2-very-secret y')).toBe(true);
    r.unregister('hunter2-very-secret');
    expect(r.redact('hunter2-very-secret')).toBe('hunter2-very-secret');
  });

  it('uses the process-wide redactor by default', () => {
    defaultRedactor.register('global-secret-value-1');
    expect(redact({ text: 'x global-secret-value-1' }).text).toBe(`x ${REDACTED}`);
    defaultRedactor.unregister('global-secret-value-1');
  });
});
