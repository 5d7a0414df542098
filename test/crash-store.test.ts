import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import { PG_URL } from './fixtures/store/backends.js';

const WRITER = join(import.meta.dirname, 'fixtures/store/crash-writer.ts');

/** Runs the writer until it has acknowledged `minAcks` items, then SIGKILLs it; returns the acknowledged ids. */
function runAndKill(args: string[], minAcks: number): Promise<{ orders: string[]; fills: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const orders: string[] = [];
    const fills: string[] = [];
    let buf = '';
    let err = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ack (order|fill) (\S+)$/.exec(line);
        if (m) (m[1] === 'order' ? orders : fills).push(m[2]);
      }
      if (!killed && orders.length + fills.length >= minAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ orders, fills });
      else reject(new Error(`writer exited early (code ${code}): ${err}`));
    });
  });
}

const homes: string[] = [];
const schemas: string[] = [];
afterAll(async () => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
  if (schemas.length) {
    const admin = await openStore({ databaseUrl: PG_URL, migrate: false, home: tmpdir() });
    for (const s of schemas) {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(s)} CASCADE`.execute(admin.db);
      await sql`DROP ROLE IF EXISTS ${sql.id(`${s}_audit`)}`.execute(admin.db);
    }
    await admin.close();
  }
});

describe('crash: kill -9 while persisting orders and fills', () => {
  for (const backend of ['sqlite', 'postgres'] as const) {
    it(`keeps every acknowledged order and fill exactly once (${backend})`, async () => {
      const home = mkdtempSync(join(tmpdir(), 'tf-crash-'));
      homes.push(home);
      const args = [home];
      if (backend === 'postgres') {
        const schema = `tf_crash_${randomBytes(5).toString('hex')}`;
        schemas.push(schema);
        args.push(PG_URL, schema);
      }
      const acked = await runAndKill(args, 600);
      expect(acked.orders.length).toBeGreaterThan(100);
      expect(acked.fills.length).toBeGreaterThan(100);

      const store = await openStore({
        home,
        databaseUrl: args[1],
        pgSchema: args[2],
        ...(args[2] ? { pgAuditOwnerRole: `${args[2]}_audit` } : {}),
      });
      try {
        const orderRows = await store.db.selectFrom('orders').select(['id', 'status']).execute();
        const fillRows = await store.db.selectFrom('fills').select(['id', 'order_id']).execute();
        const orderIds = new Map<string, number>();
        for (const r of orderRows) orderIds.set(r.id, (orderIds.get(r.id) ?? 0) + 1);
        const fillIds = new Map<string, number>();
        for (const r of fillRows) fillIds.set(r.id, (fillIds.get(r.id) ?? 0) + 1);
        for (const id of acked.orders) expect(orderIds.get(id), `order ${id}`).toBe(1);
        for (const id of acked.fills) expect(fillIds.get(id), `fill ${id}`).toBe(1);

        // A restart replays what the venue reports: replayed fills must not duplicate.
        for (const id of acked.fills.slice(0, 50)) {
          const [, i, part] = id.split('-');
          const f = await store.fills.byOrder(`o-${i}`);
          const again = f.find((x) => x.id === id);
          expect(again).toBeDefined();
          if (again) await store.fills.insert(again);
          expect(part).toMatch(/^[01]$/);
        }
        expect(await store.fills.count()).toBe(fillRows.length);
      } finally {
        await store.close();
      }
    });
  }
});
