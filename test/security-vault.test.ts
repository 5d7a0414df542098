import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthError } from '../src/core/errors.js';
import { parseMasterKey, Redactor, REDACTED, Vault, openVault } from '../src/security/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { backends } from './fixtures/store/backends.js';

// Cheap Argon2id parameters keep these tests fast; the default parameters are exercised in one test below.
const FAST_KDF = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const PASSWORD = 'Correct-Horse-42-battery';

const homes: string[] = [];
function tempHome(): string {
  const h = mkdtempSync(join(tmpdir(), 'tf-vault-'));
  homes.push(h);
  return h;
}
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe('vault on SQLite (raw file checks)', () => {
  it('keeps no plaintext of a stored secret in the database, WAL or shm files', async () => {
    const home = tempHome();
    const store = await openStore({ home });
    const secret = `sk-live-${randomBytes(12).toString('hex')}`;
    const vault = await Vault.create(store, { password: PASSWORD }, { kdf: FAST_KDF, redactor: new Redactor() });
    await vault.set('exchange.binance.secret', secret);
    await vault.set('llm.openai.key', `${secret}-other`);
    expect(await vault.get('exchange.binance.secret')).toBe(secret);
    // Check while the WAL still holds the recent pages, then again after close (checkpointed into the main file).
    const files = () =>
      ['tradeforge.db', 'tradeforge.db-wal', 'tradeforge.db-shm'].map((f) => join(home, f)).filter(existsSync);
    const needle = Buffer.from(secret);
    const needle16 = Buffer.from(secret, 'utf16le');
    // The scan must be able to see stored text at all: the secret's name is stored in clear.
    let nameSeen = false;
    for (const f of files()) {
      const bytes = readFileSync(f);
      expect(bytes.includes(needle), f).toBe(false);
      expect(bytes.includes(needle16), f).toBe(false);
      if (bytes.includes(Buffer.from('exchange.binance.secret'))) nameSeen = true;
    }
    expect(nameSeen).toBe(true);
    await store.close();
    for (const f of files()) expect(readFileSync(f).includes(needle), f).toBe(false);
  });

  it('cannot decrypt with a wrong password or master key (default Argon2id parameters)', async () => {
    const store = await openStore({ home: tempHome() });
    const vault = await Vault.create(store, { password: PASSWORD }, { redactor: new Redactor() });
    await vault.set('telegram.token', '123456:secret-token-value');
    vault.lock();
    await expect(Vault.unlock(store, { password: 'Correct-Horse-42-batterY' })).rejects.toThrow(/wrong password/);
    await expect(Vault.unlock(store, { masterKey: randomBytes(32) })).rejects.toThrow(AuthError);
    const again = await Vault.unlock(store, { password: PASSWORD }, { redactor: new Redactor() });
    expect(await again.get('telegram.token')).toBe('123456:secret-token-value');
    const meta = await store.vaultMeta.get();
    expect(JSON.parse(meta?.kdf ?? '{}')).toEqual({
      algorithm: 'argon2id',
      memoryCost: 65536,
      timeCost: 3,
      parallelism: 1,
    });
    await store.close();
  });

  it('binds each ciphertext to its name (a swapped ciphertext does not decrypt)', async () => {
    const store = await openStore({ home: tempHome() });
    const vault = await Vault.create(store, { masterKey: randomBytes(32) }, { redactor: new Redactor() });
    await vault.set('a.key', 'value-of-a');
    await vault.set('b.key', 'value-of-b');
    const a = await store.secrets.getRow('a.key');
    await store.db
      .updateTable('secrets')
      .set({ ciphertext: a?.ciphertext ?? '' })
      .where('name', '=', 'b.key')
      .execute();
    await expect(vault.get('b.key')).rejects.toThrow(/cannot decrypt secret b.key/);
    // Two writes of the same value never produce the same ciphertext (fresh nonce).
    await vault.set('a.key', 'value-of-a');
    expect((await store.secrets.getRow('a.key'))?.ciphertext).not.toBe(a?.ciphertext);
    await store.close();
  });

  it('accepts a master key as hex or base64 and rejects anything else', () => {
    const k = randomBytes(32);
    expect(parseMasterKey(k.toString('hex'))).toEqual(k);
    expect(parseMasterKey(k.toString('base64'))).toEqual(k);
    expect(() => parseMasterKey('short')).toThrow(/TRADEFORGE_MASTER_KEY/);
  });
});

for (const backend of backends()) {
  describe(`vault on ${backend.name}`, () => {
    let store: Store;
    afterAll(async () => {
      await store?.close();
      await backend.cleanup();
    });

    it('audits every read, tracks last use, rotates and keeps every secret readable', async () => {
      store = await backend.open();
      const redactor = new Redactor();
      let clock = 1_000_000;
      const now = () => clock;
      const vault = await openVault(store, { password: PASSWORD }, { kdf: FAST_KDF, redactor, now });
      const values: Record<string, string> = {};
      for (let i = 0; i < 5; i++) {
        values[`venue.k${i}`] = `secret-${i}-${randomBytes(8).toString('hex')}`;
        await vault.set(`venue.k${i}`, values[`venue.k${i}`], 'alice');
      }
      clock += 1000;
      const seen = await vault.withSecret('venue.k1', (v) => v.length, 'engine', 'sign request');
      expect(seen).toBe(values['venue.k1'].length);
      expect(redactor.redact({ msg: `sent ${values['venue.k1']}` }).msg).toBe(`sent ${REDACTED}`);
      const list = await vault.list();
      expect(list.map((s) => s.name)).toEqual(Object.keys(values));
      expect(list.find((s) => s.name === 'venue.k1')?.lastUsedAt).toBe(clock);
      expect(list.find((s) => s.name === 'venue.k2')?.lastUsedAt).toBeUndefined();
      expect(JSON.stringify(list)).not.toContain(values['venue.k1']);
      const reads = await store.audit.bySubjects(['secret:venue.k1']);
      expect(reads.map((r) => r.action)).toEqual(['secret.create', 'secret.read']);
      expect(JSON.parse(reads[1].details)).toEqual({ purpose: 'sign request' });
      expect(reads[1].actor).toBe('engine');

      const before = await store.secrets.allRows();
      const r = await vault.rotate({ password: PASSWORD }, 'alice');
      expect(r).toEqual({ secrets: 5, version: 2 });
      const after = await store.secrets.allRows();
      for (let i = 0; i < after.length; i++) {
        expect(after[i].ciphertext).not.toBe(before[i].ciphertext);
        expect(after[i].key_version).toBe(2);
      }
      for (const [name, v] of Object.entries(values)) expect(await vault.get(name)).toBe(v);

      // After rotation a fresh unlock (new salt, new wrapped key) still reads everything, and the audit chain holds.
      vault.lock();
      await expect(vault.get('venue.k0')).rejects.toThrow(/locked/);
      const reopened = await Vault.unlock(store, { password: PASSWORD }, { redactor });
      for (const [name, v] of Object.entries(values)) expect(await reopened.get(name)).toBe(v);
      // Rotation can also move to a new password; the old one stops working.
      await reopened.rotate({ password: 'Another-Pass-99-words' });
      await expect(Vault.unlock(store, { password: PASSWORD })).rejects.toThrow(/wrong password/);
      const third = await Vault.unlock(store, { password: 'Another-Pass-99-words' }, { redactor });
      expect(await third.get('venue.k4')).toBe(values['venue.k4']);
      expect(await store.audit.verify(third.auditKeyring())).toMatchObject({ ok: true, hmacChecked: true });
      // The audit key rotated with the vault: the newest key alone cannot vouch for the earlier segments.
      expect((await store.audit.verify(third.auditKey())).ok).toBe(false);
      expect(await third.delete('venue.k4')).toBe(true);
      await expect(third.get('venue.k4')).rejects.toThrow(/no secret named/);
      await expect(third.set('bad name!', 'x')).rejects.toThrow(/bad secret name/);
    });
  });
}
