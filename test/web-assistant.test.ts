import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assistantService } from '../src/app/assistant-service.js';
import { resolveConfig } from '../src/core/config.js';
import { FakeLlmServer, type FakeStep, type SeenRequest } from './agents-llm-server.js';
import { CHROMIUM, launchChromium, loginPage, screenshots } from './fixtures/browser.js';
import { type ApiFixture, PASSWORD, startApiFixture } from './server-api-fixture.js';

// The assistant page in Debian's chromium against the real API with the local LLM server: a streamed answer, a
// context switch that changes what the model is sent, a signal card refused by the risk check with its reason,
// the arena's two columns, and a viewer who sees the scores but no chat.

let llm: FakeLlmServer;
let fx: ApiFixture;
let browser: Browser;
const byModel: Record<string, FakeStep> = {};
const cards = (...items: unknown[]) => `My view, briefly.\n\`\`\`signals\n${JSON.stringify(items)}\n\`\`\`\n`;

const shot = screenshots('assistant');
const loginAs = (username: string) => loginPage(browser, fx.url, username, PASSWORD, { hash: 'Assistant' });

describe.skipIf(!existsSync(CHROMIUM))('assistant page in a real browser', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    llm = new FakeLlmServer();
    const url = await llm.start();
    llm.fallback = (req: SeenRequest) => byModel[String(req.body.model)] ?? { status: 500, message: 'unscripted' };
    const config = resolveConfig({
      agents: {
        timeoutSeconds: 120,
        providers: [
          { name: 'gpt', type: 'openai-compatible', model: 'gpt-x', baseUrl: `${url}/v1`, maxRetries: 0 },
          { name: 'local', type: 'openai-compatible', model: 'llama-x', baseUrl: `${url}/v1`, maxRetries: 0 },
        ],
      },
    });
    fx = await startApiFixture(({ store, runtime }) => ({
      loginsPerMinute: 1000,
      assistant: assistantService({ config, store, port: runtime }),
    }));
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await fx?.close();
    await llm?.close();
  });

  it('streams an answer, sends only the chosen context, and shows a card refused by the risk check', async () => {
    const page = await loginAs('admin');
    await page.getByTestId('assistant-chat').waitFor();
    byModel['gpt-x'] = {
      answer: cards({
        action: 'buy',
        symbol: 'BTC/USDT',
        size: 20,
        price: null,
        confidence: 0.8,
        reasoning: 'strong trend',
      }),
      chunks: 6,
    };
    await page.getByRole('checkbox', { name: 'balance' }).uncheck();
    await page.getByLabel('message').fill('What now?');
    await page.getByTestId('send').click();
    await page.getByTestId('signal-card').waitFor();
    const sent = llm.requests.at(-1) as SeenRequest;
    expect(sent.text).toContain('What now?');
    expect(sent.text).not.toContain('equity');
    expect(sent.text).toContain('Open positions');
    expect(await page.getByTestId('turn-assistant').textContent()).toContain('My view, briefly.');
    await shot(page, '1-answer');

    // 20 x 100 is over the scripted runtime's 1000 notional limit: the risk check refuses it and says why.
    await page.getByTestId('execute-signal').click();
    await page.getByRole('dialog', { name: 'confirm signal' }).waitFor();
    await page.getByTestId('confirm-signal').click();
    const result = page.getByTestId('signal-result');
    await result.waitFor();
    expect(await result.textContent()).toBe(
      'Rejected by risk: MAX_NOTIONAL — order notional 2000 exceeds the limit 1000',
    );
    await page.getByTestId('model-score').filter({ hasText: 'gpt (gpt-x)' }).waitFor();
    await shot(page, '2-rejected');
    await page.context().close();
  });

  it('asks two models side by side in the arena', async () => {
    const page = await loginAs('admin');
    byModel['gpt-x'] = { answer: 'Buy the dip.' };
    byModel['llama-x'] = { answer: 'Stay flat.' };
    await page.getByRole('checkbox', { name: 'arena gpt' }).check();
    await page.getByRole('checkbox', { name: 'arena local' }).check();
    await page.getByLabel('message').fill('Compare');
    await page.getByTestId('send').click();
    await page.getByTestId('arena-answer').nth(1).waitFor();
    const columns = await page.getByTestId('arena-answer').allTextContents();
    expect(columns[0]).toContain('Buy the dip.');
    expect(columns[1]).toContain('Stay flat.');
    await shot(page, '3-arena');
    await page.context().close();
  });

  it('a viewer sees the models’ scores but no chat and no execute button', async () => {
    const page = await loginAs('viewer');
    await page.getByTestId('model-scores').waitFor();
    expect(await page.getByTestId('assistant-chat').count()).toBe(0);
    expect(await page.getByTestId('execute-signal').count()).toBe(0);
    await page.context().close();
  });
});
