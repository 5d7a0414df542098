import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AuthError, ValidationError } from '../core/errors.js';
import type { Role, UserRecord } from '../store/repositories/auth.js';
import type { Store } from '../store/store.js';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimitPolicy } from './login-limits.js';
import {
  assertStrongPassword,
  DEFAULT_PASSWORD_HASH,
  hashIsWeaker,
  hashPassword,
  type PasswordHashParams,
  verifyPassword,
} from './passwords.js';
import { base32Decode, base32Encode, generateTotpSecret, matchTotp, otpauthUri } from './totp.js';
import type { Vault } from './vault.js';

/** Session and lockout policy. */
export interface AuthPolicy {
  /** Access-token lifetime (default 15 minutes). */
  accessTtlMs: number;
  /** Refresh-token lifetime (default 7 days; each refresh issues a new one). */
  refreshTtlMs: number;
  /** Failed attempts that lock an account (default 5). */
  maxFailedAttempts: number;
  /** Lockout duration (default 15 minutes). */
  lockoutMs: number;
  /** Absolute lifetime of a session family: refreshing never extends it past this (default 30 days). */
  sessionMaxMs: number;
}

/** Default policy. */
export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  accessTtlMs: 15 * 60_000,
  refreshTtlMs: 7 * 24 * 3600_000,
  maxFailedAttempts: 5,
  lockoutMs: 15 * 60_000,
  sessionMaxMs: 30 * 24 * 3600_000,
};

/** Tokens handed to a client after login or refresh. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  user: PublicUser;
}

/** What the API may show about a user. */
export interface PublicUser {
  id: string;
  username: string;
  role: Role;
  isOwner: boolean;
  totpEnabled: boolean;
}

/** The authenticated caller of a request. */
export interface Principal extends PublicUser {
  sessionId: string;
  familyId: string;
}

/** Options of the auth service. */
export interface AuthServiceOptions {
  /** Needed for TOTP (secrets live in the vault). */
  vault?: Vault;
  policy?: Partial<AuthPolicy>;
  passwordHash?: PasswordHashParams;
  /** Per-source and global failed-login limits. */
  limits?: Partial<LoginLimitPolicy>;
  now?: () => number;
}

const USERNAME = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{2,63}$/;
// Verifying against a real hash keeps an unknown username as slow as a known one.
let dummyHash: Promise<string> | undefined;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(prefix: 'tfa' | 'tfr'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

function publicUser(u: UserRecord): PublicUser {
  return { id: u.id, username: u.username, role: u.role, isOwner: u.isOwner, totpEnabled: u.totpEnabled };
}

/** TOTP secret name of a user in the vault. */
export function totpSecretName(userId: string): string {
  return `auth.totp.${userId}`;
}

/**
 * Users, logins and sessions (SEC-2): Argon2id password hashes, lockout, optional TOTP, short-lived opaque access
 * tokens and rotating refresh tokens (stored only as sha256 hashes). Reusing a rotated refresh token revokes the
 * whole session family. Every login attempt is audited.
 */
export class AuthService {
  private readonly policy: AuthPolicy;
  private readonly now: () => number;
  private readonly limiter: LoginLimiter;
  // Names that do not exist lock like accounts do, so LOCKED does not tell a stranger which names are real.
  private readonly unknownNames: LoginLimiter;

  constructor(
    private readonly store: Store,
    private readonly opts: AuthServiceOptions = {},
  ) {
    this.policy = { ...DEFAULT_AUTH_POLICY, ...opts.policy };
    this.now = opts.now ?? Date.now;
    this.limiter = new LoginLimiter({ ...DEFAULT_LOGIN_LIMITS, ...opts.limits });
    this.unknownNames = new LoginLimiter({
      perSourceFailures: this.policy.maxFailedAttempts,
      baseBackoffMs: this.policy.lockoutMs,
      maxBackoffMs: this.policy.lockoutMs,
      globalFailuresPerMinute: Number.POSITIVE_INFINITY,
    });
  }

  // Costs what a real check costs, so refusals and unknown names answer no faster than a wrong password.
  private async dummyVerify(password: string): Promise<void> {
    dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.opts.passwordHash);
    await verifyPassword(await dummyHash, password);
  }

  private lockedError(until: number): AuthError {
    return new AuthError(
      `too many failed logins; try again after ${new Date(until).toISOString()} (the owner can run \`tradeforge users unlock\`)`,
      'LOCKED',
    );
  }

  /** Creates the owner (an admin) on first run; refuses when an owner exists. */
  async createOwner(username: string, password: string): Promise<PublicUser> {
    if (await this.store.users.hasOwner()) throw new AuthError('an owner account already exists', 'OWNER_EXISTS');
    return this.addUser(username, password, 'admin', true, 'system');
  }

  /** Creates a user with a role (an admin action: check `can(actor role, 'users.manage')` first). */
  async createUser(username: string, password: string, role: Role, actor: string): Promise<PublicUser> {
    return this.addUser(username, password, role, false, actor);
  }

  private async addUser(
    username: string,
    password: string,
    role: Role,
    owner: boolean,
    actor: string,
  ): Promise<PublicUser> {
    if (!USERNAME.test(username)) {
      throw new ValidationError(
        'username must be 3-64 letters, digits or . _ @ - (starting with a letter or digit)',
        'username',
      );
    }
    if (role !== 'admin' && role !== 'viewer')
      throw new ValidationError(`unknown role "${role}" (admin or viewer)`, 'role');
    assertStrongPassword(password, username);
    if (await this.store.users.byUsername(username))
      throw new ValidationError(`user "${username}" already exists`, 'username');
    const time = this.now();
    const user: UserRecord = {
      id: randomUUID(),
      username,
      passwordHash: await hashPassword(password, this.opts.passwordHash),
      role,
      isOwner: owner,
      totpEnabled: false,
      failedAttempts: 0,
      createdAt: time,
      updatedAt: time,
    };
    await this.store.users.insert(user);
    await this.store.audit.append({
      actor,
      action: 'user.create',
      subject: `user:${username}`,
      details: { role, owner },
      time,
    });
    return publicUser(user);
  }

  /**
   * Logs in; returns fresh tokens. Throws AuthError: BAD_CREDENTIALS, LOCKED (the account, or an unknown name, after
   * too many failures), RATE_LIMITED (this source or the whole service is backing off), TOTP_REQUIRED (the right
   * password without a code; the attempt stays counted). Every attempt is counted before the password is checked.
   */
  async login(input: { username: string; password: string; totp?: string; ip?: string }): Promise<SessionTokens> {
    const time = this.now();
    const subject = `user:${input.username}`;
    const details = input.ip ? { ip: input.ip } : {};
    const source = input.ip;
    const blocked = this.limiter.blockedUntil(source, time);
    if (blocked !== undefined) {
      await this.store.audit.append({ actor: input.username, action: 'auth.rate_limited', subject, details, time });
      throw new AuthError(
        `too many failed logins${source ? ` from ${source}` : ''}; try again after ${new Date(blocked).toISOString()}`,
        'RATE_LIMITED',
      );
    }
    const user = await this.store.users.byUsername(input.username);
    if (!user) {
      // Unknown names are tracked like accounts, so LOCKED does not reveal which names exist.
      const nameKey = input.username.toLowerCase();
      const lockedUntil = this.unknownNames.blockedUntil(nameKey, time);
      await this.dummyVerify(input.password);
      this.limiter.fail(source, time);
      if (lockedUntil === undefined) this.unknownNames.fail(nameKey, time);
      await this.store.audit.append({
        actor: input.username,
        action: 'auth.login_failed',
        subject,
        details: { ...details, reason: 'unknown user' },
        time,
      });
      if (lockedUntil !== undefined) throw this.lockedError(lockedUntil);
      throw new AuthError('invalid username or password', 'BAD_CREDENTIALS');
    }
    const attempt = await this.store.users.countAttempt(user.id, time);
    const overLimit = attempt.failedAttempts > this.policy.maxFailedAttempts;
    if ((attempt.lockedUntil !== undefined && attempt.lockedUntil > time) || overLimit) {
      const until =
        attempt.lockedUntil !== undefined && attempt.lockedUntil > time
          ? attempt.lockedUntil
          : time + this.policy.lockoutMs;
      if (overLimit) await this.store.users.lock(user.id, until, time);
      await this.dummyVerify(input.password);
      this.limiter.fail(source, time);
      await this.store.audit.append({
        actor: user.username,
        action: 'auth.login_locked',
        subject,
        details: { ...details, failedAttempts: attempt.failedAttempts },
        time,
      });
      throw this.lockedError(until);
    }
    let ok = await verifyPassword(user.passwordHash, input.password);
    let reason = 'bad password';
    if (ok && user.totpEnabled) {
      if (!input.totp) {
        // The password was right, but the attempt stays counted: a guesser learns nothing for free.
        await this.store.audit.append({
          actor: user.username,
          action: 'auth.totp_required',
          subject,
          details: { ...details, failedAttempts: attempt.failedAttempts },
          time,
        });
        throw new AuthError('a TOTP code is required', 'TOTP_REQUIRED');
      }
      const totp = await this.checkTotp(user, input.totp, time);
      ok = totp === 'ok';
      reason = totp === 'reused' ? 'TOTP code already used' : 'bad TOTP code';
    }
    if (!ok) {
      const lock = attempt.failedAttempts >= this.policy.maxFailedAttempts;
      if (lock) await this.store.users.lock(user.id, time + this.policy.lockoutMs, time);
      this.limiter.fail(source, time);
      await this.store.audit.append({
        actor: user.username,
        action: lock ? 'auth.lockout' : 'auth.login_failed',
        subject,
        details: { ...details, reason, failedAttempts: attempt.failedAttempts },
        time,
      });
      throw new AuthError('invalid username or password', 'BAD_CREDENTIALS');
    }
    await this.store.users.recordSuccess(user.id, time);
    this.limiter.succeed(source);
    const params = this.opts.passwordHash ?? DEFAULT_PASSWORD_HASH;
    if (hashIsWeaker(user.passwordHash, params)) {
      // Hashes made with older, cheaper settings are upgraded while the password is at hand.
      await this.store.users.update(user.id, { passwordHash: await hashPassword(input.password, params) }, time);
    }
    const tokens = await this.issue(user, randomUUID(), time, time);
    await this.store.audit.append({ actor: user.username, action: 'auth.login', subject, details, time });
    return tokens;
  }

  /** Clears an account's failures and lockout (the owner, locally: `tradeforge users unlock`). */
  async unlockUser(username: string, actor: string): Promise<void> {
    const user = await this.store.users.byUsername(username);
    if (!user) throw new ValidationError(`no user "${username}"`, 'username');
    const time = this.now();
    await this.store.users.unlock(user.id, time);
    await this.store.audit.append({ actor, action: 'auth.unlock', subject: `user:${username}`, time });
  }

  private async checkTotp(user: UserRecord, code: string, time: number): Promise<'ok' | 'bad' | 'reused'> {
    const vault = this.opts.vault;
    if (!vault) throw new AuthError('TOTP is enabled but the vault is not unlocked', 'VAULT_LOCKED');
    const step = await vault.withSecret(
      totpSecretName(user.id),
      (s) => matchTotp(base32Decode(s), code, time),
      user.username,
      'totp',
    );
    if (step === undefined) return 'bad';
    // Each time step is accepted once: a code seen by someone else cannot be replayed within its window.
    return (await this.store.users.consumeTotpStep(user.id, step)) ? 'ok' : 'reused';
  }

  private async issue(user: UserRecord, familyId: string, time: number, familyStart: number): Promise<SessionTokens> {
    const accessToken = newToken('tfa');
    const refreshToken = newToken('tfr');
    const refreshExpiresAt = Math.min(time + this.policy.refreshTtlMs, familyStart + this.policy.sessionMaxMs);
    const accessExpiresAt = Math.min(time + this.policy.accessTtlMs, refreshExpiresAt);
    await this.store.sessions.insert({
      id: randomUUID(),
      user_id: user.id,
      family_id: familyId,
      access_hash: tokenHash(accessToken),
      access_expires_at: accessExpiresAt,
      refresh_hash: tokenHash(refreshToken),
      refresh_expires_at: refreshExpiresAt,
      created_at: time,
      rotated_at: null,
      revoked_at: null,
      revoke_reason: null,
    });
    return { accessToken, refreshToken, accessExpiresAt, refreshExpiresAt, user: publicUser(user) };
  }

  /** Resolves an access token to its user; throws AuthError when unknown, expired, rotated or revoked. */
  async authenticate(accessToken: string): Promise<Principal> {
    const s = await this.store.sessions.byAccessHash(tokenHash(accessToken));
    const time = this.now();
    if (!s || s.revoked_at !== null || s.rotated_at !== null)
      throw new AuthError('invalid or revoked access token', 'BAD_TOKEN');
    if (Number(s.access_expires_at) <= time) throw new AuthError('access token expired', 'TOKEN_EXPIRED');
    const user = await this.store.users.byId(s.user_id);
    if (!user) throw new AuthError('invalid access token', 'BAD_TOKEN');
    return { ...publicUser(user), sessionId: s.id, familyId: s.family_id };
  }

  /** Exchanges a refresh token for new tokens. A reused (already rotated) token revokes the whole family. */
  async refresh(refreshToken: string): Promise<SessionTokens> {
    const time = this.now();
    const s = await this.store.sessions.byRefreshHash(tokenHash(refreshToken));
    if (!s) throw new AuthError('invalid refresh token', 'BAD_TOKEN');
    if (s.revoked_at !== null) throw new AuthError('session revoked', 'BAD_TOKEN');
    const reuse = async (): Promise<never> => {
      await this.store.sessions.revokeFamily(s.family_id, 'refresh token reuse', time);
      await this.store.audit.append({
        actor: s.user_id,
        action: 'auth.refresh_reuse',
        subject: `session:${s.family_id}`,
        details: { sessionId: s.id },
        time,
      });
      throw new AuthError('refresh token already used: the session was revoked', 'TOKEN_REUSE');
    };
    if (s.rotated_at !== null) return reuse();
    if (Number(s.refresh_expires_at) <= time) throw new AuthError('refresh token expired', 'TOKEN_EXPIRED');
    const familyStart = Number((await this.store.sessions.family(s.family_id))[0]?.created_at ?? s.created_at);
    if (time >= familyStart + this.policy.sessionMaxMs) {
      await this.store.sessions.revokeFamily(s.family_id, 'maximum session lifetime', time);
      throw new AuthError('the session reached its maximum lifetime: log in again', 'TOKEN_EXPIRED');
    }
    if (!(await this.store.sessions.markRotated(s.id, time))) return reuse();
    const user = await this.store.users.byId(s.user_id);
    if (!user) throw new AuthError('invalid refresh token', 'BAD_TOKEN');
    return this.issue(user, s.family_id, time, familyStart);
  }

  /** Ends the session family of an access token. */
  async logout(accessToken: string): Promise<void> {
    const s = await this.store.sessions.byAccessHash(tokenHash(accessToken));
    if (!s) return;
    const time = this.now();
    await this.store.sessions.revokeFamily(s.family_id, 'logout', time);
    await this.store.audit.append({ actor: s.user_id, action: 'auth.logout', subject: `session:${s.family_id}`, time });
  }

  /** Starts TOTP enrolment: stores a new secret in the vault; enabled only after `confirmTotp`. */
  async beginTotp(userId: string): Promise<{ secret: string; uri: string }> {
    const vault = this.opts.vault;
    if (!vault) throw new AuthError('TOTP needs an unlocked vault', 'VAULT_LOCKED');
    const user = await this.store.users.byId(userId);
    if (!user) throw new ValidationError(`no user ${userId}`, 'userId');
    const secret = generateTotpSecret();
    const b32 = base32Encode(secret);
    await vault.set(totpSecretName(user.id), b32, user.username);
    return { secret: b32, uri: otpauthUri(secret, user.username) };
  }

  /** Enables TOTP once the user proves the authenticator shows the right code. */
  async confirmTotp(userId: string, code: string): Promise<void> {
    const user = await this.store.users.byId(userId);
    if (!user) throw new ValidationError(`no user ${userId}`, 'userId');
    const time = this.now();
    if ((await this.checkTotp(user, code, time)) !== 'ok') throw new AuthError('wrong TOTP code', 'BAD_TOTP');
    await this.store.users.update(user.id, { totpEnabled: true }, time);
    await this.store.audit.append({
      actor: user.username,
      action: 'auth.totp_enabled',
      subject: `user:${user.username}`,
      time,
    });
  }
}
