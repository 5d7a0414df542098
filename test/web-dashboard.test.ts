import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DASHBOARD_DIR } from '../src/server/api/dashboard.js';
import { CHROMIUM, launchChromium, loginPage, screenshots } from './fixtures/browser.js';
import { type ApiFixture, PASSWORD, startApiFixture } from './server-api-fixture.js';
import { MARKET_T0 } from './server-api-market-fixture.js';

/** Screenshots of each step, kept as test artefacts. */
const shot = screenshots('dashboard');

let fx: ApiFixture;
let browser: Browser;

const loginAs = (username: string) => loginPage(browser, fx.url, username, PASSWORD);

describe.skipIf(!existsSync(CHROMIUM))('dashboard in a real browser', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    // test/global-setup.ts built web/dist before the suite.
    expect(existsSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'))).toBe(true);
    fx = await startApiFixture({ loginsPerMinute: 1000 });
    browser = await launchChromium();
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
    await page.getByTestId('open-order-row').first().waitFor();
    expect(await page.getByTestId('close-position').count()).toBe(0);
    expect(await page.getByTestId('cancel-order').count()).toBe(0);
    await shot(page, '6-viewer');
    await page.context().close();
  });

  it('an admin closes one position and cancels an open order, each after a confirmation', async () => {
    fx.runtime.positions.push({ id: 'demo:SOL/USDT', symbol: 'SOL/USDT', side: 'long', quantity: 3, entryPrice: 20 });
    const page = await loginAs('admin');
    const row = page.getByTestId('position-row').filter({ hasText: 'SOL/USDT' });
    await row.getByTestId('close-position').click();
    await page.getByRole('dialog', { name: 'confirm close' }).waitFor();
    await page.getByTestId('confirm-close').click();
    await page.getByTestId('close-result').filter({ hasText: 'closing 1' }).waitFor();
    await page.getByText('No open positions').waitFor();
    expect(fx.runtime.calls).toContain('forceExit:demo:SOL/USDT:api:admin');

    await page.getByTestId('open-order-row').filter({ hasText: 'BTC/USDT' }).getByTestId('cancel-order').click();
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('cancel-result').filter({ hasText: 'order o-1 cancelled' }).waitFor();
    expect(fx.runtime.calls).toContain('cancel:o-1:api:admin');
    await shot(page, '6b-close-and-cancel');
    await page.context().close();
  });

  it('the candlestick chart: volume, overlays, trade markers, a timeframe switch and live bars', async () => {
    const MIN = 60_000;
    await fx.store.trades.insert({
      strategyId: 'demo',
      symbol: 'BTC/USDT',
      side: 'long',
      entryTime: MARKET_T0 + 100 * MIN + 5_000,
      entryPrice: 98,
      exitTime: MARKET_T0 + 150 * MIN + 5_000,
      exitPrice: 103,
      quantity: 0.5,
      fees: 0.1,
      pnl: 2.4,
      pnlPct: 4.9,
      exitReason: 'signal',
    });
    const page = await loginAs('admin');
    const chart = page.getByTestId('candle-chart');
    const market = fx.runtime.scriptedMarket;
    await page.locator('[data-testid="candle-chart"][data-candles="240"]').waitFor();
    expect(await chart.getAttribute('data-markers')).toBe('2');
    expect(await chart.getAttribute('data-overlays')).toBe('sma_20');
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    await shot(page, '7-candles');

    // A bar closes in the runtime: the chart gets it over the stream, without a reload.
    const t = market.nextTime;
    market.close(t, 100, 104, 99, 103, 50);
    await page.locator(`[data-testid="candle-chart"][data-last="${t}"]`).waitFor();
    expect(await chart.getAttribute('data-candles')).toBe('241');

    // 241 one-minute bars from midnight are 17 fifteen-minute candles; Bollinger adds three lines.
    await page.getByRole('group', { name: 'timeframe' }).getByRole('button', { name: '15m' }).click();
    await page.getByLabel('Bollinger 20,2').check();
    await page.locator('[data-testid="candle-chart"][data-timeframe="15m"][data-candles="17"]').waitFor();
    await page
      .locator('[data-testid="candle-chart"][data-overlays="sma_20 bb_lower_20_2 bb_middle_20_2 bb_upper_20_2"]')
      .waitFor();
    expect(await chart.getAttribute('data-markers')).toBe('2');
    await shot(page, '8-candles-15m');

    // The order book: depth bars per level, the spread, and a live update from the venue stream.
    const book = page.getByTestId('order-book');
    await book.getByTestId('spread').filter({ hasText: 'Spread 1 (' }).waitFor();
    expect(await book.getByTestId('depth-bar').count()).toBe(6);
    market.venue.pushBook({
      symbol: 'BTC/USDT',
      time: Date.now(),
      bids: [{ price: 99.9, quantity: 3 }],
      asks: [
        { price: 100.15, quantity: 1 },
        { price: 100.4, quantity: 2 },
      ],
    });
    await book.getByTestId('spread').filter({ hasText: 'Spread 0.25 (' }).waitFor();
    expect(await book.getByTestId('depth-bar').count()).toBe(3);
    await shot(page, '9-order-book');
    await page.context().close();
  });

  it('runs a backtest from the UI with a progress bar and shows its metrics and chart', async () => {
    const page = await loginAs('admin');
    await page.getByRole('button', { name: 'Backtests', exact: true }).click();
    await page.getByLabel('strategy').selectOption('sma-cross');
    await page.getByLabel('param fast').fill('10');
    await page.getByLabel('param slow').fill('30');
    await page.getByTestId('run-backtest').click();
    await page
      .getByRole('progressbar', { name: 'backtest progress' })
      .or(page.getByLabel('backtest progress'))
      .first()
      .waitFor();
    await page.locator('[data-testid="backtest-job"][data-status="done"]').waitFor();
    const chart = page.locator('[data-testid="backtest-chart"][data-runs="1"]');
    await chart.waitFor();
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(100);
    const stored = await fx.store.backtests.list({ limit: 1 });
    const sharpe = (stored[0].metrics as { sharpe: number }).sharpe;
    expect(await page.locator('[data-metric="sharpe"]').first().textContent()).toBe(sharpe.toFixed(2));
    await shot(page, '10-backtest');
    await page.context().close();
  });

  it('an admin sets an API key and sees it masked; a viewer sees no secrets, no users, no run button', async () => {
    const admin = await loginAs('admin');
    await admin.getByRole('button', { name: 'Settings', exact: true }).click();
    await admin.getByLabel('secret name').fill('binance.apiKey');
    await admin.getByLabel('secret value').fill('sk-very-secret-value');
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByTestId('secret-row').filter({ hasText: 'binance.apiKey' }).waitFor();
    expect(await admin.content()).not.toContain('sk-very-secret-value');
    await admin.getByTestId('users').waitFor();
    await admin.getByTestId('alert-channels').getByText('No alert channel configured.').waitFor();
    await admin.getByTestId('test-venue').click();
    await admin
      .getByTestId('venue-test-result')
      .filter({ hasText: 'FAILED: sim: AuthenticationError: invalid API-key' })
      .waitFor();
    await shot(admin, '11-settings-admin');
    await admin.context().close();

    const viewer = await loginAs('viewer');
    await viewer.getByRole('button', { name: 'Settings', exact: true }).click();
    await viewer.getByTestId('risk-limits').waitFor();
    expect(await viewer.getByTestId('secrets').count()).toBe(0);
    expect(await viewer.getByTestId('users').count()).toBe(0);
    expect(await viewer.getByTestId('alert-channels').count()).toBe(0);
    await viewer.getByTestId('venues').waitFor();
    expect(await viewer.getByTestId('test-venue').count()).toBe(0);
    expect(await viewer.content()).not.toContain('binance.apiKey');
    await shot(viewer, '12-settings-viewer');
    await viewer.getByRole('button', { name: 'Backtests', exact: true }).click();
    await viewer.getByTestId('backtest-runs').waitFor();
    expect(await viewer.getByTestId('run-backtest').count()).toBe(0);
    await viewer.getByRole('button', { name: 'Trading', exact: true }).click();
    expect(await viewer.getByTestId('kill-switch').count()).toBe(0);
    await viewer.context().close();
  });

  it('the compliance page shows the engine version, config hash, audit chain status and the audit log', async () => {
    const page = await loginAs('admin');
    await page.getByRole('button', { name: 'Compliance', exact: true }).click();
    await page.getByTestId('engine-version').filter({ hasText: 'cfg-hash' }).waitFor();
    const chain = page.getByTestId('audit-chain');
    await chain.waitFor();
    const verify = await fx.store.audit.verify();
    expect(await chain.textContent()).toContain(`Intact: ${verify.checked} records checked`);
    await page.getByTestId('audit-row').first().waitFor();
    await page.getByLabel('audit action').fill('secret.create');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('audit-row').filter({ hasText: 'binance.apiKey' }).waitFor();
    await shot(page, '13-compliance');
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
