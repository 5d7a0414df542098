import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { TradeforgeError } from '../core/errors.js';
import { canonicalJson } from './canonical-json.js';
import type { Connection } from './db.js';
import { withDbRole } from './row-security.js';
import type { AuditEventsTable, Database } from './schema.js';
import { withWriterLock } from './write-lock.js';

/** prevHash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);
const HEAD_KEY = 'audit.head';

/** What a caller records; the log adds seq, time (if absent), the chain hashes and the HMAC. */
export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  details?: unknown;
  time?: number;
}

/** A stored audit record. */
export interface AuditRecord {
  seq: number;
  time: number;
  actor: string;
  action: string;
  subject: string;
  /** Canonical JSON text, exactly as hashed. */
  details: string;
  prevHash: string;
  hash: string;
  hmac: string;
}

/** One audit HMAC key and the records it signs (from `firstSeq` until the next key's `firstSeq`). */
export interface AuditKey {
  epoch: number;
  firstSeq: number;
  key: Buffer;
}

/** Every audit key of a vault, oldest first (the vault rotates the key; earlier segments stay verifiable). */
export type AuditKeyring = readonly AuditKey[];

/** The chain head stored in `kv` after every append; its HMAC covers every field. */
export interface AuditHead {
  seq: number;
  hash: string;
  /** Records in the chain (equal to seq: sequence numbers have no gaps). */
  count: number;
  /** Key epoch that signed the head: it only grows, so a head from before a rotation is refused. */
  epoch: number;
  time: number;
  hmac: string;
}

/** How to verify. */
export interface AuditVerifyOptions {
  /**
   * Check the hash chain only, without HMACs. Only an explicit choice: without keys and without this flag, verify
   * fails, because a re-chained log passes a hash-only check.
   */
  hashOnly?: boolean;
}

/** Outcome of walking the chain. */
export interface AuditVerifyResult {
  ok: boolean;
  /** Records checked. */
  checked: number;
  /** Whether HMACs were checked (needs the audit key, i.e. an unlocked vault). */
  hmacChecked: boolean;
  /** The first broken or missing record (seq 0: the log as a whole, e.g. its genesis or the keys). */
  firstBad?: { seq: number; problem: string };
  /** The last record checked (for checkpoints). */
  last?: { seq: number; hash: string };
}

/** Action of the genesis record: the first record of every chain whose store has a vault. */
export const GENESIS_ACTION = 'vault.create';

/** The audit log refused or could not do something (locked, chain head changed). */
export class AuditError extends TradeforgeError {
  constructor(message: string) {
    super('AUDIT', message);
  }
}

/** The text that is hashed for a record: every field but the hashes, as canonical JSON. */
export function canonicalAuditRecord(
  r: Pick<AuditRecord, 'seq' | 'time' | 'actor' | 'action' | 'subject' | 'details'>,
): string {
  return canonicalJson({
    seq: r.seq,
    time: r.time,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details: r.details,
  });
}

/** hash = sha256(prevHash || canonical record), hex. */
export function auditHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/** hmac = HMAC-SHA256(auditKey, hash), hex. */
export function auditHmac(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(hash).digest('hex');
}

/** The HMAC of a head or checkpoint: it covers seq, hash, record count, key epoch and time, with a domain prefix. */
export function auditHeadHmac(key: Buffer, h: Omit<AuditHead, 'hmac'>, domain = 'head'): string {
  return auditHmac(
    key,
    `tradeforge:audit:${domain}:v2:${canonicalJson({ seq: h.seq, hash: h.hash, count: h.count, epoch: h.epoch, time: h.time })}`,
  );
}

/** Normalises a single key (epoch 1 from record 1) or a keyring, oldest first. */
export function toKeyring(keys: Buffer | AuditKeyring | undefined): AuditKeyring | undefined {
  if (keys === undefined) return undefined;
  if (Buffer.isBuffer(keys)) return [{ epoch: 1, firstSeq: 1, key: keys }];
  return [...keys].sort((a, b) => a.firstSeq - b.firstSeq);
}

/** The key that signs record `seq`. */
export function keyFor(ring: AuditKeyring, seq: number): AuditKey | undefined {
  let found: AuditKey | undefined;
  for (const k of ring) if (k.firstSeq <= seq) found = k;
  return found;
}

/** Parses a stored head; undefined when it is not a well-formed current-format head. */
export function parseAuditHead(text: string): AuditHead | undefined {
  try {
    const h = JSON.parse(text) as Partial<AuditHead>;
    const ints = [h.seq, h.count, h.epoch, h.time].every((n) => typeof n === 'number' && Number.isSafeInteger(n));
    if (!ints || typeof h.hash !== 'string' || typeof h.hmac !== 'string') return undefined;
    return h as AuditHead;
  } catch {
    return undefined;
  }
}

function rowToRecord(r: AuditEventsTable): AuditRecord {
  return {
    seq: Number(r.seq),
    time: Number(r.time),
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
    hmac: r.hmac,
  };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * Append-only, hash-chained, HMAC-signed audit log. Appends are serialised (one writer at a time, across processes);
 * the HMAC key comes from the vault, so appending needs an unlocked vault while verifying the chain does not.
 */
export class AuditLog {
  private key: Buffer | undefined;
  private epoch = 1;
  private ring: AuditKeyring | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * @param readRole PostgreSQL under row-level security: the role the history is read as (`SET LOCAL ROLE`), since
   * the application's own role sees the chain head alone (store/row-security.ts).
   */
  constructor(
    private readonly conn: Connection,
    private readonly readRole?: string,
  ) {}

  /** Runs a read of the history as `readRole` when one is set. */
  private read<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.readRole === undefined) return fn(this.conn.db);
    return withDbRole(this.conn.db, this.readRole, fn);
  }

  /**
   * Sets (or clears) the HMAC key; the vault calls this on unlock with its current key epoch and the whole keyring
   * (retired keys verify earlier segments). A bare key is epoch 1 from record 1.
   */
  setKey(key: Buffer | undefined, epoch = 1, ring?: AuditKeyring): void {
    this.key = key === undefined ? undefined : Buffer.from(key);
    this.epoch = epoch;
    this.ring = key === undefined ? undefined : (ring ?? [{ epoch, firstSeq: 1, key: Buffer.from(key) }]);
  }

  /** True when records can be appended. */
  get canAppend(): boolean {
    return this.key !== undefined;
  }

  /** The keys this log verifies with (undefined while locked). */
  keyring(): AuditKeyring | undefined {
    return this.ring;
  }

  /** Appends one record. */
  async append(entry: AuditEntry): Promise<AuditRecord> {
    const [rec] = await this.appendMany([entry]);
    return rec;
  }

  /** Appends records in order, in one transaction. */
  appendMany(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    return this.enqueue(() => this.doAppend(entries));
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job);
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * Starts signing with `key` as key `epoch` (vault creation: epoch 1; rotation: the next epoch). In one
   * writer-locked transaction: `work` runs (the vault writes its key record there, told the first sequence number of
   * the new key), then `entry` is appended as the first record signed with the new key and the head moves to the new
   * epoch. Nothing is appended under the old key afterwards.
   */
  switchKey(
    key: Buffer,
    epoch: number,
    entry: AuditEntry,
    work: (tx: Kysely<Database>, firstSeq: number) => Promise<void>,
  ): Promise<AuditRecord> {
    return this.enqueue(async () => {
      const rec = await withWriterLock(this.conn, async (tx) => {
        const last = await this.lastRecord(tx);
        await work(tx, (last?.seq ?? 0) + 1);
        const [r] = await this.writeRecords(tx, [entry], key, epoch, last);
        return r;
      });
      const earlier = epoch === 1 ? [] : (this.ring ?? []);
      this.setKey(key, epoch, [...earlier, { epoch, firstSeq: rec.seq, key: Buffer.from(key) }]);
      return rec;
    });
  }

  /** The last record's seq and hash (undefined while the log is empty). */
  async lastRecord(tx: Kysely<Database> = this.conn.db): Promise<{ seq: number; hash: string } | undefined> {
    const last = await tx
      .selectFrom('audit_events')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return last ? { seq: Number(last.seq), hash: last.hash } : undefined;
  }

  private async doAppend(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const key = this.key;
    if (key === undefined) throw new AuditError('the audit log is locked: unlock the vault to append records');
    if (entries.length === 0) return [];
    const epoch = this.epoch;
    return withWriterLock(this.conn, async (tx) => {
      // Another process may have rotated the key since this one unlocked: never sign with a retired key.
      const meta = await tx.selectFrom('vault_meta').select('audit_epoch').where('id', '=', 1).executeTakeFirst();
      if (meta && Number(meta.audit_epoch) !== epoch) {
        throw new AuditError(
          `the vault was rotated by another process (audit key epoch ${Number(meta.audit_epoch)}, this process holds ${epoch}): unlock the vault again`,
        );
      }
      return this.writeRecords(tx, entries, key, epoch, await this.lastRecord(tx));
    });
  }

  private async writeRecords(
    tx: Kysely<Database>,
    entries: readonly AuditEntry[],
    key: Buffer,
    epoch: number,
    last: { seq: number; hash: string } | undefined,
  ): Promise<AuditRecord[]> {
    let seq = last?.seq ?? 0;
    let prev = last?.hash ?? GENESIS_HASH;
    const out: AuditRecord[] = [];
    for (const e of entries) {
      seq += 1;
      const base = {
        seq,
        time: e.time ?? Date.now(),
        actor: e.actor,
        action: e.action,
        subject: e.subject,
        details: canonicalJson(e.details ?? {}),
      };
      const hash = auditHash(prev, canonicalAuditRecord(base));
      const rec: AuditRecord = { ...base, prevHash: prev, hash, hmac: auditHmac(key, hash) };
      out.push(rec);
      prev = hash;
    }
    await tx
      .insertInto('audit_events')
      .values(
        out.map((r) => ({
          seq: r.seq,
          time: r.time,
          actor: r.actor,
          action: r.action,
          subject: r.subject,
          details: r.details,
          prev_hash: r.prevHash,
          hash: r.hash,
          hmac: r.hmac,
        })),
      )
      .execute();
    const head = out[out.length - 1];
    await this.writeHead(tx, head, key, epoch);
    return out;
  }

  // The head lets verify notice records cut off the end of the chain, which the chain alone cannot. Its HMAC covers
  // the count and key epoch too; an old head written back is caught by the epoch after a rotation and by external
  // checkpoints (audit-checkpoint.ts) otherwise.
  private async writeHead(tx: Kysely<Database>, rec: AuditRecord, key: Buffer, epoch: number): Promise<void> {
    const body = { seq: rec.seq, hash: rec.hash, count: rec.seq, epoch, time: rec.time };
    const value = canonicalJson({ ...body, hmac: auditHeadHmac(key, body) });
    await tx
      .insertInto('kv')
      .values({ key: HEAD_KEY, value, updated_at: rec.time })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: rec.time }))
      .execute();
  }

  /** The stored chain head (undefined when missing or malformed). */
  async head(): Promise<AuditHead | undefined> {
    const row = await this.conn.db.selectFrom('kv').select('value').where('key', '=', HEAD_KEY).executeTakeFirst();
    return row ? parseAuditHead(row.value) : undefined;
  }

  /**
   * Walks the chain from the first record; stops at the first broken or missing one. HMACs are checked with the
   * keyring (default: the unlocked vault's); without keys verify fails unless `hashOnly` is chosen. When the store
   * has a vault, record 1 must be its genesis record and the head's epoch must be the vault's current key epoch.
   */
  async verify(
    keys: Buffer | AuditKeyring | undefined = this.ring,
    opts: AuditVerifyOptions = {},
  ): Promise<AuditVerifyResult> {
    const ring = opts.hashOnly ? undefined : toKeyring(keys);
    let expected = 1;
    let prev = GENESIS_HASH;
    let checked = 0;
    const hmacChecked = ring !== undefined;
    const fail = (seq: number, problem: string): AuditVerifyResult => ({
      ok: false,
      checked,
      hmacChecked,
      firstBad: { seq, problem },
    });
    if (!ring && !opts.hashOnly) {
      return fail(0, 'HMACs cannot be checked: no audit key (unlock the vault, or choose a hash-only check)');
    }
    const vault = await this.conn.db
      .selectFrom('vault_meta')
      .select(['audit_epoch', 'audit_epoch_first_seq'])
      .where('id', '=', 1)
      .executeTakeFirst();
    for await (const r of this.iterate()) {
      if (r.seq !== expected) {
        if (r.seq > expected) {
          const gap = r.seq - 1 > expected ? `records ${expected}..${r.seq - 1} are` : `record ${expected} is`;
          return fail(expected, `${gap} missing (deleted); the next record present is ${r.seq}`);
        }
        return fail(r.seq, `record ${r.seq} is out of order (expected ${expected})`);
      }
      if (r.seq === 1 && vault && r.action !== GENESIS_ACTION) {
        return fail(
          1,
          `record 1 is "${r.action}", not the vault's genesis record "${GENESIS_ACTION}" (the log was replaced)`,
        );
      }
      if (r.prevHash !== prev) {
        return fail(
          r.seq,
          `record ${r.seq}: prevHash does not match record ${r.seq - 1}'s hash (a record was removed, inserted or reordered)`,
        );
      }
      if (auditHash(prev, canonicalAuditRecord(r)) !== r.hash) {
        return fail(r.seq, `record ${r.seq}: content does not match its hash (the record was modified)`);
      }
      if (ring !== undefined) {
        const k = keyFor(ring, r.seq);
        if (!k) return fail(r.seq, `record ${r.seq}: no audit key covers it (the vault's retired keys are missing)`);
        if (!sameHex(auditHmac(k.key, r.hash), r.hmac)) {
          return fail(r.seq, `record ${r.seq}: HMAC is invalid (the record was forged or the chain was rebuilt)`);
        }
      }
      prev = r.hash;
      expected += 1;
      checked += 1;
    }
    if (vault && checked === 0) {
      return fail(
        1,
        `the vault exists but the audit log is empty: its genesis record "${GENESIS_ACTION}" is gone (the log was deleted or truncated)`,
      );
    }
    const row = await this.conn.db.selectFrom('kv').select('value').where('key', '=', HEAD_KEY).executeTakeFirst();
    if (!row && checked > 0) {
      return fail(checked, 'the chain head checkpoint is missing (it is written with every append)');
    }
    if (row) {
      const h = parseAuditHead(row.value);
      if (!h) return fail(0, 'the chain head checkpoint is malformed or in an old format');
      if (ring !== undefined) {
        const k = ring.find((x) => x.epoch === h.epoch);
        const { hmac, ...body } = h;
        if (!k || !sameHex(auditHeadHmac(k.key, body), hmac)) {
          return fail(h.seq, `the chain head checkpoint (record ${h.seq}) has an invalid HMAC`);
        }
      }
      if (vault && h.epoch !== Number(vault.audit_epoch)) {
        return fail(
          h.seq,
          `the chain head checkpoint is from audit key epoch ${h.epoch} but the vault is at epoch ${Number(vault.audit_epoch)} (an old head was written back)`,
        );
      }
      if (h.count !== h.seq)
        return fail(h.seq, `the chain head checkpoint is inconsistent (count ${h.count}, seq ${h.seq})`);
      if (h.seq > checked) {
        return fail(checked + 1, `records ${checked + 1}..${h.seq} are missing from the end of the chain (deleted)`);
      }
      if (h.seq === checked && h.hash !== prev) {
        return fail(h.seq, `record ${h.seq}: does not match the chain head checkpoint`);
      }
      if (h.seq < checked) {
        return fail(
          h.seq + 1,
          `records ${h.seq + 1}..${checked} come after the chain head checkpoint (appended without the key)`,
        );
      }
    }
    if (vault && checked > 0 && Number(vault.audit_epoch_first_seq) > checked) {
      return fail(
        checked + 1,
        `the current audit key starts at record ${Number(vault.audit_epoch_first_seq)}, after the last record (records were cut off)`,
      );
    }
    return { ok: true, checked, hmacChecked, ...(checked > 0 ? { last: { seq: checked, hash: prev } } : {}) };
  }

  /** Records in seq order, read in pages (constant memory for any log size). */
  async *iterate(opts: { from?: number; to?: number } = {}): AsyncGenerator<AuditRecord> {
    let after = 0;
    const page = 1000;
    for (;;) {
      const from = after;
      const rows = await this.read((db) => {
        let q = db.selectFrom('audit_events').selectAll().where('seq', '>', from);
        if (opts.from !== undefined) q = q.where('time', '>=', opts.from);
        if (opts.to !== undefined) q = q.where('time', '<', opts.to);
        return q.orderBy('seq').limit(page).execute();
      });
      for (const row of rows) yield rowToRecord(row);
      if (rows.length < page) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  /** The record with this sequence number. */
  async recordAt(seq: number): Promise<AuditRecord | undefined> {
    const r = await this.read((db) =>
      db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirst(),
    );
    return r ? rowToRecord(r) : undefined;
  }

  /** Records about any of the given subjects, in seq order. */
  async bySubjects(subjects: readonly string[]): Promise<AuditRecord[]> {
    if (subjects.length === 0) return [];
    const rows = await this.read((db) =>
      db
        .selectFrom('audit_events')
        .selectAll()
        .where('subject', 'in', [...subjects])
        .orderBy('seq')
        .execute(),
    );
    return rows.map(rowToRecord);
  }

  /** Number of records. */
  async count(): Promise<number> {
    const r = await this.read((db) =>
      db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    return Number(r.n);
  }
}
