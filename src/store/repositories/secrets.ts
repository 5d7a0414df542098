import type { Kysely } from 'kysely';
import type { Database, SecretsTable, VaultMetaTable } from '../schema.js';
import { fromExcluded } from './upsert.js';

/** Secret names and usage, never values. */
export interface SecretInfo {
  name: string;
  keyVersion: number;
  createdAt: number;
  updatedAt: number;
  lastUsedAt?: number;
}

/** Encrypted secrets (ciphertext only) and their metadata. */
export class SecretsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a secret's ciphertext (insert or replace, keeping created_at). */
  async put(row: SecretsTable): Promise<void> {
    await this.db
      .insertInto('secrets')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet(fromExcluded<SecretsTable>(['ciphertext', 'key_version', 'updated_at'])),
      )
      .execute();
  }

  /** The encrypted row of one secret. */
  async getRow(name: string): Promise<SecretsTable | undefined> {
    return this.db.selectFrom('secrets').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Every encrypted row (rotation). */
  async allRows(): Promise<SecretsTable[]> {
    return this.db.selectFrom('secrets').selectAll().orderBy('name').execute();
  }

  /** Names and usage metadata. */
  async list(): Promise<SecretInfo[]> {
    const rows = await this.db
      .selectFrom('secrets')
      .select(['name', 'key_version', 'created_at', 'updated_at', 'last_used_at'])
      .orderBy('name')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      keyVersion: Number(r.key_version),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
      ...(r.last_used_at !== null ? { lastUsedAt: Number(r.last_used_at) } : {}),
    }));
  }

  /** Records a read. */
  async touch(name: string, time: number): Promise<void> {
    await this.db.updateTable('secrets').set({ last_used_at: time }).where('name', '=', name).execute();
  }

  /** Deletes a secret; returns whether it existed. */
  async delete(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

/** The vault's single key record. */
export class VaultMetaRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The key record, if the vault was initialised. */
  async get(): Promise<VaultMetaTable | undefined> {
    return this.db.selectFrom('vault_meta').selectAll().where('id', '=', 1).executeTakeFirst();
  }

  /** Creates the key record (fails if one exists, so two initialisations cannot race). */
  async create(row: Omit<VaultMetaTable, 'id'>): Promise<void> {
    await this.db
      .insertInto('vault_meta')
      .values({ id: 1, ...row })
      .execute();
  }

  /** Replaces the wrapped keys after a rotation. */
  async replace(row: Omit<VaultMetaTable, 'id' | 'created_at'>): Promise<void> {
    await this.db.updateTable('vault_meta').set(row).where('id', '=', 1).execute();
  }
}
