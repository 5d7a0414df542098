import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, Promotion, PromotionRefusedError } from '../src/app/promotion.js';
import { importStrategyVersion } from '../src/app/strategy-catalogue.js';
import { strategyTemplate } from '../src/authoring/files/template.js';
import { evaluateWalkForward } from '../src/authoring/promotion/gate.js';
import { compileStrategySource } from '../src/authoring/resolve.js';
import { openStore, type Store } from '../src/store/index.js';
import { zigzag } from './fixtures/zigzag.js';
import { loopingStrategy } from './fixtures/strategy-files.js';

// The gate of a TypeScript version runs each walk-forward window in the sandbox backtest worker: the figures are
// those of the same backtests in-thread, and a version that loops fails the gate on its CPU budget (refused,
// audited) instead of hanging the CLI or the runtime that asked.
const ADMIN: Actor = { name: 'alice', role: 'admin' };
const DATA = { symbol: 'ZZ', columns: zigzag([{ bars: 200, amp: 2 }]), timeframe: '1d' as const };
let store: Store;
let dir: string;
let promotion: Promotion;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-promotion-sandbox-'));
  store = await openStore({ home: dir });
  store.audit.setKey(randomBytes(32));
  promotion = new Promotion({ store, dataDir: join(dir, 'data') });
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The `folds` of an evaluation somewhere in an audit record's details. */
function foldsIn(x: unknown): unknown[] | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const o = x as Record<string, unknown>;
  if (Array.isArray(o.folds)) return o.folds;
  for (const v of Object.values(o)) {
    const f = foldsIn(v);
    if (f) return f;
  }
  return undefined;
}

async function storedTs(id: string, source: string): Promise<string> {
  const file = join(dir, `${id}.ts`);
  writeFileSync(file, source);
  const r = await importStrategyVersion(store, { file, kind: 'ts', id });
  return `${id}@v${r.version}`;
}

describe('the gate of a code version', () => {
  it('runs its windows in the sandbox with the figures of the same backtests in-thread', async () => {
    const source = strategyTemplate('fast')
      .replace('default: 10, min: 1', 'default: 2, min: 1')
      .replace('default: 30, min: 2', 'default: 5, min: 2');
    const ref = await storedTs('fast', source);
    const inThread = evaluateWalkForward(compileStrategySource(source, 'ts', 'fast.ts'), { fast: 2, slow: 5 }, DATA);
    // Passed or refused, the evaluation the gate judged is in the audit log with the move or the refusal.
    await promotion.gate(ADMIN, ref, { data: DATA, label: 'zz' }).catch((e: unknown) => {
      expect(e).toBeInstanceOf(PromotionRefusedError);
    });
    const records = await store.audit.bySubjects([`strategy:${ref}`]);
    const judged = records.map((r) => foldsIn(JSON.parse(r.details))).filter((f): f is unknown[] => f !== undefined);
    const outcome = { folds: judged.at(-1) };
    expect(outcome.folds).toEqual(inThread);
    expect(inThread[0].inSample.trades).toBeGreaterThan(0);
  });

  it('fails a version that loops on its CPU budget, said and audited', async () => {
    const ref = await storedTs('spin', loopingStrategy('spin'));
    const err = await promotion.gate(ADMIN, ref, { data: DATA, label: 'zz' }).then(
      () => undefined,
      (e: unknown) => e as PromotionRefusedError,
    );
    expect(err).toBeInstanceOf(PromotionRefusedError);
    expect(err?.reasons.join(' ')).toMatch(/spin@v1\.ts: strategy spin ran past its CPU budget of \d+ ms in onBar/);
    expect(await promotion.state(ref)).toBe('draft');
    const audited = await store.audit.bySubjects([`strategy:${ref}`]);
    expect(audited.some((r) => r.action === 'strategy.transition.refused' && r.details.includes('CPU budget'))).toBe(
      true,
    );
  });
});
