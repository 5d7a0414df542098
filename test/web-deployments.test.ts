import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM } from './fixtures/browser.js';
import { ADMIN, startWebLive, VIEWER, type WebLive } from './fixtures/web-live.js';

// The Deployments page in Debian's chromium against a real runtime on the exchange simulator (no scripted port):
// an admin creates a paper deployment, starts it and sees it running, stops it; a viewer sees no controls.
let live: WebLive;

async function loginAs(username: string): Promise<Page> {
  const page = await live.loginAs(username, 'Deployments');
  await page.getByTestId('deployments').waitFor();
  return page;
}

const shot = (page: Page, name: string) => live.shot(page, name);

describe.skipIf(!existsSync(CHROMIUM))('the Deployments page on a real runtime', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    live = await startWebLive({
      seed: 3,
      shots: 'deployments',
      deployments: [
        {
          id: 'cfg',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'sim',
          symbols: ['BTC/USDT'],
        },
      ],
      runtime: { heartbeatSeconds: 1 },
    });
  }, 300_000);
  afterAll(async () => {
    await live?.close();
  });

  it('an admin creates a paper deployment, starts it, sees it running, and stops it', async () => {
    const page = await loginAs(ADMIN);
    await page.getByTestId('deployment-row').filter({ hasText: 'cfg' }).waitFor();
    await page.getByLabel('Deployment id').fill('web-eth');
    await page.getByLabel('Symbols (comma-separated)').fill('ETH/USDT');
    await page.getByLabel('Params (JSON)').fill('{"fast": 100, "slow": 200}');
    await page.getByTestId('create-deployment-submit').click();
    await page
      .getByTestId('deployment-result')
      .filter({ hasText: 'deployment web-eth created (not started)' })
      .waitFor();
    const row = page.getByTestId('deployment-row').filter({ hasText: 'web-eth' });
    await row.getByTestId('deployment-status').filter({ hasText: 'created' }).waitFor();
    await shot(page, '1-created');

    await row.getByTestId('start-deployment').click();
    await page.getByRole('dialog', { name: 'confirm start' }).waitFor();
    await page.getByTestId('confirm-deployment').click();
    await page.getByTestId('deployment-result').filter({ hasText: 'deployment web-eth started' }).waitFor();
    await row.getByTestId('deployment-status').filter({ hasText: 'running' }).waitFor();
    expect(live.runtime.deployments.map((d) => d.id)).toEqual(['cfg', 'web-eth']);
    await shot(page, '2-running');

    await row.getByTestId('stop-deployment').click();
    await page.getByRole('dialog', { name: 'confirm stop' }).waitFor();
    await page.getByTestId('confirm-deployment').click();
    await page.getByTestId('deployment-result').filter({ hasText: 'deployment web-eth stopped' }).waitFor();
    await row.getByTestId('deployment-status').filter({ hasText: 'stopped' }).waitFor();
    expect(live.runtime.deployments.map((d) => d.id)).toEqual(['cfg']);
    await shot(page, '3-stopped');
    await page.context().close();
  });

  it('a viewer sees the deployments but no form and no start or stop button', async () => {
    const page = await loginAs(VIEWER);
    await page.getByTestId('deployment-row').filter({ hasText: 'web-eth' }).waitFor();
    expect(await page.getByTestId('create-deployment').count()).toBe(0);
    expect(await page.getByTestId('start-deployment').count()).toBe(0);
    expect(await page.getByTestId('stop-deployment').count()).toBe(0);
    await shot(page, '4-viewer');
    await page.context().close();
  });
});
