import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pnlByPeriod } from '../src/server/api/pnl.js';
import { CHROMIUM } from './fixtures/browser.js';
import { ADMIN, startWebLive, VIEWER, type WebLive } from './fixtures/web-live.js';
import { waitFor } from './fixtures/wait.js';
import { call } from './server-api-fixture.js';

// The dashboard's risk preferences and Portfolio page in Debian's chromium against the live runtime on the exchange
// simulator (real ccxt on loopback): the limit is changed in the page and the runtime's risk engine refuses the next
// order with it; the P&L by period comes from trades the runtime made and stored.
let live: WebLive;

const port = () => ({ port: Number(new URL(live.runtime.url).port) });
const order = (side: 'buy' | 'sell', quantity: number) =>
  call(port(), 'POST', '/api/orders', {
    headers: live.cli,
    body: { symbol: 'BTC/USDT', side, type: 'market', quantity, confirm: true },
  });

describe.skipIf(!existsSync(CHROMIUM))(
  'risk preferences and the Portfolio page in a real browser',
  { timeout: 300_000 },
  () => {
    beforeAll(async () => {
      live = await startWebLive({
        seed: 5,
        shots: 'dashboard',
        risk: { maxOrderNotional: 5000 },
        deployments: [
          { id: 'wp', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'sim', symbols: ['BTC/USDT'] },
        ],
      });
    }, 300_000);
    afterAll(async () => {
      await live?.close();
    });

    it('an admin lowers a limit in Settings and the next order is refused by it; loosening asks first', async () => {
      const dep = live.runtime.deployments[0];
      await waitFor('a price', () => dep.engine.portfolio.last[0] > 0);
      // About 1 000 of notional: inside the file's 5 000, outside the 500 set below.
      const qty = (Math.ceil((1000 / dep.engine.portfolio.last[0]) * 1e4) / 1e4).toString();
      const page = await live.loginAs(ADMIN);
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      const form = page.getByTestId('risk-settings');
      await form.getByLabel('maxOrderNotional').fill('abc');
      await form.getByTestId('save-risk').click();
      await form.getByTestId('risk-field-error').waitFor();
      expect(await form.getByTestId('risk-field-error').textContent()).toMatch(/number/i);
      await form.getByLabel('maxOrderNotional').fill('500');
      await form.getByTestId('save-risk').click();
      await form.getByTestId('risk-settings-result').filter({ hasText: 'Risk limits saved and in force.' }).waitFor();
      expect(dep.risk.config.maxOrderNotional).toBe(500);
      await live.shot(page, 'settings-1-risk-lowered');

      await page.getByRole('button', { name: 'Trading', exact: true }).click();
      await page.getByLabel('quantity').fill(qty);
      await page.getByTestId('place-order').click();
      await page.getByTestId('confirm-order').click();
      const result = page.getByTestId('order-result');
      await result.filter({ hasText: 'MAX_NOTIONAL' }).waitFor();
      expect(await result.textContent()).toContain('500');
      await live.shot(page, 'settings-2-refused-by-new-limit');

      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await form.getByLabel('maxOrderNotional').fill('5000');
      await form.getByTestId('save-risk').click();
      const dialog = page.getByRole('dialog', { name: 'confirm loosening' });
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain('maxOrderNotional 500 -> 5000');
      expect(dep.risk.config.maxOrderNotional).toBe(500);
      await live.shot(page, 'settings-3-confirm-loosening');
      await dialog.getByTestId('confirm-loosening').click();
      await form.getByTestId('risk-settings-result').filter({ hasText: 'saved' }).waitFor();
      expect(dep.risk.config.maxOrderNotional).toBe(5000);
      await page.context().close();
    });

    it('a viewer sees the limits but cannot change them', async () => {
      const page = await live.loginAs(VIEWER);
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await page.getByTestId('risk-settings').waitFor();
      expect(await page.getByTestId('save-risk').count()).toBe(0);
      expect(await page.getByTestId('risk-settings').getByLabel('maxOrderNotional').isDisabled()).toBe(true);
      expect(await page.getByTestId('alert-channels').count()).toBe(0);
      await page.context().close();
    });

    it('the Portfolio page shows P&L by period from trades the runtime made, and the allocation', async () => {
      const dep = live.runtime.deployments[0];
      for (let round = 0; round < 2; round++) {
        expect((await order('buy', 0.01)).json).toMatchObject({ accepted: true });
        await waitFor('the buy to fill', () => dep.engine.portfolio.qty[0] > 0);
        expect((await order('sell', dep.engine.portfolio.qty[0])).json).toMatchObject({ accepted: true });
        await waitFor('the sell to fill', () => dep.engine.portfolio.qty[0] === 0);
      }
      let trades = await live.runtime.store.trades.list();
      for (let i = 0; trades.length < 2; i++) {
        if (i > 1200) throw new Error('the closed trades never reached the store');
        await new Promise((r) => setTimeout(r, 50));
        trades = await live.runtime.store.trades.list();
      }
      // A position left open for the allocation view.
      expect((await order('buy', 0.01)).json).toMatchObject({ accepted: true });
      await waitFor('the last buy to fill', () => dep.engine.portfolio.qty[0] > 0);

      const page = await live.loginAs(VIEWER);
      await page.getByRole('button', { name: 'Portfolio', exact: true }).click();
      for (const period of ['day', 'week', 'month'] as const) {
        await page.getByTestId(`pnl-${period}`).click();
        const expected = pnlByPeriod(trades, period);
        const rows = page.getByTestId('pnl-row');
        await rows.first().waitFor();
        await page.waitForFunction(
          `document.querySelectorAll('[data-testid="pnl-row"]').length === ${expected.length}`,
        );
        const shown = await page.getByTestId('pnl-value').allTextContents();
        expect(shown).toEqual(expected.map((r) => r.pnl.toFixed(4)));
        const counts = await page.getByTestId('pnl-trades').allTextContents();
        expect(counts.map(Number).reduce((a, b) => a + b, 0)).toBe(trades.length);
      }
      await page.getByTestId('allocation-symbol').getByText('BTC/USDT').waitFor();
      await page.getByTestId('allocation-venue').getByText('sim').waitFor();
      expect(await page.getByTestId('portfolio-maxdd').textContent()).toMatch(/^\d+\.\d\d%$/);
      await page.getByTestId('portfolio-drawdown-chart').locator('canvas').first().waitFor();
      await live.shot(page, 'portfolio-1');
      await page.context().close();
    });
  },
);
