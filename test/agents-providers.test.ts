import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../src/authoring/agents/anthropic-provider.js';
import { type LlmProvider, LlmError, type RetryInfo } from '../src/authoring/agents/llm.js';
import { OpenAiProvider, type ProviderSettings } from '../src/authoring/agents/openai-provider.js';
import { buildProviders } from '../src/authoring/agents/providers.js';
import { DEFAULT_RETRY } from '../src/authoring/agents/retry.js';
import { resolveConfig } from '../src/core/config.js';
import { FakeLlmServer } from './agents-llm-server.js';

const fake = new FakeLlmServer();
let url = '';
beforeAll(async () => {
  url = await fake.start();
});
afterAll(() => fake.close());

const KEY = 'sk-test-0123456789abcdefghijklmnopqrstuv';
const settings = (over: Partial<ProviderSettings> = {}): ProviderSettings => ({
  name: 'p',
  model: 'model-x',
  apiKey: KEY,
  retry: { ...DEFAULT_RETRY, baseDelayMs: 1, idleTimeoutMs: 10_000 },
  prices: { inputPerMTok: 3, outputPerMTok: 15 },
  ...over,
});
const openai = (over: Partial<ProviderSettings> = {}) =>
  new OpenAiProvider(settings({ baseUrl: `${url}/v1`, ...over }));
const anthropic = (over: Partial<ProviderSettings> = {}) => new AnthropicProvider(settings({ baseUrl: url, ...over }));
const both: [string, () => LlmProvider][] = [
  ['openai', () => openai()],
  ['anthropic', () => anthropic()],
];

describe.each(both)('%s provider against the local server', (api, make) => {
  it('streams the answer piece by piece and accounts tokens and cost from the server-reported usage', async () => {
    fake.script({ answer: 'buy when close crosses above sma(20)', chunks: 5 });
    const deltas: string[] = [];
    const c = await make().complete({
      messages: [
        { role: 'system', content: 'you write strategies' },
        { role: 'user', content: 'a trend follower please' },
      ],
      onDelta: (d) => deltas.push(d),
    });
    const seen = fake.requests.at(-1);
    expect(seen?.api).toBe(api);
    expect(seen?.body.stream).toBe(true);
    expect(deltas.length).toBe(5);
    expect(deltas.join('')).toBe('buy when close crosses above sma(20)');
    expect(c.text).toBe(deltas.join(''));
    expect(c.usage).toEqual(seen?.usage);
    expect(c.costUsd).toBeCloseTo(((seen?.usage?.input ?? 0) * 3 + (seen?.usage?.output ?? 0) * 15) / 1e6, 12);
    expect(c.attempts).toBe(1);
    if (api === 'openai') expect(seen?.headers.authorization).toBe(`Bearer ${KEY}`);
    else {
      // This SDK generation sends the key as a bearer token; older ones used x-api-key.
      expect([seen?.headers['x-api-key'], seen?.headers.authorization]).toContain(
        seen?.headers['x-api-key'] ? KEY : `Bearer ${KEY}`,
      );
      expect(seen?.body.system).toBe('you write strategies');
    }
  });

  it('retries a 500 with backoff and answers on the next attempt', async () => {
    fake.script({ status: 500 }, { answer: 'ok then' });
    const retries: RetryInfo[] = [];
    const c = await make().complete({
      messages: [{ role: 'user', content: 'x' }],
      onRetry: (r) => retries.push(r),
    });
    expect(c.text).toBe('ok then');
    expect(c.attempts).toBe(2);
    expect(retries).toMatchObject([{ attempt: 1, status: 500, fromHeader: false }]);
  });

  it('a 429 waits what Retry-After says', async () => {
    fake.script({ status: 429, headers: { 'retry-after': '1' } }, { answer: 'after the wait' });
    const retries: RetryInfo[] = [];
    const c = await make().complete({ messages: [{ role: 'user', content: 'x' }], onRetry: (r) => retries.push(r) });
    expect(c.text).toBe('after the wait');
    expect(retries).toEqual([{ attempt: 1, status: 429, delayMs: 1000, fromHeader: true }]);
  });

  it('gives up after maxRetries with the HTTP status, never sending one request more', async () => {
    const before = fake.requests.length;
    fake.script({ status: 503 }, { status: 503 }, { status: 503 }, { answer: 'too late' });
    const err = await make()
      .complete({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err).toMatchObject({ reason: 'http', status: 503 });
    expect(fake.requests.length - before).toBe(DEFAULT_RETRY.maxRetries + 1);
    fake.script();
    // The unused answer stays for the next test to consume: drain it.
    await make().complete({ messages: [{ role: 'user', content: 'drain' }] });
  });

  it('a 400 is not retried', async () => {
    const before = fake.requests.length;
    fake.script({ status: 400, message: 'bad model' });
    const err = await make()
      .complete({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'http', status: 400 });
    expect(fake.requests.length - before).toBe(1);
  });

  it('a cut stream is reported as cut after the pieces already streamed, not hung', async () => {
    fake.script({ cut: 'half an answer that never ends' });
    const deltas: string[] = [];
    const err = await make()
      .complete({ messages: [{ role: 'user', content: 'x' }], onDelta: (d) => deltas.push(d) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).reason).toBe('stream_cut');
    expect(deltas.length).toBeGreaterThan(0);
  });

  it('a stream that ends cleanly without its terminator is reported cut too', async () => {
    fake.script({ cut: 'no finish reason here', clean: true });
    const err = await make()
      .complete({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((err as LlmError).reason).toBe('stream_cut');
  });

  it('a slow server is abandoned after the idle timeout and the connection is closed', async () => {
    fake.script({ hang: true });
    const closed = new Promise((r) => fake.once('closed', r));
    const p = (api === 'openai' ? openai : anthropic)({
      retry: { ...DEFAULT_RETRY, idleTimeoutMs: 150 },
    }).complete({ messages: [{ role: 'user', content: 'x' }] });
    const err = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'timeout' });
    await closed;
  });

  it('the caller aborting ends the call as aborted', async () => {
    fake.script({ hang: true });
    const ac = new AbortController();
    fake.once('request', () => ac.abort());
    const err = await make()
      .complete({ messages: [{ role: 'user', content: 'x' }], signal: ac.signal })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'aborted' });
  });
});

describe('providers from the config', () => {
  it('an OpenAI-compatible endpoint needs a base URL and no key, and answers through the OpenAI protocol', async () => {
    const cfg = resolveConfig({
      agents: { providers: [{ name: 'local', type: 'openai-compatible', model: 'llama', baseUrl: `${url}/v1` }] },
    });
    const [p] = await buildProviders(cfg.agents, undefined);
    fake.script({ answer: 'local model answer' });
    const c = await p.complete({ messages: [{ role: 'user', content: 'hi' }] });
    expect(c.text).toBe('local model answer');
    expect(fake.requests.at(-1)?.body.max_tokens).toBe(4096);
    expect(c.costUsd).toBeUndefined();
  });

  it('keys come from the vault reader by secret name; a missing name or unknown provider is a config error', async () => {
    const cfg = resolveConfig({
      agents: {
        defaultProvider: 'claude',
        providers: [
          { name: 'gpt', type: 'openai', model: 'g', apiKeySecret: 'llm.openai', baseUrl: `${url}/v1` },
          { name: 'claude', type: 'anthropic', model: 'c', apiKeySecret: 'llm.anthropic', baseUrl: url },
        ],
      },
    });
    const asked: string[] = [];
    const ps = await buildProviders(cfg.agents, async (n) => {
      asked.push(n);
      return `${n}-value`;
    });
    expect(ps.map((p) => p.name)).toEqual(['claude', 'gpt']);
    expect(asked.sort()).toEqual(['llm.anthropic', 'llm.openai']);
    await expect(buildProviders(cfg.agents, undefined, 'nope')).rejects.toThrow(/no provider named "nope"/);
    await expect(buildProviders(cfg.agents, undefined)).rejects.toThrow(/vault is locked/);
    expect(() =>
      resolveConfig({ agents: { providers: [{ name: 'x', type: 'openai', model: 'm', baseUrl: 'not a url' }] } }),
    ).toThrow(/agents\.providers\.0\.baseUrl/);
  });

  it('an unreachable server is reported unreachable after its retries', async () => {
    const gone = new FakeLlmServer();
    const goneUrl = await gone.start();
    await gone.close();
    const err = await new OpenAiProvider(settings({ baseUrl: `${goneUrl}/v1` }))
      .complete({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'unreachable' });
  });
});
