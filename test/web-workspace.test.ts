import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smokeData, storeVersionSink } from '../src/app/agent-services.js';
import { BacktestJobs } from '../src/app/backtest-jobs.js';
import { resolveHome } from '../src/app/home.js';
import { Promotion } from '../src/app/promotion.js';
import { OpenAiProvider } from '../src/authoring/agents/openai-provider.js';
import { DEFAULT_RETRY } from '../src/authoring/agents/retry.js';
import { MarketDataStore } from '../src/data/store.js';
import type { DomainEvent } from '../src/core/events.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { FakeLlmServer } from './agents-llm-server.js';
import { ZIGZAG_RULES, zigzag } from './fixtures/zigzag.js';
import { CHROMIUM, launchChromium, loginPage, screenshots } from './fixtures/browser.js';
import { type ApiFixture, PASSWORD, startApiFixture } from './server-api-fixture.js';

// The strategy workspace in Debian's chromium over the real API, store, promotion pipeline and backtest jobs: type
// rules, check them, store a version, backtest it and see its figures, pass the gate and promote it to dry run;
// and have the local LLM server write one while its timeline streams in.

let llm: FakeLlmServer;
let fx: ApiFixture;
let browser: Browser;
let dir: string;

const shot = screenshots('workspace');
const loginAs = (username: string) =>
  loginPage(browser, fx.url, username, PASSWORD, { hash: 'Workspace', height: 1000 });

describe.skipIf(!existsSync(CHROMIUM))('strategy workspace in a real browser', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-workspace-'));
    const home = resolveHome({}, join(dir, 'home'));
    // 200 daily zigzag bars stored as symbol ZZ: the zigzag rules win every swing (75 trades in sample).
    new MarketDataStore(home.data).write('ZZ', '1d', zigzag([{ bars: 200, amp: 2 }]));
    llm = new FakeLlmServer();
    const url = await llm.start();
    fx = await startApiFixture(({ store, runtime }) => {
      // The generation's steps reach the page as the runtime streams them: bus -> the port's `agent` topic.
      const bus = new InProcessEventBus();
      bus.subscribe('agent.step.v1', (e: DomainEvent<'agent.step.v1'>) =>
        runtime.emit({ topic: 'agent', time: e.time, data: { event: e.name, ...e.payload } }),
      );
      return {
        loginsPerMinute: 1000,
        promotion: new Promotion({ store, dataDir: home.data }),
        backtests: new BacktestJobs(store, home),
        agents: async () => ({
          providers: [
            new OpenAiProvider({
              name: 'local',
              model: 'm',
              baseUrl: `${url}/v1`,
              retry: { ...DEFAULT_RETRY, maxRetries: 0, baseDelayMs: 1 },
            }),
          ],
          smokeData: smokeData(),
          timeoutMs: 60_000,
          runs: store.agentRuns,
          versions: storeVersionSink(store),
          bus,
        }),
      };
    });
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await fx?.close();
    await llm?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('type rules, check, store, backtest with its figures, gate, promote to dry run', async () => {
    const page = await loginAs('admin');
    await page.getByTestId('workspace').waitFor();
    await page.getByLabel('strategy id').fill('ws-zz');
    await page.getByLabel('data').fill('ZZ');
    await page.getByLabel('strategy source').fill('buy when close < close[1]\nsell when close > closee[1]\n');
    await page.getByTestId('check').click();
    await page.getByTestId('check-result').filter({ hasText: 'Refused' }).waitFor();
    // The typo is named with its line and column.
    expect(await page.getByTestId('check-result').textContent()).toMatch(
      /^Refused \(compile\): strategy\.rules:2:\d+: .*closee/,
    );
    await page.getByLabel('strategy source').fill(ZIGZAG_RULES);
    await page.getByTestId('check').click();
    await page.getByTestId('check-result').filter({ hasText: 'OK' }).waitFor();

    await page.getByTestId('save-version').click();
    await page.getByTestId('version-ref').filter({ hasText: 'ws-zz@v1' }).waitFor();
    await page.getByTestId('lifecycle-state').filter({ hasText: 'draft' }).waitFor();

    await page.getByTestId('run-backtest').click();
    const result = page.getByTestId('backtest-result');
    await result.waitFor();
    expect(await result.textContent()).toMatch(/Trades\s*99/);
    await shot(page, '1-backtest');

    await page.getByTestId('gate').click();
    await page.getByTestId('lifecycle-state').filter({ hasText: 'gated' }).waitFor();
    await page.getByTestId('promote-dry-run').click();
    await page.getByTestId('lifecycle-state').filter({ hasText: 'dry_run' }).waitFor();
    expect(await fx.store.strategies.version('ws-zz', 1)).toMatchObject({ state: 'dry_run' });
    await shot(page, '2-dry-run');
    await page.context().close();
  });

  it('the LLM writes a strategy while its timeline streams in; the version lands in the editor', async () => {
    llm.script({ answer: `Here it is.\n\`\`\`rules\n${ZIGZAG_RULES}\`\`\`\n`, chunks: 3 });
    const page = await loginAs('admin');
    await page.getByLabel('idea').fill('buy dips, sell rips');
    await page.getByLabel('strategy id').fill('llm-zz');
    await page.getByTestId('generate').click();
    await page.getByTestId('timeline-step').filter({ hasText: 'run.finished' }).waitFor();
    const steps = (await page.getByTestId('timeline-step').allTextContents()).map((t) => t.split(' ')[0]);
    expect(steps[0]).toBe('run.started');
    expect(steps).toContain('llm.response');
    expect(steps).toContain('validate');
    await page.getByTestId('version-ref').filter({ hasText: 'llm-zz@v1' }).waitFor();
    expect(await page.getByLabel('strategy source').inputValue()).toBe(ZIGZAG_RULES);
    await shot(page, '3-generated');
    await page.context().close();
  });

  it('a viewer sees no save, gate, promote or generate', async () => {
    const page = await loginAs('viewer');
    await page.getByTestId('workspace').waitFor();
    await page.getByLabel('strategy source').fill(ZIGZAG_RULES);
    expect(await page.getByTestId('save-version').count()).toBe(0);
    expect(await page.getByTestId('generate').count()).toBe(0);
    expect(await page.getByTestId('gate').count()).toBe(0);
    await page.context().close();
  });
});
