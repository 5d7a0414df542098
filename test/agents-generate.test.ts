import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smokeData, storeVersionSink } from '../src/app/agent-services.js';
import { AnthropicProvider } from '../src/authoring/agents/anthropic-provider.js';
import { type GenerationDeps, generateStrategy } from '../src/authoring/agents/generate.js';
import { OpenAiProvider, type ProviderSettings } from '../src/authoring/agents/openai-provider.js';
import { DEFAULT_RETRY } from '../src/authoring/agents/retry.js';
import type { AgentStep } from '../src/authoring/agents/timeline.js';
import { strategyTemplate } from '../src/authoring/files/template.js';
import type { DomainEvent } from '../src/core/events.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { REDACTED, Redactor } from '../src/security/redact.js';
import { openStore, type Store } from '../src/store/index.js';
import { FakeLlmServer } from './agents-llm-server.js';
import { loopingStrategy, templateWithOnBar } from './fixtures/strategy-files.js';

const KEY = 'sk-gen-test-0123456789abcdefghijklmnopq';
const GOOD_RULES = [
  'param fast = 10 in 5..30',
  'param slow = 30 in 20..100',
  'buy when sma(fast) crosses above sma(slow)',
  'sell when sma(fast) crosses below sma(slow)',
  'stop loss 5%',
].join('\n');
const BROKEN_RULES = 'param fast = 10\nbuy when sma(fast) crossez above close\n';
const GOOD_TS = strategyTemplate('gen-ts');
const GATE_REFUSED_TS = templateWithOnBar('gen-ts', 'process.exit(1);');
const THROWING_TS = templateWithOnBar('gen-ts', "throw new Error('boom in onBar');");
const LOOPING_TS = loopingStrategy('gen-ts');
const fence = (lang: string, body: string) => `Here it is.\n\n\`\`\`${lang}\n${body}\n\`\`\`\nIt trades crosses.`;

const fake = new FakeLlmServer();
let url = '';
let home = '';
let store: Store;
const smoke = smokeData();

beforeAll(async () => {
  url = await fake.start();
  home = mkdtempSync(join(tmpdir(), 'tf-agents-'));
  store = await openStore({ home });
});
afterAll(async () => {
  await fake.close();
  await store?.close();
  rmSync(home, { recursive: true, force: true });
});

const settings = (over: Partial<ProviderSettings> = {}): ProviderSettings => ({
  name: 'gpt',
  model: 'gpt-test',
  apiKey: KEY,
  baseUrl: `${url}/v1`,
  retry: { ...DEFAULT_RETRY, maxRetries: 0, baseDelayMs: 1 },
  prices: { inputPerMTok: 1, outputPerMTok: 2 },
  ...over,
});

function deps(over: Partial<GenerationDeps> = {}): GenerationDeps & { events: DomainEvent<'agent.step.v1'>[] } {
  const bus = new InProcessEventBus();
  const events: DomainEvent<'agent.step.v1'>[] = [];
  bus.subscribe('agent.step.v1', (e: DomainEvent<'agent.step.v1'>) => {
    events.push(e);
  });
  const redactor = new Redactor();
  redactor.register(KEY);
  return {
    providers: [new OpenAiProvider(settings())],
    smokeData: smoke,
    timeoutMs: 60_000,
    runs: store.agentRuns,
    versions: storeVersionSink(store),
    mask: (v) => redactor.redact(v),
    bus,
    events,
    ...over,
  };
}

describe('generation agent against the local LLM server', () => {
  it('a description becomes a rules strategy: streamed, validated, stored as a version and an agent run', async () => {
    fake.script({ answer: fence('rules', GOOD_RULES), chunks: 6 });
    const d = deps();
    const deltas: string[] = [];
    const r = await generateStrategy(
      {
        input: { kind: 'prompt', text: 'trend following on two moving averages' },
        name: 'Trend Two',
        onDelta: (t) => deltas.push(t),
      },
      d,
    );
    expect(r.outcome).toBe('generated');
    expect(deltas.join('')).toBe(fence('rules', GOOD_RULES));
    expect(fake.requests.at(-1)?.text).toContain('trend following on two moving averages');
    expect(r.strategy?.kind).toBe('rules');
    expect(r.strategy?.smoke.bars).toBe(smoke.columns.length);
    expect(r.strategy?.smoke.trades).toBeGreaterThan(0);
    expect(r.attempts).toHaveLength(1);
    // Stored: a version of strategy "trend-two" with the generated source, and the run with model and outcome.
    const versions = await store.strategies.versions('trend-two');
    expect(versions.at(-1)).toMatchObject({ version: r.version?.version, source: `${GOOD_RULES}\n` });
    expect(JSON.parse(versions.at(-1)?.params ?? '{}')).toEqual({ fast: 10, slow: 30 });
    const run = await store.agentRuns.get(r.runId);
    expect(run?.status).toBe('done');
    expect(run?.output).toMatchObject({
      outcome: 'generated',
      kind: 'rules',
      attempts: [{ model: 'gpt-test', outcome: 'ok' }],
    });
    const steps = run?.steps as AgentStep[];
    expect(steps.map((s) => s.step)).toEqual([
      'run.started',
      'llm.request',
      'llm.response',
      'validate',
      'run.finished',
    ]);
    expect(steps.find((s) => s.step === 'llm.response')?.tokens).toEqual(fake.requests.at(-1)?.usage);
    expect(run?.cost).toBe(r.costUsd?.toFixed(6));
    // Every step, deltas too, went out on the bus with the run's correlation id.
    expect(d.events.length).toBe(steps.length + 6);
    expect(new Set(d.events.map((e) => e.correlationId))).toEqual(new Set([r.correlationId]));
    expect(d.events.every((e) => e.payload.startedAt <= e.payload.finishedAt)).toBe(true);
  });

  it('rules text becomes a TypeScript strategy when asked for ts', async () => {
    fake.script({ answer: fence('ts', GOOD_TS) });
    const r = await generateStrategy({ input: { kind: 'rules', text: GOOD_RULES }, format: 'ts' }, deps());
    expect(r.outcome).toBe('generated');
    expect(r.strategy?.kind).toBe('ts');
    expect(r.strategy?.name).toBe('gen-ts');
    expect(fake.requests.at(-1)?.text).toContain('crosses above sma(slow)');
    expect((await store.strategies.get('gen-ts'))?.kind).toBe('ts');
  });

  it('Pine input goes through the same path (translated, then judged by the resolver)', async () => {
    fake.script({ answer: fence('rules', GOOD_RULES) });
    const pine =
      '//@version=5\nstrategy("x")\nif ta.crossover(ta.sma(close, 10), ta.sma(close, 30))\n    strategy.entry("L", strategy.long)';
    const r = await generateStrategy({ input: { kind: 'pine', text: pine } }, deps());
    expect(r.outcome).toBe('generated');
    expect(fake.requests.at(-1)?.text).toContain('ta.crossover');
  });

  it('a broken answer is fixed: compile error, then gate refusal, then success, and the loop stops there', async () => {
    const before = fake.requests.length;
    fake.script(
      { answer: fence('rules', BROKEN_RULES) },
      { answer: fence('ts', GATE_REFUSED_TS) },
      { answer: fence('ts', GOOD_TS) },
      { answer: fence('rules', GOOD_RULES) },
    );
    const r = await generateStrategy({ input: { kind: 'prompt', text: 'anything' } }, deps());
    expect(r.outcome).toBe('generated');
    expect(fake.requests.length - before).toBe(3);
    expect(r.attempts.map((a) => a.outcome)).toEqual(['compile', 'gate', 'ok']);
    // Each fix request carried the previous refusal and source; each attempt keeps prompt, response and diff.
    const fix1 = fake.requests[before + 1].text;
    expect(fix1).toContain('crossez');
    expect(fix1).toContain(r.attempts[0].problems?.[0].split('\n')[0]);
    expect(fake.requests[before + 2].text).toContain('process.exit');
    expect(r.attempts[1].diff).toMatch(/^-buy when sma\(fast\) crossez above close$/m);
    expect(r.attempts[2].diff).toMatch(/^-\s+process\.exit\(1\);$/m);
    const run = await store.agentRuns.get(r.runId);
    const fixes = ((run?.steps ?? []) as AgentStep[]).filter((s) => s.step === 'fix.attempt');
    expect(fixes.map((s) => (s.detail as { outcome: string }).outcome)).toEqual(['gate', 'ok']);
    expect(fixes[0].detail).toMatchObject({
      attempt: 1,
      response: expect.stringContaining('process.exit'),
      diff: expect.any(String),
    });
    // Drain the unused scripted answer so the next test starts clean.
    fake.script();
    await generateStrategy({ input: { kind: 'prompt', text: 'drain' } }, deps());
  });

  it('a smoke-backtest error goes to the fixer too', async () => {
    fake.script({ answer: fence('ts', THROWING_TS) }, { answer: fence('ts', GOOD_TS) });
    const r = await generateStrategy({ input: { kind: 'prompt', text: 'x' }, format: 'ts' }, deps());
    expect(r.attempts.map((a) => a.outcome)).toEqual(['backtest', 'ok']);
    expect(r.attempts[0].problems?.join(' ')).toContain('boom in onBar');
    expect(fake.requests.at(-1)?.text).toContain('boom in onBar');
  });

  it('a candidate that loops in onBar is stopped on its sandbox budget and sent to the fixer, the caller unharmed', async () => {
    fake.script({ answer: fence('ts', LOOPING_TS) }, { answer: fence('ts', GOOD_TS) });
    const r = await generateStrategy(
      { input: { kind: 'prompt', text: 'x' }, format: 'ts' },
      deps({ sandboxLimits: { callbackMs: 200, loadMs: 5000, memoryMb: 128 } }),
    );
    expect(r.attempts.map((a) => a.outcome)).toEqual(['backtest', 'ok']);
    expect(r.attempts[0].problems?.join(' ')).toMatch(/ran past its CPU budget of 200 ms in onBar/);
    expect(fake.requests.at(-1)?.text).toContain('CPU budget of 200 ms');
    expect(r.outcome).toBe('generated');
  });

  it('never makes a fourth fix attempt: three refusals after the first end the run as failed', async () => {
    const before = fake.requests.length;
    const broken = { answer: fence('rules', BROKEN_RULES) };
    fake.script(broken, broken, broken, broken, { answer: fence('rules', GOOD_RULES) });
    const r = await generateStrategy({ input: { kind: 'prompt', text: 'x' } }, deps({ maxFixAttempts: 99 }));
    expect(r.outcome).toBe('failed');
    expect(fake.requests.length - before).toBe(4);
    expect(r.attempts.map((a) => a.attempt)).toEqual([0, 1, 2, 3]);
    expect(r.problems?.[0]).toContain('crossez');
    const run = await store.agentRuns.get(r.runId);
    expect(run?.status).toBe('failed');
    expect(((run?.steps ?? []) as AgentStep[]).filter((s) => s.step === 'fix.attempt')).toHaveLength(3);
    expect(r.version).toBeUndefined();
    // The good answer is still queued: nobody asked for it.
    fake.script();
    const next = await generateStrategy({ input: { kind: 'prompt', text: 'drain' } }, deps());
    expect(next.outcome).toBe('generated');
  });

  it('no provider answering in time: the deadline holds and manual entry is offered at once, without a crash', async () => {
    fake.script({ hang: true });
    const closed = new Promise((r) => fake.once('closed', r));
    const offered: AgentStep[] = [];
    const started = Date.now();
    const r = await generateStrategy(
      { input: { kind: 'prompt', text: 'x' }, onStep: (s) => s.step === 'manual_entry.offered' && offered.push(s) },
      deps({ timeoutMs: 300 }),
    );
    expect(r.outcome).toBe('manual');
    expect(r.manualEntry).toMatchObject({ reason: 'timeout', format: 'rules' });
    expect(r.manualEntry?.offeredAt).toBeGreaterThanOrEqual(r.deadlineAt);
    expect(r.manualEntry?.offeredAt).toBeGreaterThanOrEqual(started + 300);
    expect((r.manualEntry?.offeredAt ?? Number.POSITIVE_INFINITY) - r.deadlineAt).toBeLessThan(5000);
    expect(offered).toHaveLength(1);
    await closed; // the request in flight was abandoned, not left open
    expect((await store.agentRuns.get(r.runId))?.status).toBe('failed');
  });

  it('the deadline holds over a stream that stalls mid-answer (the provider timeout is longer)', async () => {
    fake.script({ stall: 'buy when' });
    const deltas: string[] = [];
    const closed = new Promise((r) => fake.once('closed', r));
    const r = await generateStrategy(
      { input: { kind: 'prompt', text: 'x' }, onDelta: (t) => deltas.push(t) },
      deps({ timeoutMs: 300 }),
    );
    expect(deltas).toEqual(['buy when']);
    expect(r.outcome).toBe('manual');
    expect(r.manualEntry?.reason).toBe('timeout');
    expect(r.manualEntry?.offeredAt).toBeGreaterThanOrEqual(r.deadlineAt);
    expect((r.manualEntry?.offeredAt ?? Number.POSITIVE_INFINITY) - r.deadlineAt).toBeLessThan(5000);
    await closed;
  });

  it('the default deadline is 60 s, from the config', async () => {
    const { resolveConfig } = await import('../src/core/config.js');
    const { agentDeps } = await import('../src/app/agent-services.js');
    const config = resolveConfig({
      agents: { providers: [{ name: 'local', type: 'openai-compatible', model: 'm', baseUrl: `${url}/v1` }] },
    });
    const d = await agentDeps({ config, store });
    expect(d.timeoutMs).toBe(60_000);
    expect(d.maxFixAttempts).toBe(3);
    expect(() => resolveConfig({ agents: { maxFixAttempts: 4 } })).toThrow(/agents\.maxFixAttempts/);
  });

  it('a provider that is down: manual entry offered naming why', async () => {
    const gone = new FakeLlmServer();
    const goneUrl = await gone.start();
    await gone.close();
    const r = await generateStrategy(
      { input: { kind: 'prompt', text: 'x' } },
      deps({ providers: [new OpenAiProvider(settings({ baseUrl: `${goneUrl}/v1` }))] }),
    );
    expect(r.outcome).toBe('manual');
    expect(r.manualEntry?.reason).toBe('no_provider');
    expect(r.manualEntry?.message).toMatch(/Connection error|reach/);
  });

  it('a cut stream is reported and the next provider answers', async () => {
    fake.script({ cut: fence('rules', GOOD_RULES) }, { answer: fence('rules', GOOD_RULES) });
    const claude = new AnthropicProvider(settings({ name: 'claude', model: 'claude-test', baseUrl: url }));
    const r = await generateStrategy(
      { input: { kind: 'prompt', text: 'x' } },
      deps({ providers: [new OpenAiProvider(settings()), claude] }),
    );
    expect(r.outcome).toBe('generated');
    const failed = r.steps.find((s) => s.step === 'llm.failed');
    expect(failed?.detail).toMatchObject({ reason: 'stream_cut' });
    expect(failed?.source).toBe('gpt/gpt-test');
    expect(r.attempts[0].provider).toBe('claude');
    expect(fake.requests.at(-1)?.api).toBe('anthropic');
  });

  it('secrets are masked in the steps, the stored run and the bus events', async () => {
    fake.script({ answer: fence('rules', GOOD_RULES) });
    const d = deps();
    const r = await generateStrategy({ input: { kind: 'prompt', text: `my key is ${KEY}, trade sma` } }, d);
    expect(fake.requests.at(-1)?.text).toContain(KEY); // it went to the provider: the user sent it
    const stored = JSON.stringify(await store.agentRuns.get(r.runId));
    expect(stored).not.toContain(KEY);
    expect(stored).toContain(REDACTED);
    expect(JSON.stringify(d.events)).not.toContain(KEY);
    expect(JSON.stringify(r.steps)).not.toContain(KEY);
  });
});
