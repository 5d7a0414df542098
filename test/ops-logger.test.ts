import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/ops/logger.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-ops-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('createLogger (OPS-1)', () => {
  it('writes JSON lines with timestamp, level label, component and order context', () => {
    const file = join(dir, 'logs', 'app.log');
    const log = createLogger({ file, level: 'debug' });
    const exec = log.child('execution', { correlationId: 'c-1' });
    exec.info({ orderId: 'o-7', symbol: 'BTC/USDT' }, 'order placed');
    exec.debug('detail');
    log.logger.trace('not written at debug level');
    log.close();
    const rows = lines(file);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      level: 'info',
      component: 'execution',
      correlationId: 'c-1',
      orderId: 'o-7',
      symbol: 'BTC/USDT',
      msg: 'order placed',
    });
    expect(typeof rows[0].timestamp).toBe('string');
    expect(Math.abs(Date.parse(rows[0].timestamp as string) - Date.now())).toBeLessThan(10_000);
    expect(rows[1]).toMatchObject({ level: 'debug', component: 'execution', msg: 'detail' });
  });

  it('writes one component key per line, the most specific, whatever the nesting (as the runtime nests them)', () => {
    const file = join(dir, 'nested.log');
    // The runtime's shape: a root with a base component, a component child, and the event log's per-source child.
    const log = createLogger({ file, base: { component: 'runtime' } });
    log.logger.info('root line');
    const runtime = log.child('runtime');
    runtime.info('runtime line');
    runtime.child({ component: 'risk' }).info({ note: 'say "component":"x", inside' }, 'risk line');
    log.close();
    const raw = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(raw).toHaveLength(3);
    for (const l of raw) expect(l.split('"component":').length - 1).toBe(1);
    expect(lines(file).map((r) => r.component)).toEqual(['runtime', 'runtime', 'risk']);
    expect(lines(file)[2].note).toBe('say "component":"x", inside');
  });

  it('redacts secrets with the default redactor: fields at any depth, tokens in messages and errors', () => {
    const file = join(dir, 'app.log');
    const log = createLogger({ file });
    const token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawXYZ';
    log.logger.info({ venue: { apiKey: 'k-123', secret: 's-456', name: 'binance' }, password: 'hunter2' }, 'connect');
    log.logger.warn(`telegram failed with token ${token}`);
    log.logger.error({ err: new Error(`https://api.telegram.org/bot${token}/sendMessage failed`) }, 'send');
    log.close();
    const text = readFileSync(file, 'utf8');
    for (const secret of ['k-123', 's-456', 'hunter2', token]) expect(text).not.toContain(secret);
    const rows = lines(file);
    expect(rows[0]).toMatchObject({ venue: { apiKey: '[REDACTED]', secret: '[REDACTED]', name: 'binance' } });
    expect(rows[1].msg).toBe('telegram failed with token [REDACTED]');
    expect((rows[2].err as { message: string }).message).toContain('/bot[REDACTED]/sendMessage');
  });

  it('uses an injected redact function for objects, bindings and messages', () => {
    const file = join(dir, 'app.log');
    const seen: unknown[] = [];
    const redact = (v: unknown): unknown => {
      seen.push(v);
      return JSON.parse(JSON.stringify(v).replaceAll('TOPSECRET', '***'));
    };
    const log = createLogger({ file, redact });
    log.child('vault', { deploymentId: 'TOPSECRET-d' }).info({ note: 'TOPSECRET value' }, 'msg TOPSECRET');
    log.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('TOPSECRET');
    expect(lines(file)[0]).toMatchObject({ deploymentId: '***-d', note: '*** value', msg: 'msg ***' });
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });

  it('rotates by size and keeps maxFiles rotated files, never splitting a line', () => {
    const file = join(dir, 'app.log');
    const log = createLogger({ file, maxBytes: 1000, maxFiles: 3 });
    for (let i = 0; i < 200; i++) log.logger.info({ i, pad: 'x'.repeat(40) }, 'line');
    log.close();
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['app.log', 'app.log.1', 'app.log.2', 'app.log.3']);
    const all: number[] = [];
    for (const name of ['app.log.3', 'app.log.2', 'app.log.1', 'app.log']) {
      const p = join(dir, name);
      expect(readFileSync(p).length).toBeLessThanOrEqual(1000);
      for (const row of lines(p)) all.push(row.i as number);
    }
    // The newest lines survive, in order and contiguous; the oldest were dropped with the deleted files.
    expect(all.at(-1)).toBe(199);
    expect(all.length).toBeGreaterThan(20);
    expect(all.length).toBeLessThan(200);
    for (let k = 1; k < all.length; k++) expect(all[k]).toBe(all[k - 1] + 1);
  });

  it('in buffered mode writes once per event-loop turn and rotates the same way', async () => {
    const file = join(dir, 'app.log');
    const log = createLogger({ file, maxBytes: 1000, maxFiles: 2, buffered: true });
    for (let i = 0; i < 60; i++) log.logger.info({ i, pad: 'x'.repeat(40) }, 'line');
    expect(readFileSync(file, 'utf8')).toBe(''); // nothing written yet: batched for the end of the turn
    await new Promise((r) => setImmediate(r));
    const all: number[] = [];
    for (const name of ['app.log.2', 'app.log.1', 'app.log']) {
      expect(readFileSync(join(dir, name)).length).toBeLessThanOrEqual(1000);
      for (const row of lines(join(dir, name))) all.push(row.i as number);
    }
    expect(all.at(-1)).toBe(59);
    for (let k = 1; k < all.length; k++) expect(all[k]).toBe(all[k - 1] + 1);
    log.logger.info({ i: 60 }, 'tail');
    log.close(); // close flushes
    expect(lines(file).at(-1)?.msg).toBe('tail');
  });

  it('appends to an existing file and counts its size toward rotation', () => {
    const file = join(dir, 'app.log');
    const a = createLogger({ file, maxBytes: 400, maxFiles: 2 });
    a.logger.info({ pad: 'y'.repeat(200) }, 'first');
    a.close();
    const b = createLogger({ file, maxBytes: 400, maxFiles: 2 });
    b.logger.info({ pad: 'z'.repeat(200) }, 'second');
    b.close();
    expect(lines(`${file}.1`).map((r) => r.msg)).toEqual(['first']);
    expect(lines(file).map((r) => r.msg)).toEqual(['second']);
  });
});
