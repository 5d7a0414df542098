/**
 * Dashboard first load (`npm run bench dashboard`; issue 13: under 2 s on this machine). Debian's chromium
 * (playwright-core) opens the built dashboard in a fresh context (empty cache) against the API fixture: time to the
 * login form, and from the login click to the trading screen with its candles drawn. Five rounds; median and worst.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { DEFAULT_DASHBOARD_DIR } from '../src/server/api/dashboard.js';
import { PASSWORD, startApiFixture } from '../test/server-api-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ROUNDS = 5;

export default async function bench(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    process.stdout.write(`skipped: no ${CHROMIUM}\n`);
    return;
  }
  if (!existsSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: resolve(import.meta.dirname, '../web/vite.config.ts'), logLevel: 'warn' });
  }
  const fx = await startApiFixture({ loginsPerMinute: 1000 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const form: number[] = [];
  const screen: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(fx.url);
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      form.push(performance.now() - t0);
      await page.getByLabel('Username').fill('viewer');
      await page.getByLabel('Password').fill(PASSWORD);
      const t1 = performance.now();
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('[data-testid="candle-chart"]:not([data-candles="0"])').waitFor();
      await page.getByTestId('position-row').first().waitFor();
      screen.push(performance.now() - t1);
      await context.close();
    }
  } finally {
    await browser.close();
    await fx.close();
  }
  const med = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
  const f = (x: number) => `${x.toFixed(0)} ms`;
  process.stdout.write(
    [
      `cold load to the login form      median ${f(med(form))}  worst ${f(Math.max(...form))}   (target < 2000 ms)`,
      `login to trading screen + chart  median ${f(med(screen))}  worst ${f(Math.max(...screen))}`,
      `first load total (worst round)   ${f(Math.max(...form.map((x, i) => x + screen[i])))}`,
      '',
    ].join('\n'),
  );
}
