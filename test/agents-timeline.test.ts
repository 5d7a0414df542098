import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { smokeData } from '../src/app/agent-services.js';
import { runtimeApiPort } from '../src/app/api-port.js';
import { generateStrategy } from '../src/authoring/agents/generate.js';
import { OpenAiProvider } from '../src/authoring/agents/openai-provider.js';
import { DEFAULT_RETRY } from '../src/authoring/agents/retry.js';
import { resolveConfig } from '../src/core/config.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { Redactor } from '../src/security/redact.js';
import { FakeLlmServer } from './agents-llm-server.js';
import { type ApiFixture, ScriptedRuntime, startApiFixture } from './server-api-fixture.js';

const KEY = 'sk-timeline-0123456789abcdefghijklmnopqrs';
const bus = new InProcessEventBus();
const fake = new FakeLlmServer();
let fx: ApiFixture;
let llm = '';

beforeAll(async () => {
  llm = await fake.start();
  const scripted = new ScriptedRuntime();
  // The runtime's own API port over a real bus: what the runtime publishes is what the WebSocket streams.
  const port = runtimeApiPort({
    control: scripted.control,
    status: async () => ({}) as Awaited<ReturnType<Parameters<typeof runtimeApiPort>[0]['status']>>,
    bus,
    risk: resolveConfig({}).risk,
    version: scripted.version(),
    deployments: () => [],
  });
  fx = await startApiFixture({ port });
});
afterAll(async () => {
  await fx?.close();
  await fake.close();
});

interface Msg {
  type?: string;
  topic?: string;
  data?: { event?: string; step?: string; runId?: string; detail?: unknown; tokens?: unknown };
}

describe('agent timeline on the API WebSocket (agent topic)', () => {
  it('streams every step of a generation live, masked, ending with run.finished', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/api/ws`, {
      headers: { authorization: `Bearer ${fx.cliToken}` },
    });
    const got: Msg[] = [];
    let onFinished: (() => void) | undefined;
    const finished = new Promise<void>((r) => {
      onFinished = r;
    });
    const subscribed = new Promise<void>((resolve) => {
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString()) as Msg;
        if (m.type === 'hello') ws.send(JSON.stringify({ op: 'subscribe', topics: ['agent'] }));
        if (m.type === 'subscribed') resolve();
        if (m.topic === 'agent') {
          got.push(m);
          if (m.data?.step === 'run.finished') onFinished?.();
        }
      });
    });
    await subscribed;
    fake.script({
      answer: '```rules\nbuy when close crosses above sma(20)\nsell when close crosses below sma(20)\n```',
    });
    const redactor = new Redactor();
    redactor.register(KEY);
    const r = await generateStrategy(
      { input: { kind: 'prompt', text: `do not leak ${KEY}` } },
      {
        providers: [
          new OpenAiProvider({
            name: 'gpt',
            model: 'm',
            baseUrl: `${llm}/v1`,
            apiKey: KEY,
            retry: { ...DEFAULT_RETRY, maxRetries: 0 },
          }),
        ],
        smokeData: smokeData(),
        timeoutMs: 60_000,
        bus,
        mask: (v) => redactor.redact(v),
      },
    );
    await finished;
    expect(r.outcome).toBe('generated');
    const steps = got.map((m) => m.data?.step).filter((s) => s !== 'llm.delta');
    expect(steps).toEqual(['run.started', 'llm.request', 'llm.response', 'validate', 'run.finished']);
    expect(got.every((m) => m.data?.event === 'agent.step.v1' && m.data.runId === r.runId)).toBe(true);
    expect(got.find((m) => m.data?.step === 'llm.response')?.data?.tokens).toEqual(fake.requests.at(-1)?.usage);
    expect(JSON.stringify(got)).not.toContain(KEY);
    ws.close();
  });
});
