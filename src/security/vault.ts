import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { readFileSync } from 'node:fs';
import { AuthError, ConfigError, ValidationError } from '../core/errors.js';
import type { SecretInfo } from '../store/repositories/secrets.js';
import type { AuditKey, AuditKeyring } from '../store/audit-log.js';
import type { Database } from '../store/schema.js';
import { createRepositories, type Store } from '../store/store.js';
import { withWriterLock } from '../store/write-lock.js';
import { open, seal } from './aead.js';
import { DEFAULT_KDF, deriveKey, type KdfParams, parseMasterKey } from './kdf.js';
import { defaultRedactor, type Redactor } from './redact.js';

/** How to unlock the vault: the owner's password, or a 32-byte master key (headless servers). */
export type Unlock = { password: string } | { masterKey: string | Buffer };

/** Options of vault creation/opening. */
export interface VaultOptions {
  /** Argon2id parameters for a new vault (ignored when opening an existing one). */
  kdf?: Partial<KdfParams>;
  /** Where revealed plaintexts are registered for masking (default: the process-wide redactor). */
  redactor?: Redactor;
  /** Clock (tests). */
  now?: () => number;
}

const DATA_KEY_AAD = 'tradeforge:vault:data-key';
const AUDIT_KEY_AAD = 'tradeforge:vault:audit-key';
// Retired audit keys are bound to their epoch, so one cannot be passed off as another.
const retiredAuditKeyAad = (epoch: number): string => `${AUDIT_KEY_AAD}:retired:${epoch}`;
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Checks a secret name (names are not secret, but they are AAD and appear in logs). */
export function validateSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new ValidationError(
      `bad secret name "${name}": use 1-128 letters, digits and . _ : / - (starting with a letter or digit)`,
      'name',
    );
  }
}

/** Environment variables that carry unlock material; scrubbed from process.env once read. */
export const SECRET_ENV_VARS = [
  'TRADEFORGE_MASTER_KEY',
  'TRADEFORGE_MASTER_KEY_FILE',
  'TRADEFORGE_PASSWORD',
  'TRADEFORGE_PASSWORD_FILE',
  'TRADEFORGE_NEW_PASSWORD',
  'TRADEFORGE_NEW_MASTER_KEY',
  'TRADEFORGE_NEW_USER_PASSWORD',
] as const;

let processUnlock: Unlock | undefined;

/** Reads a secret from a file or a file descriptor path (`/dev/fd/3`); one trailing newline is dropped. */
export function readSecretFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(name, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (!value) throw new ConfigError(name, `${path} is empty`);
  return value;
}

/**
 * Reads the unlock material: TRADEFORGE_MASTER_KEY(_FILE), else TRADEFORGE_PASSWORD(_FILE). A `_FILE` variable names
 * a file or file descriptor holding the value, which keeps it out of the environment. Read from process.env, the
 * variables are deleted afterwards (child processes do not inherit them) and the answer is kept for later calls.
 */
export function unlockFromEnv(env: Record<string, string | undefined> = process.env): Unlock | undefined {
  const own = env === process.env;
  if (own && processUnlock) return processUnlock;
  let u: Unlock | undefined;
  if (env.TRADEFORGE_MASTER_KEY) u = { masterKey: env.TRADEFORGE_MASTER_KEY };
  else if (env.TRADEFORGE_MASTER_KEY_FILE) {
    u = { masterKey: readSecretFile(env.TRADEFORGE_MASTER_KEY_FILE, 'TRADEFORGE_MASTER_KEY_FILE') };
  } else if (env.TRADEFORGE_PASSWORD) u = { password: env.TRADEFORGE_PASSWORD };
  else if (env.TRADEFORGE_PASSWORD_FILE) {
    u = { password: readSecretFile(env.TRADEFORGE_PASSWORD_FILE, 'TRADEFORGE_PASSWORD_FILE') };
  }
  if (own && u) {
    processUnlock = u;
    for (const k of [
      'TRADEFORGE_MASTER_KEY',
      'TRADEFORGE_MASTER_KEY_FILE',
      'TRADEFORGE_PASSWORD',
      'TRADEFORGE_PASSWORD_FILE',
    ]) {
      delete process.env[k];
    }
  }
  return u;
}

/** True when unlock material is configured (variables or files), without reading it. */
export function hasUnlockMaterial(env: Record<string, string | undefined> = process.env): boolean {
  return (
    (env === process.env && processUnlock !== undefined) ||
    Boolean(
      env.TRADEFORGE_MASTER_KEY ||
        env.TRADEFORGE_MASTER_KEY_FILE ||
        env.TRADEFORGE_PASSWORD ||
        env.TRADEFORGE_PASSWORD_FILE,
    )
  );
}

/**
 * Refuses a master key that is not random-looking: one byte repeated, a short repeating pattern, or few distinct
 * bytes (32 random bytes have about 28 distinct values; fewer than 12 happens by chance with negligible odds).
 */
export function assertMasterKeyEntropy(key: Buffer): void {
  let period = 0;
  for (let p = 1; p <= key.length / 2 && period === 0; p++) {
    let repeats = true;
    for (let i = p; i < key.length && repeats; i++) repeats = key[i] === key[i % p];
    if (repeats) period = p;
  }
  const distinct = new Set(key).size;
  if (period > 0 || distinct < 12) {
    throw new ValidationError(
      `the master key is not random (${period > 0 ? `a ${period}-byte pattern repeated` : `only ${distinct} distinct bytes`}): generate one with \`openssl rand -hex 32\``,
      'masterKey',
    );
  }
}

async function keyEncryptionKey(unlock: Unlock, salt: Buffer, kdf: KdfParams): Promise<{ kek: Buffer; mode: string }> {
  if ('masterKey' in unlock) {
    const k = Buffer.isBuffer(unlock.masterKey) ? Buffer.from(unlock.masterKey) : parseMasterKey(unlock.masterKey);
    if (k.length !== 32) throw new ValidationError('the master key must be 32 bytes', 'masterKey');
    assertMasterKeyEntropy(k);
    return { kek: k, mode: 'master' };
  }
  if (!unlock.password) throw new AuthError('a password is required to unlock the vault');
  return { kek: await deriveKey(unlock.password, salt, kdf), mode: 'password' };
}

/** True when the store holds a vault. */
export async function vaultExists(store: Store): Promise<boolean> {
  return (await store.vaultMeta.get()) !== undefined;
}

/**
 * The secret vault (SEC-1). Secrets are AES-256-GCM encrypted under a random data key (fresh 96-bit nonce per write,
 * the secret's name as associated data); the data key is wrapped by a key derived with Argon2id from the owner's
 * password, or by TRADEFORGE_MASTER_KEY. The vault also holds the audit log's HMAC key. Every read is audited.
 */
export class Vault {
  private locked = false;

  private constructor(
    private readonly store: Store,
    private dataKey: Buffer,
    private auditKeyBytes: Buffer,
    private ring: AuditKey[],
    private keyVersion: number,
    private currentMode: 'password' | 'master',
    private readonly redactor: Redactor,
    private readonly now: () => number,
  ) {}

  /**
   * Creates a new vault (fails if one exists). Its key record and the audit log's genesis record (`vault.create`,
   * record 1, signed with the new audit key) are written in one transaction.
   */
  static async create(store: Store, unlock: Unlock, opts: VaultOptions = {}): Promise<Vault> {
    const kdf: KdfParams = { ...DEFAULT_KDF, ...opts.kdf, algorithm: 'argon2id' };
    const salt = randomBytes(16);
    const { kek, mode } = await keyEncryptionKey(unlock, salt, kdf);
    const dataKey = randomBytes(32);
    const auditKey = randomBytes(32);
    const now = opts.now ?? Date.now;
    const time = now();
    let firstSeq = 1;
    try {
      await store.audit.switchKey(
        auditKey,
        1,
        { actor: 'system', action: 'vault.create', subject: 'vault', details: { mode, genesis: true, epoch: 1 }, time },
        async (tx, seq) => {
          firstSeq = seq;
          if (seq !== 1) {
            throw new AuthError(
              `the audit log already holds ${seq - 1} record(s) but no vault: a vault's genesis must be record 1`,
              'AUDIT_NOT_EMPTY',
            );
          }
          await createRepositories(tx).vaultMeta.create({
            mode,
            kdf: JSON.stringify(kdf),
            salt: salt.toString('base64'),
            wrapped_data_key: seal(kek, dataKey, DATA_KEY_AAD),
            wrapped_audit_key: seal(dataKey, auditKey, AUDIT_KEY_AAD),
            key_version: 1,
            created_at: time,
            rotated_at: null,
            audit_epoch: 1,
            audit_epoch_first_seq: seq,
          });
        },
      );
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (await vaultExists(store)) throw new AuthError('a vault already exists in this store', 'VAULT_EXISTS');
      throw err;
    } finally {
      kek.fill(0);
    }
    const ring = [{ epoch: 1, firstSeq, key: Buffer.from(auditKey) }];
    return new Vault(store, dataKey, auditKey, ring, 1, mode as Vault['mode'], opts.redactor ?? defaultRedactor, now);
  }

  /** Unlocks an existing vault; a wrong password or key throws AuthError. */
  static async unlock(store: Store, unlock: Unlock, opts: VaultOptions = {}): Promise<Vault> {
    const meta = await store.vaultMeta.get();
    if (!meta) throw new AuthError('no vault yet: store a secret or create the owner first', 'VAULT_MISSING');
    if ('masterKey' in unlock && meta.mode !== 'master') {
      throw new AuthError(
        'this vault is protected by the owner password, not a master key (set TRADEFORGE_PASSWORD)',
        'VAULT_MODE',
      );
    }
    if ('password' in unlock && meta.mode !== 'password') {
      throw new AuthError('this vault is protected by TRADEFORGE_MASTER_KEY, not a password', 'VAULT_MODE');
    }
    const kdf = JSON.parse(meta.kdf) as KdfParams;
    const { kek } = await keyEncryptionKey(unlock, Buffer.from(meta.salt, 'base64'), kdf);
    let dataKey: Buffer;
    try {
      dataKey = open(kek, meta.wrapped_data_key, DATA_KEY_AAD, 'the vault key');
    } catch {
      throw new AuthError('cannot unlock the vault: wrong password or master key', 'VAULT_UNLOCK');
    } finally {
      kek.fill(0);
    }
    const auditKey = open(dataKey, meta.wrapped_audit_key, AUDIT_KEY_AAD, 'the audit key');
    const epoch = Number(meta.audit_epoch);
    const ring: AuditKey[] = [];
    for (const r of await store.db.selectFrom('audit_keys').selectAll().orderBy('epoch').execute()) {
      const e = Number(r.epoch);
      ring.push({
        epoch: e,
        firstSeq: Number(r.first_seq),
        key: open(dataKey, r.wrapped_key, retiredAuditKeyAad(e), `retired audit key ${e}`),
      });
    }
    ring.push({ epoch, firstSeq: Number(meta.audit_epoch_first_seq), key: Buffer.from(auditKey) });
    const v = new Vault(
      store,
      dataKey,
      auditKey,
      ring,
      Number(meta.key_version),
      meta.mode as Vault['mode'],
      opts.redactor ?? defaultRedactor,
      opts.now ?? Date.now,
    );
    store.audit.setKey(auditKey, epoch, ring);
    return v;
  }

  /** What protects the data key: the owner password or the master key. */
  get mode(): 'password' | 'master' {
    return this.currentMode;
  }

  /** The audit log's current HMAC key (copy). */
  auditKey(): Buffer {
    this.assertOpen();
    return Buffer.from(this.auditKeyBytes);
  }

  /** Every audit key, retired ones included, to verify the whole chain (copies). */
  auditKeyring(): AuditKeyring {
    this.assertOpen();
    return this.ring.map((k) => ({ ...k, key: Buffer.from(k.key) }));
  }

  // Another process may have rotated the vault since this one unlocked it: a write under the retired data key
  // could never be decrypted again, so it is refused inside the writer-locked transaction.
  private async assertCurrentVersion(db: Kysely<Database>): Promise<void> {
    const meta = await db.selectFrom('vault_meta').select('key_version').where('id', '=', 1).executeTakeFirst();
    if (!meta || Number(meta.key_version) !== this.keyVersion) {
      throw new AuthError(
        `the vault was rotated by another process (key version ${meta ? Number(meta.key_version) : 'none'}, this process holds ${this.keyVersion}): unlock it again`,
        'VAULT_ROTATED',
      );
    }
  }

  /** Current data-key version (increments on rotation). */
  get version(): number {
    return this.keyVersion;
  }

  /** Stores (or replaces) a secret. */
  async set(name: string, value: string, actor = 'system'): Promise<void> {
    this.assertOpen();
    validateSecretName(name);
    if (value.length === 0) throw new ValidationError(`secret ${name}: the value is empty`, 'value');
    const plain = Buffer.from(value, 'utf8');
    const time = this.now();
    let existing: Awaited<ReturnType<Store['secrets']['getRow']>>;
    try {
      await withWriterLock(this.store.connection, async (tx) => {
        await this.assertCurrentVersion(tx);
        const repos = createRepositories(tx);
        existing = await repos.secrets.getRow(name);
        await repos.secrets.put({
          name,
          ciphertext: seal(this.dataKey, plain, name),
          key_version: this.keyVersion,
          created_at: existing ? Number(existing.created_at) : time,
          updated_at: time,
          last_used_at: existing?.last_used_at ?? null,
        });
      });
    } finally {
      plain.fill(0);
    }
    this.redactor.register(value);
    await this.store.audit.append({
      actor,
      action: existing ? 'secret.update' : 'secret.create',
      subject: `secret:${name}`,
      time,
    });
  }

  /** True when a secret of this name exists (not audited: reveals nothing). */
  async has(name: string): Promise<boolean> {
    return (await this.store.secrets.getRow(name)) !== undefined;
  }

  /** Reads a secret (audited as `secret.read`, last-used updated, value registered with the redactor). */
  async get(name: string, actor = 'system', purpose?: string): Promise<string> {
    const buf = await this.reveal(name, actor, purpose);
    try {
      return buf.toString('utf8');
    } finally {
      buf.fill(0);
    }
  }

  /** Calls `fn` with the plaintext and drops the decrypted buffer as soon as `fn` settles. */
  async withSecret<T>(
    name: string,
    fn: (value: string) => T | Promise<T>,
    actor = 'system',
    purpose?: string,
  ): Promise<T> {
    const buf = await this.reveal(name, actor, purpose);
    try {
      return await fn(buf.toString('utf8'));
    } finally {
      buf.fill(0);
    }
  }

  private async reveal(name: string, actor: string, purpose?: string): Promise<Buffer> {
    this.assertOpen();
    validateSecretName(name);
    const row = await this.store.secrets.getRow(name);
    if (!row) throw new ValidationError(`no secret named "${name}" in the vault`, 'name');
    if (Number(row.key_version) !== this.keyVersion) await this.assertCurrentVersion(this.store.db);
    const time = this.now();
    // Audit first: a read that cannot be recorded does not happen.
    await this.store.audit.append({
      actor,
      action: 'secret.read',
      subject: `secret:${name}`,
      details: purpose ? { purpose } : {},
      time,
    });
    const plain = open(this.dataKey, row.ciphertext, name, `secret ${name}`);
    await this.store.secrets.touch(name, time);
    this.redactor.register(plain.toString('utf8'));
    return plain;
  }

  /** Secret names and last use, never values. */
  async list(): Promise<SecretInfo[]> {
    return this.store.secrets.list();
  }

  /** Deletes a secret; returns whether it existed. */
  async delete(name: string, actor = 'system'): Promise<boolean> {
    this.assertOpen();
    validateSecretName(name);
    const existed = await this.store.secrets.delete(name);
    if (existed)
      await this.store.audit.append({ actor, action: 'secret.delete', subject: `secret:${name}`, time: this.now() });
    return existed;
  }

  /**
   * Rotates the data key: every secret and the audit key are re-encrypted under a fresh random data key, in one
   * transaction. With `newUnlock` the wrapping key changes too (new password, new master key, or a switch between
   * them); otherwise the current unlock material must be given again to re-wrap.
   */
  async rotate(
    currentOrNew: Unlock,
    actor = 'system',
    kdf?: Partial<KdfParams>,
  ): Promise<{ secrets: number; version: number }> {
    this.assertOpen();
    const meta = await this.store.vaultMeta.get();
    if (!meta) throw new AuthError('no vault to rotate', 'VAULT_MISSING');
    const params: KdfParams = { ...(JSON.parse(meta.kdf) as KdfParams), ...kdf, algorithm: 'argon2id' };
    const salt = randomBytes(16);
    const { kek, mode } = await keyEncryptionKey(currentOrNew, salt, params);
    const newKey = randomBytes(32);
    // The audit HMAC key rotates too; the retired one is kept (wrapped under the new data key) for verification.
    const newAuditKey = randomBytes(32);
    const version = this.keyVersion + 1;
    const epoch = this.ring[this.ring.length - 1].epoch + 1;
    const time = this.now();
    let count = 0;
    let firstSeq = 0;
    try {
      await this.store.audit.switchKey(
        newAuditKey,
        epoch,
        { actor, action: 'vault.rotate', subject: 'vault', details: { version, mode, epoch }, time },
        async (db, seq) => {
          firstSeq = seq;
          await this.assertCurrentVersion(db);
          const tx = createRepositories(db);
          for (const row of await tx.secrets.allRows()) {
            const plain = open(this.dataKey, row.ciphertext, row.name, `secret ${row.name}`);
            try {
              await tx.secrets.put({
                ...row,
                ciphertext: seal(newKey, plain, row.name),
                key_version: version,
                updated_at: time,
              });
            } finally {
              plain.fill(0);
            }
            count++;
          }
          const current = this.ring[this.ring.length - 1];
          await db.deleteFrom('audit_keys').execute();
          const retired = this.ring.map((k, i) => ({
            epoch: k.epoch,
            first_seq: k.firstSeq,
            last_seq: i + 1 < this.ring.length ? this.ring[i + 1].firstSeq - 1 : seq - 1,
            wrapped_key: seal(newKey, k === current ? this.auditKeyBytes : k.key, retiredAuditKeyAad(k.epoch)),
            retired_at: time,
          }));
          await db.insertInto('audit_keys').values(retired).execute();
          await tx.vaultMeta.replace({
            mode,
            kdf: JSON.stringify(params),
            salt: salt.toString('base64'),
            wrapped_data_key: seal(kek, newKey, DATA_KEY_AAD),
            wrapped_audit_key: seal(newKey, newAuditKey, AUDIT_KEY_AAD),
            key_version: version,
            rotated_at: time,
            audit_epoch: epoch,
            audit_epoch_first_seq: seq,
          });
        },
      );
    } finally {
      kek.fill(0);
    }
    this.dataKey.fill(0);
    this.dataKey = newKey;
    this.auditKeyBytes = newAuditKey;
    this.ring = [...this.ring, { epoch, firstSeq, key: Buffer.from(newAuditKey) }];
    this.keyVersion = version;
    this.currentMode = mode as Vault['mode'];
    return { secrets: count, version };
  }

  /** Forgets the keys (the store's audit log stops accepting appends). */
  lock(): void {
    this.dataKey.fill(0);
    this.auditKeyBytes.fill(0);
    for (const k of this.ring) k.key.fill(0);
    this.store.audit.setKey(undefined);
    this.locked = true;
  }

  private assertOpen(): void {
    if (this.locked) throw new AuthError('the vault is locked', 'VAULT_LOCKED');
  }
}

/** Opens the vault of a store: unlocks it, or creates it on first use. Attaches the audit key to the store. */
export async function openVault(store: Store, unlock: Unlock, opts: VaultOptions = {}): Promise<Vault> {
  if (await vaultExists(store)) return Vault.unlock(store, unlock, opts);
  return Vault.create(store, unlock, opts);
}
