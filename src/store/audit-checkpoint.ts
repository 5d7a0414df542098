import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { ValidationError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { type AuditHead, type AuditKeyring, type AuditLog, AuditError, auditHeadHmac, toKeyring } from './audit-log.js';

/**
 * A checkpoint of the audit chain kept outside the database: the last record's seq and hash, the record count,
 * the key epoch and the time, signed with the audit key. Anyone who later cuts the chain (and writes an old head
 * back into the database) cannot take the record back out of a file or a chat message they do not control.
 */
export interface AuditCheckpoint extends AuditHead {
  /** Why it was taken: `schedule`, `killswitch`, `cli`. */
  reason: string;
}

/** Where checkpoints go: a file outside TRADEFORGE_HOME, the alert channels (a function sending one line), or both. */
export interface CheckpointSinks {
  file?: string;
  /** The home folder the file must be outside of. */
  home?: string;
  alert?: (text: string) => Promise<void> | void;
  /** Runs before each checkpoint (e.g. the audit subscriber's flush, so the kill switch's own record is covered). */
  settle?: () => Promise<void>;
}

/** Signs a checkpoint of the chain as it is now; undefined while the log is empty. */
export async function takeCheckpoint(
  audit: AuditLog,
  reason: string,
  now = Date.now(),
): Promise<AuditCheckpoint | undefined> {
  const ring = audit.keyring();
  if (!ring?.length) throw new AuditError('the audit log is locked: unlock the vault to sign a checkpoint');
  const last = await audit.lastRecord();
  if (!last) return undefined;
  const current = ring[ring.length - 1];
  const body = { seq: last.seq, hash: last.hash, count: last.seq, epoch: current.epoch, time: now };
  return { ...body, reason, hmac: auditHeadHmac(current.key, body, 'checkpoint') };
}

/** One line of text for a checkpoint (file line and alert message alike). */
export function checkpointLine(cp: AuditCheckpoint): string {
  return JSON.stringify({
    seq: cp.seq,
    hash: cp.hash,
    count: cp.count,
    epoch: cp.epoch,
    time: cp.time,
    reason: cp.reason,
    hmac: cp.hmac,
  });
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep));
}

function realDir(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Appends a checkpoint line to `file` (opened append-only, mode 0600, fsynced). The file must be outside the home
 * folder: whoever can rewrite the database can rewrite anything in there. A new file is made append-only with
 * `chattr +a` where the filesystem and privileges allow; returns whether that was done.
 */
export function appendCheckpointFile(file: string, cp: AuditCheckpoint, home?: string): { appendOnly: boolean } {
  const target = resolve(file);
  if (home && isInside(join(realDir(dirname(target)), basename(target)), realDir(home))) {
    throw new ValidationError(
      `audit checkpoint file ${file} is inside TRADEFORGE_HOME (${home}): choose a file the database's writer cannot rewrite`,
      'audit.checkpointFile',
    );
  }
  const created = !existsSync(target);
  const fd = openSync(target, 'a', 0o600);
  try {
    writeSync(fd, `${checkpointLine(cp)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let appendOnly = false;
  if (created) appendOnly = spawnSync('chattr', ['+a', target], { stdio: 'ignore', env: {} }).status === 0;
  return { appendOnly };
}

/** Takes a checkpoint and sends it to every sink; returns it (undefined while the log is empty). */
export async function writeCheckpoint(
  audit: AuditLog,
  sinks: CheckpointSinks,
  reason: string,
): Promise<AuditCheckpoint | undefined> {
  await sinks.settle?.();
  const cp = await takeCheckpoint(audit, reason);
  if (!cp) return undefined;
  if (sinks.file) appendCheckpointFile(sinks.file, cp, sinks.home);
  if (sinks.alert) await sinks.alert(`audit checkpoint ${checkpointLine(cp)}`);
  return cp;
}

/** Outcome of checking a checkpoint file against the chain. */
export interface CheckpointVerifyResult {
  ok: boolean;
  /** Checkpoints read. */
  checkpoints: number;
  /** The first checkpoint the chain contradicts. */
  problem?: string;
}

/**
 * Proves that no checkpointed record was removed or changed: every checkpoint's HMAC must be valid (when keys are
 * given) and the record it names must still be in the chain with the same hash.
 */
export async function verifyCheckpointFile(
  audit: AuditLog,
  file: string,
  keys: Buffer | AuditKeyring | undefined,
): Promise<CheckpointVerifyResult> {
  const ring = toKeyring(keys);
  const lines = readFileSync(file, 'utf8').split('\n');
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim();
    if (!text) continue;
    const where = `${file}:${i + 1}`;
    let cp: AuditCheckpoint;
    try {
      cp = JSON.parse(text) as AuditCheckpoint;
    } catch {
      return { ok: false, checkpoints: n, problem: `${where}: not a checkpoint line (bad JSON)` };
    }
    if (![cp.seq, cp.count, cp.epoch, cp.time].every(Number.isSafeInteger) || typeof cp.hash !== 'string') {
      return {
        ok: false,
        checkpoints: n,
        problem: `${where}: not a checkpoint line (missing seq, hash, epoch or time)`,
      };
    }
    n++;
    if (ring) {
      const k = ring.find((x) => x.epoch === cp.epoch);
      const { reason: _reason, hmac, ...body } = cp;
      if (!k || auditHeadHmac(k.key, body, 'checkpoint') !== hmac) {
        return { ok: false, checkpoints: n, problem: `${where}: checkpoint of record ${cp.seq} has an invalid HMAC` };
      }
    }
    const rec = await audit.recordAt(cp.seq);
    const at = new Date(cp.time).toISOString();
    if (!rec) {
      return {
        ok: false,
        checkpoints: n,
        problem: `record ${cp.seq}, checkpointed at ${at} (${cp.reason}) in ${where}, is missing: the chain was cut`,
      };
    }
    if (rec.hash !== cp.hash) {
      return {
        ok: false,
        checkpoints: n,
        problem: `record ${cp.seq}, checkpointed at ${at} (${cp.reason}) in ${where}, has changed: the chain was rewritten`,
      };
    }
  }
  return { ok: true, checkpoints: n };
}

/**
 * Writes checkpoints on a schedule and on every kill switch (the moments most worth proving later). Failures are
 * reported to `onError`, never thrown into the event bus.
 */
export class AuditCheckpointer {
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly audit: AuditLog,
    private readonly sinks: CheckpointSinks,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Checkpoints every `intervalMs` and after each `killswitch.triggered.v1` on the bus. */
  start(bus: EventBus | undefined, intervalMs: number): this {
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.checkpoint('schedule'), intervalMs);
      this.timer.unref();
    }
    if (bus) this.unsubscribe = bus.subscribe('killswitch.triggered.v1', () => void this.checkpoint('killswitch'));
    return this;
  }

  /** Writes one checkpoint now (serialised with the others). */
  checkpoint(reason: string): Promise<AuditCheckpoint | undefined> {
    const run = this.last.then(() => writeCheckpoint(this.audit, this.sinks, reason));
    this.last = run.catch((err) => this.onError(err));
    return run;
  }

  /** Stops the schedule and waits for a checkpoint in progress. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.last;
  }
}
