import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Promotion } from '../src/app/promotion.js';
import { importStrategyVersion } from '../src/app/strategy-catalogue.js';
import { type ApiFixture, call, login, type Session, startApiFixture } from './server-api-fixture.js';
import { ZIGZAG_RULES, zigzag } from './fixtures/zigzag.js';

// The promotion pipeline over the API (docs/promotion.md, docs/api.md): the session's role decides, and a viewer's
// attempt is refused with its reason and audited (the routes leave the role check to the pipeline for that).
let fx: ApiFixture;
let dir: string;
let promotion: Promotion;
let admin: Session;
let viewer: Session;
const now = Date.UTC(2026, 1, 1);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-api-strategies-'));
  fx = await startApiFixture(({ store }) => {
    promotion = new Promotion({ store, dataDir: join(dir, 'data'), now: () => now });
    return { loginsPerMinute: 1000, promotion };
  });
  admin = await login(fx, 'admin');
  viewer = await login(fx, 'viewer');
  const file = join(dir, 'zz.rules');
  writeFileSync(file, ZIGZAG_RULES);
  await importStrategyVersion(fx.store, { file, kind: 'rules', id: 'zz' });
  await promotion.gate({ name: 'setup', role: 'admin' }, 'zz@v1', {
    data: { symbol: 'ZZ', columns: zigzag([{ bars: 200, amp: 2 }]), timeframe: '1d' },
    label: 'zigzag',
  });
});
afterAll(async () => {
  await fx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('/api/strategies/:ref and /api/promotion/policy', () => {
  it('a viewer reads the lifecycle but is refused a move (audited); an admin moves it to dry_run', async () => {
    const read = await call(fx, 'GET', '/api/strategies/zz@v1/lifecycle', { headers: viewer.headers });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ ref: 'zz@v1', state: 'gated' });
    expect((read.json.transitions as { to: string }[]).map((t) => t.to)).toEqual(['backtested', 'gated']);

    const live = await call(fx, 'POST', '/api/strategies/zz@v1/deploy', {
      headers: viewer.headers,
      body: { profile: 'live', confirmLive: true },
    });
    expect(live.status).toBe(409);
    expect(live.json.reasons).toEqual([
      'going live needs an admin (role viewer)',
      'a gated version moves to dry_run next, not to live (no state is skipped)',
    ]);
    const dryByViewer = await call(fx, 'POST', '/api/strategies/zz@v1/promote', { headers: viewer.headers, body: {} });
    expect(dryByViewer.status).toBe(409);
    expect(dryByViewer.json.reasons).toEqual(['role viewer may not move strategy versions']);
    const audited = (await fx.store.audit.bySubjects(['strategy:zz@v1']))
      .filter((r) => r.action === 'strategy.transition.refused')
      .map((r) => r.actor);
    expect(audited).toEqual(['api:viewer', 'api:viewer']);

    const dry = await call(fx, 'POST', '/api/strategies/zz@v1/deploy', {
      headers: admin.headers,
      body: { profile: 'dry_run', reason: 'paper first' },
    });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json).toEqual({ ref: 'zz@v1', from: 'gated', to: 'dry_run' });
    const early = await call(fx, 'POST', '/api/strategies/zz@v1/promote', {
      headers: admin.headers,
      body: { confirmLive: true },
    });
    expect(early.status).toBe(409);
    expect(early.json.reasons).toContain('the dry run has run 0.0 of 14 days');
    const missing = await call(fx, 'GET', '/api/strategies/nope@v1/lifecycle', { headers: admin.headers });
    expect(missing.status).toBe(404);
    const bad = await call(fx, 'GET', '/api/strategies/not-a-ref/lifecycle', { headers: admin.headers });
    expect(bad.status).toBe(400);
  });

  it('the policy: a viewer and a lowering are refused (409, audited); an admin makes it stricter', async () => {
    const lower = await call(fx, 'PATCH', '/api/promotion/policy', {
      headers: viewer.headers,
      body: { thresholds: { minSharpe: 0.2 }, reason: 'easier' },
    });
    expect(lower.status).toBe(409);
    expect(lower.json.reasons).toEqual(['only an admin may change the promotion thresholds (role viewer)']);
    const adminLower = await call(fx, 'PATCH', '/api/promotion/policy', {
      headers: admin.headers,
      body: { dryRunDays: 7, reason: 'faster' },
    });
    expect(adminLower.status).toBe(409);
    expect(adminLower.json.reasons).toEqual(['thresholds may only become stricter: dryRunDays 14 -> 7']);
    const up = await call(fx, 'PATCH', '/api/promotion/policy', {
      headers: admin.headers,
      body: { dryRunDays: 21, reason: 'longer' },
    });
    expect(up.status, up.text).toBe(200);
    expect(up.json.dryRunDays).toBe(21);
    const policy = await call(fx, 'GET', '/api/promotion/policy', { headers: viewer.headers });
    expect(policy.json).toMatchObject({ dryRunDays: 21, thresholds: { minSharpe: 0.5 } });
    const audit = (await fx.store.audit.bySubjects(['promotion:policy'])).map((r) => `${r.actor} ${r.action}`);
    expect(audit).toEqual([
      'api:viewer promotion.policy.refused',
      'api:admin promotion.policy.refused',
      'api:admin promotion.policy.changed',
    ]);
  });

  it('the gate over the API: a viewer refused (audited); a path refused; an unknown version 404; an admin gates', async () => {
    const file = join(dir, 'zz2.rules');
    writeFileSync(file, `${ZIGZAG_RULES}# second\n`);
    await importStrategyVersion(fx.store, { file, kind: 'rules', id: 'zz2' });
    const gate = (s: Session, ref: string, body: unknown) =>
      call(fx, 'POST', `/api/strategies/${ref}/gate`, { headers: s.headers, body });
    const asViewer = await gate(viewer, 'zz2@v1', {});
    expect(asViewer.status).toBe(409);
    expect(asViewer.json.reasons).toEqual(['role viewer may not move strategy versions']);
    const path = await gate(admin, 'zz2@v1', { data: file });
    expect(path.status).toBe(400);
    expect(path.json.message).toMatch(/files are not read through the API/);
    expect((await gate(admin, 'nope@v1', {})).status).toBe(404);
    const unknownData = await gate(admin, 'zz2@v1', { data: 'NOSUCH' });
    expect(unknownData.status).toBe(400);
    expect(unknownData.json.message).toMatch(/^body\.data: /);
    // The bundled sample: the zigzag rules lose on it, so the gate refuses with its reasons and says so.
    const sample = await gate(admin, 'zz2@v1', { data: 'sample' });
    expect(sample.status).toBe(409);
    expect((sample.json.reasons as string[]).length).toBeGreaterThan(0);
    expect(await promotion.state('zz2@v1')).toBe('backtested');
  });
});
