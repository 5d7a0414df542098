import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { AuthService, Redactor, Vault } from '../src/security/index.js';
import { DEFAULT_DASHBOARD_DIR } from '../src/server/api/dashboard.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { PASSWORD } from './server-api-fixture.js';

// The Deployments page in Debian's chromium against a real runtime on the exchange simulator (no scripted port):
// an admin creates a paper deployment, starts it and sees it running, stops it; a viewer sees no controls.
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
const SHOTS = resolve(import.meta.dirname, '../test-results/deployments');
const MASTER = randomBytes(32).toString('hex');

let sim: SimulatorHandle;
let dir: string;
let runtime: Runtime | undefined;
let browser: Browser;

async function loginAs(username: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Generous: a loaded CI box renders slowly; the waits end on the event, not the timeout.
  context.setDefaultTimeout(120_000);
  const page = await context.newPage();
  await page.goto(`${(runtime as Runtime).url}/#Deployments`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('whoami').waitFor();
  await page.getByTestId('deployments').waitFor();
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe.skipIf(!existsSync(CHROMIUM))('the Deployments page on a real runtime', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    expect(existsSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'))).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    sim = await startSimulator({ seed: 3, tickIntervalMs: 50 });
    dir = mkdtempSync(join(tmpdir(), 'tf-web-deployments-'));
    const home = resolveHome({}, join(dir, 'home'));
    const seed = await openStore({ home });
    const vault = await Vault.create(seed, { masterKey: MASTER }, { redactor: new Redactor() });
    const auth = new AuthService(seed, { vault, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
    await auth.createOwner('admin', PASSWORD);
    await auth.createUser('viewer', PASSWORD, 'viewer', 'test');
    await seed.close();
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [
        {
          id: 'cfg',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'sim',
          symbols: ['BTC/USDT'],
        },
      ],
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, heartbeatSeconds: 1 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop('test end');
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an admin creates a paper deployment, starts it, sees it running, and stops it', async () => {
    const page = await loginAs('admin');
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
    expect(runtime?.deployments.map((d) => d.id)).toEqual(['cfg', 'web-eth']);
    await shot(page, '2-running');

    await row.getByTestId('stop-deployment').click();
    await page.getByRole('dialog', { name: 'confirm stop' }).waitFor();
    await page.getByTestId('confirm-deployment').click();
    await page.getByTestId('deployment-result').filter({ hasText: 'deployment web-eth stopped' }).waitFor();
    await row.getByTestId('deployment-status').filter({ hasText: 'stopped' }).waitFor();
    expect(runtime?.deployments.map((d) => d.id)).toEqual(['cfg']);
    await shot(page, '3-stopped');
    await page.context().close();
  });

  it('a viewer sees the deployments but no form and no start or stop button', async () => {
    const page = await loginAs('viewer');
    await page.getByTestId('deployment-row').filter({ hasText: 'web-eth' }).waitFor();
    expect(await page.getByTestId('create-deployment').count()).toBe(0);
    expect(await page.getByTestId('start-deployment').count()).toBe(0);
    expect(await page.getByTestId('stop-deployment').count()).toBe(0);
    await shot(page, '4-viewer');
    await page.context().close();
  });
});
