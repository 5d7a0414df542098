import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIONS,
  AuthService,
  base32Decode,
  base32Encode,
  can,
  hotp,
  passwordProblems,
  Redactor,
  requirePermission,
  totp,
  Vault,
  verifyTotp,
} from '../src/security/index.js';
import type { Store } from '../src/store/index.js';
import { backends } from './fixtures/store/backends.js';

const FAST_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('TOTP (RFC 6238 appendix B test vectors)', () => {
  const keys = {
    sha1: Buffer.from('12345678901234567890'),
    sha256: Buffer.from('12345678901234567890123456789012'),
    sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  for (const [t, s1, s256, s512] of vectors) {
    it(`T=${t}`, () => {
      expect(totp(keys.sha1, t * 1000, { digits: 8, algorithm: 'sha1' })).toBe(s1);
      expect(totp(keys.sha256, t * 1000, { digits: 8, algorithm: 'sha256' })).toBe(s256);
      expect(totp(keys.sha512, t * 1000, { digits: 8, algorithm: 'sha512' })).toBe(s512);
    });
  }
  it('matches RFC 4226 HOTP values and round-trips base32', () => {
    expect([0, 1, 9].map((c) => hotp(keys.sha1, c))).toEqual(['755224', '287082', '520489']);
    const k = randomBytes(20);
    expect(base32Decode(base32Encode(k))).toEqual(k);
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
  });
  it('accepts one step of skew and nothing further', () => {
    const k = randomBytes(20);
    const t = 1_700_000_000_000;
    expect(verifyTotp(k, totp(k, t - 30_000), t)).toBe(true);
    expect(verifyTotp(k, totp(k, t - 90_000), t)).toBe(false);
    expect(verifyTotp(k, 'abcdef', t)).toBe(false);
  });
});

describe('permissions', () => {
  it('lets viewers only read and admins do everything', () => {
    expect(can('viewer', 'read')).toBe(true);
    for (const a of ['trade', 'risk.change', 'killswitch', 'secrets.list', 'users.manage'] as const) {
      expect(can('viewer', a)).toBe(false);
      expect(() => requirePermission('viewer', a)).toThrow(/may not/);
    }
    for (const a of ACTIONS) expect(can('admin', a)).toBe(true);
    expect(can('intruder', 'read')).toBe(false);
  });
});

describe('password rules', () => {
  it('names every broken rule', () => {
    expect(passwordProblems('short1A')).toContain('must be at least 12 characters');
    expect(passwordProblems('alllowercaseletters')).toEqual([
      'must mix at least two of: lower case, upper case, digits, symbols',
    ]);
    expect(passwordProblems('aaaaaaaaaaaaaaaa')).toContain('must not be one repeated character');
    expect(passwordProblems('alice-Secure-2026', 'Alice')).toEqual(['must not contain the username']);
    expect(passwordProblems('Correct-Horse-42', 'alice')).toEqual([]);
  });
});

for (const backend of backends()) {
  describe(`authentication on ${backend.name}`, () => {
    let store: Store;
    let auth: AuthService;
    let clock = 1_800_000_000_000;
    const now = () => clock;

    beforeAll(async () => {
      store = await backend.open();
      const vault = await Vault.create(store, { masterKey: randomBytes(32) }, { redactor: new Redactor() });
      auth = new AuthService(store, { vault, now, passwordHash: FAST_HASH });
      await auth.createOwner('alice', 'Correct-Horse-42');
      await auth.createUser('victor', 'Viewer-Pass-2026', 'viewer', 'alice');
    });
    afterAll(async () => {
      await store?.close();
      await backend.cleanup();
    });

    it('creates one owner and refuses weak passwords', async () => {
      await expect(auth.createOwner('bob', 'Another-Pass-77')).rejects.toThrow(/owner account already exists/);
      await expect(auth.createUser('carol', 'weak', 'viewer', 'alice')).rejects.toThrow(/at least 12/);
      await expect(auth.createUser('alice', 'Correct-Horse-99', 'viewer', 'alice')).rejects.toThrow(/already exists/);
      const stored = await store.users.byUsername('alice');
      expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
      expect(stored?.passwordHash).not.toContain('Correct-Horse-42');
    });

    it('locks an account after 5 failures: the sixth attempt is refused even with the right password', async () => {
      for (let i = 0; i < 5; i++) {
        await expect(auth.login({ username: 'victor', password: `wrong-${i}` })).rejects.toMatchObject({
          code: 'BAD_CREDENTIALS',
        });
      }
      await expect(auth.login({ username: 'victor', password: 'Viewer-Pass-2026' })).rejects.toMatchObject({
        code: 'LOCKED',
      });
      clock += 14 * 60_000;
      await expect(auth.login({ username: 'victor', password: 'Viewer-Pass-2026' })).rejects.toMatchObject({
        code: 'LOCKED',
      });
      clock += 2 * 60_000;
      const ok = await auth.login({ username: 'victor', password: 'Viewer-Pass-2026' });
      expect(ok.user.role).toBe('viewer');
      expect((await store.users.byUsername('victor'))?.failedAttempts).toBe(0);
      const actions = (await store.audit.bySubjects(['user:victor'])).map((r) => r.action);
      expect(actions.filter((a) => a === 'auth.login_failed')).toHaveLength(4);
      expect(actions).toContain('auth.lockout');
      expect(actions).toContain('auth.login_locked');
      expect(actions.at(-1)).toBe('auth.login');
    });

    it('a viewer session cannot perform an admin action; an admin one can', async () => {
      const v = await auth.login({ username: 'victor', password: 'Viewer-Pass-2026' });
      const principal = await auth.authenticate(v.accessToken);
      expect(principal.role).toBe('viewer');
      expect(() => requirePermission(principal.role, 'trade')).toThrow(/may not trade/);
      expect(() => requirePermission(principal.role, 'killswitch')).toThrow();
      const a = await auth.login({ username: 'alice', password: 'Correct-Horse-42' });
      const admin = await auth.authenticate(a.accessToken);
      expect(() => requirePermission(admin.role, 'killswitch')).not.toThrow();
    });

    it('expires access tokens and rotates refresh tokens; reuse revokes the family', async () => {
      const s1 = await auth.login({ username: 'alice', password: 'Correct-Horse-42' });
      expect(s1.accessExpiresAt - clock).toBe(15 * 60_000);
      expect(await store.sessions.byAccessHash(s1.accessToken)).toBeUndefined();
      const s2 = await auth.refresh(s1.refreshToken);
      await expect(auth.authenticate(s1.accessToken)).rejects.toThrow(/invalid or revoked/);
      expect((await auth.authenticate(s2.accessToken)).username).toBe('alice');
      clock += 16 * 60_000;
      await expect(auth.authenticate(s2.accessToken)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
      const s3 = await auth.refresh(s2.refreshToken);
      // An attacker replays the old refresh token: the whole family dies, including the legitimate newest link.
      await expect(auth.refresh(s1.refreshToken)).rejects.toMatchObject({ code: 'TOKEN_REUSE' });
      await expect(auth.authenticate(s3.accessToken)).rejects.toThrow(/revoked/);
      await expect(auth.refresh(s3.refreshToken)).rejects.toThrow(/revoked/);
      const other = await auth.login({ username: 'alice', password: 'Correct-Horse-42' });
      await auth.logout(other.accessToken);
      await expect(auth.authenticate(other.accessToken)).rejects.toThrow();
    });

    it('requires a valid TOTP code once enabled', async () => {
      const alice = await store.users.byUsername('alice');
      const { secret, uri } = await auth.beginTotp(alice?.id ?? '');
      expect(uri).toContain(`secret=${secret}`);
      const key = base32Decode(secret);
      await expect(
        auth.confirmTotp(alice?.id ?? '', '000000' === totp(key, clock) ? '111111' : '000000'),
      ).rejects.toThrow(/wrong TOTP/);
      await auth.confirmTotp(alice?.id ?? '', totp(key, clock));
      // The code just used to confirm is spent: the next login needs the next step's code.
      await expect(
        auth.login({ username: 'alice', password: 'Correct-Horse-42', totp: totp(key, clock) }),
      ).rejects.toMatchObject({ code: 'BAD_CREDENTIALS' });
      clock += 30_000;
      await expect(auth.login({ username: 'alice', password: 'Correct-Horse-42' })).rejects.toMatchObject({
        code: 'TOTP_REQUIRED',
      });
      const bad = totp(key, clock) === '123456' ? '654321' : '123456';
      await expect(auth.login({ username: 'alice', password: 'Correct-Horse-42', totp: bad })).rejects.toMatchObject({
        code: 'BAD_CREDENTIALS',
      });
      const ok = await auth.login({ username: 'alice', password: 'Correct-Horse-42', totp: totp(key, clock) });
      expect(ok.user.totpEnabled).toBe(true);
      // The same code a second time, still inside its window, is refused.
      await expect(
        auth.login({ username: 'alice', password: 'Correct-Horse-42', totp: totp(key, clock) }),
      ).rejects.toMatchObject({ code: 'BAD_CREDENTIALS' });
      const reasons = (await store.audit.bySubjects(['user:alice'])).map((r) => JSON.parse(r.details).reason);
      expect(reasons).toContain('TOTP code already used');
      // TOTP_REQUIRED counted the attempt like any other.
      const required = (await store.audit.bySubjects(['user:alice'])).find((r) => r.action === 'auth.totp_required');
      expect(JSON.parse(required?.details ?? '{}').failedAttempts).toBeGreaterThan(0);
      expect((await store.audit.verify()).ok).toBe(true);
    });

    it('counts 200 parallel wrong logins, every one, and leaves the account locked', async () => {
      await auth.createUser('target1', 'Target-Pass-2026', 'viewer', 'alice');
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => auth.login({ username: 'target1', password: `wrong-${i}` })),
      );
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      const u = await store.users.byUsername('target1');
      expect(u?.failedAttempts).toBe(200);
      expect(u?.lockedUntil).toBeGreaterThan(clock);
      const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'));
      // Only the attempts counted within the limit had their password checked at all.
      expect(codes.filter((c) => c === 'BAD_CREDENTIALS')).toHaveLength(5);
      expect(codes.filter((c) => c === 'LOCKED')).toHaveLength(195);
      const audited = (await store.audit.bySubjects(['user:target1'])).filter((r) => r.action.startsWith('auth.'));
      expect(audited).toHaveLength(200);
    });

    it('does not let the right password in, raced with wrong ones, once the limit is reached', async () => {
      await auth.createUser('target2', 'Target-Pass-2027', 'viewer', 'alice');
      for (let i = 0; i < 5; i++) {
        await expect(auth.login({ username: 'target2', password: `nope-${i}` })).rejects.toMatchObject({
          code: 'BAD_CREDENTIALS',
        });
      }
      const race = await Promise.allSettled([
        ...Array.from({ length: 20 }, (_, i) => auth.login({ username: 'target2', password: `x-${i}` })),
        auth.login({ username: 'target2', password: 'Target-Pass-2027' }),
      ]);
      expect(race.every((r) => r.status === 'rejected')).toBe(true);
      const last = race.at(-1);
      expect(last?.status === 'rejected' && (last.reason as { code: string }).code).toBe('LOCKED');
      // The owner unlocks the account locally; then the right password works.
      await auth.unlockUser('target2', 'cli');
      expect((await auth.login({ username: 'target2', password: 'Target-Pass-2027' })).user.username).toBe('target2');
    });

    it('backs off per source and answers unknown names like locked accounts', async () => {
      const limited = new AuthService(store, { now, passwordHash: FAST_HASH, limits: { perSourceFailures: 3 } });
      for (let i = 0; i < 3; i++) {
        await expect(limited.login({ username: 'ghost', password: 'x', ip: '203.0.113.9' })).rejects.toMatchObject({
          code: 'BAD_CREDENTIALS',
        });
      }
      await expect(limited.login({ username: 'alice', password: 'x', ip: '203.0.113.9' })).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
      // Another source is not held back by the first one.
      for (let i = 0; i < 2; i++) {
        await expect(limited.login({ username: 'ghost', password: 'x', ip: `198.51.100.${i}` })).rejects.toMatchObject({
          code: 'BAD_CREDENTIALS',
        });
      }
      // After maxFailedAttempts on a name that does not exist, it answers LOCKED, as a real account would.
      await expect(limited.login({ username: 'ghost', password: 'x' })).rejects.toMatchObject({ code: 'LOCKED' });
    });

    it('gives refresh tokens an absolute lifetime', async () => {
      const short = new AuthService(store, {
        now,
        passwordHash: FAST_HASH,
        policy: { sessionMaxMs: 60 * 60_000, refreshTtlMs: 45 * 60_000 },
      });
      const s1 = await short.login({ username: 'victor', password: 'Viewer-Pass-2026' });
      clock += 40 * 60_000;
      const s2 = await short.refresh(s1.refreshToken);
      expect(s2.refreshExpiresAt).toBe(clock + 20 * 60_000);
      clock += 21 * 60_000;
      await expect(short.refresh(s2.refreshToken)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    });
  });
}
