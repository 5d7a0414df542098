import { type Kysely, sql } from 'kysely';
import type { Database, SessionsTable, UsersTable } from '../schema.js';

/** Roles a user may hold. */
export type Role = 'admin' | 'viewer';

/** A user as the application sees it (the password hash stays inside security/). */
export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  isOwner: boolean;
  totpEnabled: boolean;
  failedAttempts: number;
  lockedUntil?: number;
  createdAt: number;
  updatedAt: number;
  lastLoginAt?: number;
}

function rowToUser(r: UsersTable): UserRecord {
  const u: UserRecord = {
    id: r.id,
    username: r.username,
    passwordHash: r.password_hash,
    role: r.role as Role,
    isOwner: r.is_owner === 1,
    totpEnabled: r.totp_enabled === 1,
    failedAttempts: Number(r.failed_attempts),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
  if (r.locked_until !== null) u.lockedUntil = Number(r.locked_until);
  if (r.last_login_at !== null) u.lastLoginAt = Number(r.last_login_at);
  return u;
}

/** Users and their login state. */
export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a user. */
  async insert(u: UserRecord): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: u.id,
        username: u.username,
        password_hash: u.passwordHash,
        role: u.role,
        is_owner: u.isOwner ? 1 : 0,
        totp_enabled: u.totpEnabled ? 1 : 0,
        failed_attempts: u.failedAttempts,
        locked_until: u.lockedUntil ?? null,
        created_at: u.createdAt,
        updated_at: u.updatedAt,
        last_login_at: u.lastLoginAt ?? null,
        totp_last_step: null,
      })
      .execute();
  }

  /** A user by username. */
  async byUsername(username: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return r ? rowToUser(r) : undefined;
  }

  /** A user by id. */
  async byId(id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? rowToUser(r) : undefined;
  }

  /** Every user. */
  async list(): Promise<UserRecord[]> {
    return (await this.db.selectFrom('users').selectAll().orderBy('username').execute()).map(rowToUser);
  }

  /** True when an owner account exists. */
  async hasOwner(): Promise<boolean> {
    const r = await this.db.selectFrom('users').select('id').where('is_owner', '=', 1).executeTakeFirst();
    return r !== undefined;
  }

  /** Records a failed login; returns the new count. */
  async recordFailure(id: string, failedAttempts: number, lockedUntil: number | null, time: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ failed_attempts: failedAttempts, locked_until: lockedUntil, updated_at: time })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Counts one login attempt as a failure before the password is checked, atomically (so parallel attempts cannot
   * all see the same count). An expired lock starts a new count. Returns the count and lock after this attempt.
   */
  async countAttempt(id: string, time: number): Promise<{ failedAttempts: number; lockedUntil?: number }> {
    const r = await this.db
      .updateTable('users')
      .set({
        failed_attempts: sql<number>`CASE WHEN locked_until IS NOT NULL AND locked_until <= ${time} THEN 1 ELSE failed_attempts + 1 END`,
        locked_until: sql<
          number | null
        >`CASE WHEN locked_until IS NOT NULL AND locked_until <= ${time} THEN NULL ELSE locked_until END`,
        updated_at: time,
      })
      .where('id', '=', id)
      .returning(['failed_attempts', 'locked_until'])
      .executeTakeFirstOrThrow();
    return {
      failedAttempts: Number(r.failed_attempts),
      ...(r.locked_until !== null ? { lockedUntil: Number(r.locked_until) } : {}),
    };
  }

  /** Locks an account until `until` unless it is already locked. */
  async lock(id: string, until: number, time: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ locked_until: until, updated_at: time })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', time)]))
      .execute();
  }

  /** Clears failures and lockout (the owner's local `users unlock`). Returns whether the user exists. */
  async unlock(id: string, time: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ failed_attempts: 0, locked_until: null, updated_at: time })
      .where('id', '=', id)
      .execute();
  }

  /** Marks a TOTP time step used; false when it (or a later one) was used already: each code works once. */
  async consumeTotpStep(id: string, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ totp_last_step: step })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Records a successful login (clears failures and lockout). */
  async recordSuccess(id: string, time: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ failed_attempts: 0, locked_until: null, last_login_at: time, updated_at: time })
      .where('id', '=', id)
      .execute();
  }

  /** Changes role, password hash or TOTP flag. */
  async update(
    id: string,
    patch: { role?: Role; passwordHash?: string; totpEnabled?: boolean },
    time: number,
  ): Promise<void> {
    await this.db
      .updateTable('users')
      .set({
        ...(patch.role !== undefined ? { role: patch.role } : {}),
        ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
        ...(patch.totpEnabled !== undefined ? { totp_enabled: patch.totpEnabled ? 1 : 0 } : {}),
        updated_at: time,
      })
      .where('id', '=', id)
      .execute();
  }
}

/** A session row (one link in a refresh-token family). */
export type SessionRecord = SessionsTable;

/** Sessions: hashed access and refresh tokens, grouped into rotation families. */
export class SessionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a new session link. */
  async insert(s: SessionRecord): Promise<void> {
    await this.db.insertInto('sessions').values(s).execute();
  }

  /** The session whose access token hashes to `hash`. */
  async byAccessHash(hash: string): Promise<SessionRecord | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('access_hash', '=', hash).executeTakeFirst();
  }

  /** The session whose refresh token hashes to `hash`. */
  async byRefreshHash(hash: string): Promise<SessionRecord | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('refresh_hash', '=', hash).executeTakeFirst();
  }

  /**
   * Marks a link rotated, only if it has not been rotated or revoked yet. Returns false when another request won
   * the race (which the caller treats as refresh-token reuse).
   */
  async markRotated(id: string, time: number): Promise<boolean> {
    const r = await this.db
      .updateTable('sessions')
      .set({ rotated_at: time })
      .where('id', '=', id)
      .where('rotated_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Revokes every link of a family. */
  async revokeFamily(familyId: string, reason: string, time: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: time, revoke_reason: reason })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Revokes every session of a user (password change, user removed). */
  async revokeUser(userId: string, reason: string, time: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: time, revoke_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Links of a family, oldest first. */
  async family(familyId: string): Promise<SessionRecord[]> {
    return this.db.selectFrom('sessions').selectAll().where('family_id', '=', familyId).orderBy('created_at').execute();
  }
}
