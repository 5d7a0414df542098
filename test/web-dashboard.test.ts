import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DASHBOARD_DIR } from '../src/server/api/dashboard.js';
import { type ApiFixture, PASSWORD, startApiFixture } from './server-api-fixture.js';

// Debian's chromium (installed by .ci/run); never a downloaded browser.
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Screenshots of each step, kept as test artefacts. */
const SHOTS = resolve(import.meta.dirname, '../test-results/dashboard');

let fx: ApiFixture;
let browser: Browser;

async function loginAs(username: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Generous: a loaded 2-core CI box renders slowly; the waits below end on the event, not the timeout.
  context.setDefaultTimeout(120_000);
  const page = await context.newPage();
  await page.goto(fx.url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('whoami').waitFor();
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe.skipIf(!existsSync(CHROMIUM))('dashboard in a real browser', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    if (!existsSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'))) {
      const { build } = await import('vite');
      await build({ configFile: resolve(import.meta.dirname, '../web/vite.config.ts'), logLevel: 'warn' });
    }
    mkdirSync(SHOTS, { recursive: true });
    fx = await startApiFixture({ loginsPerMinute: 1000 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  it('an admin logs in, watches a position appear, gets a risk rejection with its reason, and kills', async () => {
    const page = await loginAs('admin');
    await page.getByTestId('position-row').filter({ hasText: 'BTC/USDT' }).waitFor();
    expect(await page.getByTestId('whoami').textContent()).toBe('admin (admin)');
    expect(await page.getByTestId('version').textContent()).toContain('abc1234');
    await shot(page, '1-logged-in');

    // A position opens in the runtime: the stream tells the page, which shows it without a reload.
    fx.runtime.positions.push({ id: 'demo:ETH/USDT', symbol: 'ETH/USDT', side: 'short', quantity: 2, entryPrice: 50 });
    fx.runtime.emit({ topic: 'positions', time: Date.now(), data: { symbol: 'ETH/USDT' } });
    await page.getByTestId('position-row').filter({ hasText: 'ETH/USDT' }).waitFor();
    await shot(page, '2-live-position');

    // 20 x 100 = 2000 is over the 1000 notional limit.
    await page.getByLabel('quantity').fill('20');
    await page.getByTestId('place-order').click();
    await page.getByTestId('confirm-order').click();
    const result = page.getByTestId('order-result');
    await result.waitFor();
    expect(await result.textContent()).toBe(
      'Rejected by risk: MAX_NOTIONAL — order notional 2000 exceeds the limit 1000',
    );
    await shot(page, '3-risk-rejection');

    await page.getByTestId('kill-switch').click();
    await page.getByRole('dialog', { name: 'confirm' }).waitFor();
    await shot(page, '4-kill-confirm');
    await page.getByTestId('confirm').click();
    await page.getByTestId('control-result').filter({ hasText: 'kill switch engaged' }).waitFor();
    await page.getByTestId('kill-state').filter({ hasText: 'ENGAGED' }).waitFor();
    await page.getByText('No open positions').waitFor();
    expect(fx.runtime.calls).toContain('kill:api:admin');
    await shot(page, '5-killed');
    await page.context().close();
  });

  it('a viewer sees positions but no kill switch and no order form', async () => {
    const page = await loginAs('viewer');
    await page.getByTestId('kill-state').waitFor();
    expect(await page.getByTestId('whoami').textContent()).toBe('viewer (viewer)');
    expect(await page.getByTestId('kill-switch').count()).toBe(0);
    expect(await page.getByTestId('place-order').count()).toBe(0);
    await shot(page, '6-viewer');
    await page.context().close();
  });

  it('a wrong password shows the message and no dashboard', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    await page.goto(fx.url);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('invalid username or password');
    expect(await page.getByTestId('whoami').count()).toBe(0);
    await context.close();
  });
});
