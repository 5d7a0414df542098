import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { TradeforgeError } from '../core/errors.js';
import { canonicalJson } from './canonical-json.js';
import type { Connection } from './db.js';
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

/** Outcome of walking the chain. */
export interface AuditVerifyResult {
  ok: boolean;
  /** Records checked. */
  checked: number;
  /** Whether HMACs were checked (needs the audit key, i.e. an unlocked vault). */
  hmacChecked: boolean;
  /** The first broken or missing record. */
  firstBad?: { seq: number; problem: string };
}

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
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly conn: Connection) {}

  /** Sets (or clears) the HMAC key; the vault calls this on unlock. */
  setKey(key: Buffer | undefined): void {
    this.key = key === undefined ? undefined : Buffer.from(key);
  }

  /** True when records can be appended. */
  get canAppend(): boolean {
    return this.key !== undefined;
  }

  /** Appends one record. */
  async append(entry: AuditEntry): Promise<AuditRecord> {
    const [rec] = await this.appendMany([entry]);
    return rec;
  }

  /** Appends records in order, in one transaction. */
  appendMany(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const run = this.tail.then(() => this.doAppend(entries));
    this.tail = run.catch(() => {});
    return run;
  }

  private async doAppend(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const key = this.key;
    if (key === undefined) throw new AuditError('the audit log is locked: unlock the vault to append records');
    if (entries.length === 0) return [];
    return withWriterLock(this.conn, async (tx) => {
      const last = await tx
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      let seq = last ? Number(last.seq) : 0;
      let prev = last ? last.hash : GENESIS_HASH;
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
      await this.writeHead(tx, head, key);
      return out;
    });
  }

  // The head checkpoint lets verify notice records cut off the end of the chain, which the chain alone cannot.
  private async writeHead(tx: Kysely<Database>, head: AuditRecord, key: Buffer): Promise<void> {
    const value = canonicalJson({
      seq: head.seq,
      hash: head.hash,
      hmac: auditHmac(key, `head:${head.seq}:${head.hash}`),
    });
    await tx
      .insertInto('kv')
      .values({ key: HEAD_KEY, value, updated_at: head.time })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: head.time }))
      .execute();
  }

  /** Walks the chain from the first record; stops at the first broken or missing one. */
  async verify(key: Buffer | undefined = this.key): Promise<AuditVerifyResult> {
    let expected = 1;
    let prev = GENESIS_HASH;
    let checked = 0;
    const hmacChecked = key !== undefined;
    const fail = (seq: number, problem: string): AuditVerifyResult => ({
      ok: false,
      checked,
      hmacChecked,
      firstBad: { seq, problem },
    });
    for await (const r of this.iterate()) {
      if (r.seq !== expected) {
        if (r.seq > expected) {
          const gap = r.seq - 1 > expected ? `records ${expected}..${r.seq - 1} are` : `record ${expected} is`;
          return fail(expected, `${gap} missing (deleted); the next record present is ${r.seq}`);
        }
        return fail(r.seq, `record ${r.seq} is out of order (expected ${expected})`);
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
      if (key !== undefined && !sameHex(auditHmac(key, r.hash), r.hmac)) {
        return fail(r.seq, `record ${r.seq}: HMAC is invalid (the record was forged or the chain was rebuilt)`);
      }
      prev = r.hash;
      expected += 1;
      checked += 1;
    }
    const head = await this.conn.db.selectFrom('kv').select('value').where('key', '=', HEAD_KEY).executeTakeFirst();
    if (!head && checked > 0) {
      return fail(checked, 'the chain head checkpoint is missing (it is written with every append)');
    }
    if (head) {
      const h = JSON.parse(head.value) as { seq: number; hash: string; hmac: string };
      if (key !== undefined && !sameHex(auditHmac(key, `head:${h.seq}:${h.hash}`), h.hmac)) {
        return fail(h.seq, `the chain head checkpoint (record ${h.seq}) has an invalid HMAC`);
      }
      if (h.seq > checked) {
        return fail(checked + 1, `records ${checked + 1}..${h.seq} are missing from the end of the chain (deleted)`);
      }
      if (h.seq === checked && h.hash !== prev) {
        return fail(h.seq, `record ${h.seq}: does not match the chain head checkpoint`);
      }
    }
    return { ok: true, checked, hmacChecked };
  }

  /** Records in seq order, read in pages (constant memory for any log size). */
  async *iterate(opts: { from?: number; to?: number } = {}): AsyncGenerator<AuditRecord> {
    let after = 0;
    const page = 1000;
    for (;;) {
      let q = this.conn.db.selectFrom('audit_events').selectAll().where('seq', '>', after);
      if (opts.from !== undefined) q = q.where('time', '>=', opts.from);
      if (opts.to !== undefined) q = q.where('time', '<', opts.to);
      const rows = await q.orderBy('seq').limit(page).execute();
      for (const row of rows) yield rowToRecord(row);
      if (rows.length < page) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  /** Records about any of the given subjects, in seq order. */
  async bySubjects(subjects: readonly string[]): Promise<AuditRecord[]> {
    if (subjects.length === 0) return [];
    const rows = await this.conn.db
      .selectFrom('audit_events')
      .selectAll()
      .where('subject', 'in', [...subjects])
      .orderBy('seq')
      .execute();
    return rows.map(rowToRecord);
  }

  /** Number of records. */
  async count(): Promise<number> {
    const r = await this.conn.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
