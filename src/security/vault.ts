import { randomBytes } from 'node:crypto';
import { AuthError, ValidationError } from '../core/errors.js';
import type { SecretInfo } from '../store/repositories/secrets.js';
import type { Store } from '../store/store.js';
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

/** Reads the unlock material from the environment: TRADEFORGE_MASTER_KEY, else TRADEFORGE_PASSWORD. */
export function unlockFromEnv(env: Record<string, string | undefined> = process.env): Unlock | undefined {
  if (env.TRADEFORGE_MASTER_KEY) return { masterKey: env.TRADEFORGE_MASTER_KEY };
  if (env.TRADEFORGE_PASSWORD) return { password: env.TRADEFORGE_PASSWORD };
  return undefined;
}

async function keyEncryptionKey(unlock: Unlock, salt: Buffer, kdf: KdfParams): Promise<{ kek: Buffer; mode: string }> {
  if ('masterKey' in unlock) {
    const k = Buffer.isBuffer(unlock.masterKey) ? Buffer.from(unlock.masterKey) : parseMasterKey(unlock.masterKey);
    if (k.length !== 32) throw new ValidationError('the master key must be 32 bytes', 'masterKey');
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
    private keyVersion: number,
    private currentMode: 'password' | 'master',
    private readonly redactor: Redactor,
    private readonly now: () => number,
  ) {}

  /** Creates a new vault (fails if one exists). */
  static async create(store: Store, unlock: Unlock, opts: VaultOptions = {}): Promise<Vault> {
    const kdf: KdfParams = { ...DEFAULT_KDF, ...opts.kdf, algorithm: 'argon2id' };
    const salt = randomBytes(16);
    const { kek, mode } = await keyEncryptionKey(unlock, salt, kdf);
    const dataKey = randomBytes(32);
    const auditKey = randomBytes(32);
    const now = opts.now ?? Date.now;
    try {
      await store.vaultMeta.create({
        mode,
        kdf: JSON.stringify(kdf),
        salt: salt.toString('base64'),
        wrapped_data_key: seal(kek, dataKey, DATA_KEY_AAD),
        wrapped_audit_key: seal(dataKey, auditKey, AUDIT_KEY_AAD),
        key_version: 1,
        created_at: now(),
        rotated_at: null,
      });
    } catch (err) {
      if (await vaultExists(store)) throw new AuthError('a vault already exists in this store', 'VAULT_EXISTS');
      throw err;
    } finally {
      kek.fill(0);
    }
    const v = new Vault(store, dataKey, auditKey, 1, mode as Vault['mode'], opts.redactor ?? defaultRedactor, now);
    store.audit.setKey(auditKey);
    await store.audit.append({
      actor: 'system',
      action: 'vault.create',
      subject: 'vault',
      details: { mode },
      time: now(),
    });
    return v;
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
    const v = new Vault(
      store,
      dataKey,
      auditKey,
      Number(meta.key_version),
      meta.mode as Vault['mode'],
      opts.redactor ?? defaultRedactor,
      opts.now ?? Date.now,
    );
    store.audit.setKey(auditKey);
    return v;
  }

  /** What protects the data key: the owner password or the master key. */
  get mode(): 'password' | 'master' {
    return this.currentMode;
  }

  /** The audit log's HMAC key (copy). */
  auditKey(): Buffer {
    this.assertOpen();
    return Buffer.from(this.auditKeyBytes);
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
    const existing = await this.store.secrets.getRow(name);
    try {
      await this.store.secrets.put({
        name,
        ciphertext: seal(this.dataKey, plain, name),
        key_version: this.keyVersion,
        created_at: existing ? Number(existing.created_at) : time,
        updated_at: time,
        last_used_at: existing?.last_used_at ?? null,
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
    const version = this.keyVersion + 1;
    const time = this.now();
    let count = 0;
    try {
      await this.store.transaction(async (tx) => {
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
        await tx.vaultMeta.replace({
          mode,
          kdf: JSON.stringify(params),
          salt: salt.toString('base64'),
          wrapped_data_key: seal(kek, newKey, DATA_KEY_AAD),
          wrapped_audit_key: seal(newKey, this.auditKeyBytes, AUDIT_KEY_AAD),
          key_version: version,
          rotated_at: time,
        });
      });
    } finally {
      kek.fill(0);
    }
    this.dataKey.fill(0);
    this.dataKey = newKey;
    this.keyVersion = version;
    this.currentMode = mode as Vault['mode'];
    await this.store.audit.append({
      actor,
      action: 'vault.rotate',
      subject: 'vault',
      details: { secrets: count, version, mode },
      time,
    });
    return { secrets: count, version };
  }

  /** Forgets the keys (the store's audit log stops accepting appends). */
  lock(): void {
    this.dataKey.fill(0);
    this.auditKeyBytes.fill(0);
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
