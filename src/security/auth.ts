import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AuthError, ValidationError } from '../core/errors.js';
import type { Role, UserRecord } from '../store/repositories/auth.js';
import type { Store } from '../store/store.js';
import { assertStrongPassword, hashPassword, type PasswordHashParams, verifyPassword } from './passwords.js';
import { base32Decode, base32Encode, generateTotpSecret, otpauthUri, verifyTotp } from './totp.js';
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
}

/** Default policy. */
export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  accessTtlMs: 15 * 60_000,
  refreshTtlMs: 7 * 24 * 3600_000,
  maxFailedAttempts: 5,
  lockoutMs: 15 * 60_000,
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

  constructor(
    private readonly store: Store,
    private readonly opts: AuthServiceOptions = {},
  ) {
    this.policy = { ...DEFAULT_AUTH_POLICY, ...opts.policy };
    this.now = opts.now ?? Date.now;
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

  /** Logs in; returns fresh tokens. Throws AuthError (LOCKED when locked out, TOTP_REQUIRED when a code is needed). */
  async login(input: { username: string; password: string; totp?: string; ip?: string }): Promise<SessionTokens> {
    const time = this.now();
    const subject = `user:${input.username}`;
    const details = input.ip ? { ip: input.ip } : {};
    const user = await this.store.users.byUsername(input.username);
    if (!user) {
      dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.opts.passwordHash);
      await verifyPassword(await dummyHash, input.password);
      await this.store.audit.append({
        actor: input.username,
        action: 'auth.login_failed',
        subject,
        details: { ...details, reason: 'unknown user' },
        time,
      });
      throw new AuthError('invalid username or password', 'BAD_CREDENTIALS');
    }
    if (user.lockedUntil !== undefined && user.lockedUntil > time) {
      await this.store.audit.append({ actor: user.username, action: 'auth.login_locked', subject, details, time });
      throw new AuthError(
        `account locked after too many failed logins; try again after ${new Date(user.lockedUntil).toISOString()}`,
        'LOCKED',
      );
    }
    let ok = await verifyPassword(user.passwordHash, input.password);
    let reason = 'bad password';
    if (ok && user.totpEnabled) {
      if (!input.totp) {
        // The password was right: do not count a failure, but do not issue tokens either.
        throw new AuthError('a TOTP code is required', 'TOTP_REQUIRED');
      }
      ok = await this.checkTotp(user, input.totp, time);
      reason = 'bad TOTP code';
    }
    if (!ok) {
      const prior = user.lockedUntil !== undefined && user.lockedUntil <= time ? 0 : user.failedAttempts;
      const failed = prior + 1;
      const lockedUntil = failed >= this.policy.maxFailedAttempts ? time + this.policy.lockoutMs : null;
      await this.store.users.recordFailure(user.id, failed, lockedUntil, time);
      await this.store.audit.append({
        actor: user.username,
        action: lockedUntil ? 'auth.lockout' : 'auth.login_failed',
        subject,
        details: { ...details, reason, failedAttempts: failed },
        time,
      });
      throw new AuthError('invalid username or password', 'BAD_CREDENTIALS');
    }
    await this.store.users.recordSuccess(user.id, time);
    const tokens = await this.issue(user, randomUUID(), time);
    await this.store.audit.append({ actor: user.username, action: 'auth.login', subject, details, time });
    return tokens;
  }

  private async checkTotp(user: UserRecord, code: string, time: number): Promise<boolean> {
    const vault = this.opts.vault;
    if (!vault) throw new AuthError('TOTP is enabled but the vault is not unlocked', 'VAULT_LOCKED');
    return vault.withSecret(
      totpSecretName(user.id),
      (s) => verifyTotp(base32Decode(s), code, time),
      user.username,
      'totp',
    );
  }

  private async issue(user: UserRecord, familyId: string, time: number): Promise<SessionTokens> {
    const accessToken = newToken('tfa');
    const refreshToken = newToken('tfr');
    const accessExpiresAt = time + this.policy.accessTtlMs;
    const refreshExpiresAt = time + this.policy.refreshTtlMs;
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
    if (!(await this.store.sessions.markRotated(s.id, time))) return reuse();
    const user = await this.store.users.byId(s.user_id);
    if (!user) throw new AuthError('invalid refresh token', 'BAD_TOKEN');
    return this.issue(user, s.family_id, time);
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
    if (!(await this.checkTotp(user, code, time))) throw new AuthError('wrong TOTP code', 'BAD_TOTP');
    await this.store.users.update(user.id, { totpEnabled: true }, time);
    await this.store.audit.append({
      actor: user.username,
      action: 'auth.totp_enabled',
      subject: `user:${user.username}`,
      time,
    });
  }
}
