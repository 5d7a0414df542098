import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HomePaths, resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { AuthService } from '../src/security/auth.js';
import { Vault } from '../src/security/vault.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import { DEFAULT_DASHBOARD_DIR } from '../src/server/api/dashboard.js';
import { pnlByPeriod } from '../src/server/api/pnl.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './ops-fakes.js';
import { call, PASSWORD } from './server-api-fixture.js';

// The dashboard's risk preferences and Portfolio page in Debian's chromium against the live runtime on the exchange
// simulator (real ccxt on loopback): the limit is changed in the page and the runtime's risk engine refuses the next
// order with it; the P&L by period comes from trades the runtime made and stored.
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
const MASTER_KEY = randomBytes(32).toString('hex');
const SHOTS = resolve(import.meta.dirname, '../test-results/dashboard');

let sim: SimulatorHandle;
let dir: string;
let home: HomePaths;
let runtime: Runtime;
let browser: Browser;
let cli: Record<string, string>;

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function loginAs(username: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(120_000);
  const page = await context.newPage();
  await page.goto(runtime.url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('whoami').waitFor();
  return page;
}

const port = () => ({ port: Number(new URL(runtime.url).port) });
const order = (side: 'buy' | 'sell', quantity: number) =>
  call(port(), 'POST', '/api/orders', {
    headers: cli,
    body: { symbol: 'BTC/USDT', side, type: 'market', quantity, confirm: true },
  });

describe.skipIf(!existsSync(CHROMIUM))(
  'risk preferences and the Portfolio page in a real browser',
  { timeout: 300_000 },
  () => {
    beforeAll(async () => {
      expect(existsSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'))).toBe(true);
      mkdirSync(SHOTS, { recursive: true });
      sim = await startSimulator({ seed: 5, tickIntervalMs: 50 });
      dir = mkdtempSync(join(tmpdir(), 'tf-web-settings-'));
      home = resolveHome({}, join(dir, 'home'));
      const store = await openStore({ home });
      await Vault.create(store, { masterKey: MASTER_KEY });
      const auth = new AuthService(store, { passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
      await auth.createOwner('boss', PASSWORD);
      await auth.createUser('watcher', PASSWORD, 'viewer', 'test');
      await store.close();
      runtime = await startRuntime({
        config: resolveConfig({
          server: { port: 0 },
          venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
          risk: { maxOrderNotional: 5000 },
          deployments: [
            { id: 'wp', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'sim', symbols: ['BTC/USDT'] },
          ],
          runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, heartbeatSeconds: 5 },
        }),
        profile: 'dev',
        home,
        env: { TRADEFORGE_MASTER_KEY: MASTER_KEY },
      });
      cli = { authorization: `Bearer ${readCliToken(home.run) ?? ''}` };
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    }, 300_000);
    afterAll(async () => {
      await browser?.close();
      await runtime?.stop('test end');
      await sim?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('an admin lowers a limit in Settings and the next order is refused by it; loosening asks first', async () => {
      const dep = runtime.deployments[0];
      await waitFor(() => dep.engine.portfolio.last[0] > 0, 60_000, 'a price');
      // About 1 000 of notional: inside the file's 5 000, outside the 500 set below.
      const qty = (Math.ceil((1000 / dep.engine.portfolio.last[0]) * 1e4) / 1e4).toString();
      const page = await loginAs('boss');
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
      await shot(page, 'settings-1-risk-lowered');

      await page.getByRole('button', { name: 'Trading', exact: true }).click();
      await page.getByLabel('quantity').fill(qty);
      await page.getByTestId('place-order').click();
      await page.getByTestId('confirm-order').click();
      const result = page.getByTestId('order-result');
      await result.filter({ hasText: 'MAX_NOTIONAL' }).waitFor();
      expect(await result.textContent()).toContain('500');
      await shot(page, 'settings-2-refused-by-new-limit');

      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await form.getByLabel('maxOrderNotional').fill('5000');
      await form.getByTestId('save-risk').click();
      const dialog = page.getByRole('dialog', { name: 'confirm loosening' });
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain('maxOrderNotional 500 -> 5000');
      expect(dep.risk.config.maxOrderNotional).toBe(500);
      await shot(page, 'settings-3-confirm-loosening');
      await dialog.getByTestId('confirm-loosening').click();
      await form.getByTestId('risk-settings-result').filter({ hasText: 'saved' }).waitFor();
      expect(dep.risk.config.maxOrderNotional).toBe(5000);
      await page.context().close();
    });

    it('a viewer sees the limits but cannot change them', async () => {
      const page = await loginAs('watcher');
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await page.getByTestId('risk-settings').waitFor();
      expect(await page.getByTestId('save-risk').count()).toBe(0);
      expect(await page.getByTestId('risk-settings').getByLabel('maxOrderNotional').isDisabled()).toBe(true);
      expect(await page.getByTestId('alert-channels').count()).toBe(0);
      await page.context().close();
    });

    it('the Portfolio page shows P&L by period from trades the runtime made, and the allocation', async () => {
      const dep = runtime.deployments[0];
      for (let round = 0; round < 2; round++) {
        expect((await order('buy', 0.01)).json).toMatchObject({ accepted: true });
        await waitFor(() => dep.engine.portfolio.qty[0] > 0, 60_000, 'the buy to fill');
        expect((await order('sell', dep.engine.portfolio.qty[0])).json).toMatchObject({ accepted: true });
        await waitFor(() => dep.engine.portfolio.qty[0] === 0, 60_000, 'the sell to fill');
      }
      let trades = await runtime.store.trades.list();
      for (let i = 0; trades.length < 2; i++) {
        if (i > 1200) throw new Error('the closed trades never reached the store');
        await new Promise((r) => setTimeout(r, 50));
        trades = await runtime.store.trades.list();
      }
      // A position left open for the allocation view.
      expect((await order('buy', 0.01)).json).toMatchObject({ accepted: true });
      await waitFor(() => dep.engine.portfolio.qty[0] > 0, 60_000, 'the last buy to fill');

      const page = await loginAs('watcher');
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
      await shot(page, 'portfolio-1');
      await page.context().close();
    });
  },
);
