import { afterAll, describe, expect, it } from 'vitest';
import { resolveStrategyRef } from '../src/authoring/resolve.js';
import { prepareVersion } from '../src/authoring/versions.js';
import { strategyTemplate } from '../src/authoring/files/template.js';
import { backends } from './fixtures/store/backends.js';

const RULES =
  'param fast = 10\nparam slow = 30\nbuy when sma(fast) crosses above sma(slow)\nsell when sma(fast) crosses below sma(slow)\n';

for (const backend of backends()) {
  describe(`stored strategy versions on ${backend.name}`, { timeout: 120_000 }, () => {
    afterAll(() => backend.cleanup());

    it('keeps source, kind, compiled form, gate verdict and hash per version; a strategy starts as draft', async () => {
      const store = await backend.open();
      try {
        const ts = prepareVersion(strategyTemplate('mine'), 'ts', 'mine.ts');
        await store.strategies.upsert({
          id: 'mine',
          name: 'mine',
          kind: 'ts',
          description: null,
          created_at: 1,
          updated_at: 1,
        });
        const v1 = await store.strategies.addVersion({
          id: 'mine@v1',
          strategy_id: 'mine',
          source: ts.source,
          params: {},
          source_hash: ts.hash,
          note: null,
          source_kind: ts.kind,
          compiled: ts.compiled,
          gate: ts.gate,
          created_at: 2,
        });
        expect(v1).toBe(1);
        expect((await store.strategies.get('mine'))?.state).toBe('draft');
        const row = await store.strategies.version('mine', 1);
        expect(row).toMatchObject({ source_kind: 'ts', source_hash: ts.hash });
        expect(row?.compiled).toContain('exports.default');
        expect(JSON.parse(row?.gate ?? 'null')).toEqual({ ok: true, findings: [], checked: 'source' });
        // The one resolver runs a stored version by reference, hash-checked.
        const def = await resolveStrategyRef('mine@v1', { versions: store.strategies });
        expect(def.name).toBe('mine');
        await expect(resolveStrategyRef('mine@v9', { versions: store.strategies })).rejects.toThrow(
          /no stored strategy version mine@v9/,
        );

        const rules = prepareVersion(RULES, 'rules', 'cross.rules');
        await store.strategies.upsert({
          id: 'cross',
          name: 'cross',
          kind: 'rules',
          description: null,
          created_at: 1,
          updated_at: 1,
        });
        await store.strategies.addVersion({
          id: 'cross@v1',
          strategy_id: 'cross',
          source: rules.source,
          params: {},
          source_hash: 'not-the-hash',
          note: null,
          source_kind: 'rules',
          compiled: rules.compiled,
          gate: rules.gate,
          created_at: 3,
        });
        expect(JSON.parse((await store.strategies.version('cross', 1))?.compiled ?? '{}')).toHaveProperty('params');
        // A source that does not match its stored hash is refused.
        await expect(resolveStrategyRef('cross@v1', { versions: store.strategies })).rejects.toThrow(
          /cross@v1: its source does not match its stored hash/,
        );
      } finally {
        await store.close();
      }
    });
  });
}
