import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './fixtures/wait.js';
import { CHROMIUM } from './fixtures/browser.js';
import { ADMIN, startWebLive, VIEWER, type WebLive } from './fixtures/web-live.js';

// The dashboard's main flow in Debian's chromium against a real runtime (`startRuntime`) on the exchange simulator
// (real ccxt on loopback) with a real store: the order form's order fills on the simulator and the position shows
// up in the table; an order over `risk.maxOrderNotional` is refused with its reason in the page; the kill switch
// cancels the resting order and closes the position, whose closed trade appears in the open page's trade history;
// a viewer sees neither the kill switch nor the order form; a backtest run from the Backtests page on the runtime's
// backtest job ends in its chart and metrics. test/web-dashboard.test.ts drives the rest against a scripted runtime.
const LIMIT = 2000;

let live: WebLive;

describe.skipIf(!existsSync(CHROMIUM))('the dashboard on a real runtime', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    live = await startWebLive({
      seed: 11,
      shots: 'dashboard',
      // SMA(2000) never warms up during the test, so the strategy places nothing of its own.
      deployments: [
        { id: 'live', strategy: 'sma-cross', params: { fast: 500, slow: 2000 }, venue: 'sim', symbols: ['BTC/USDT'] },
      ],
      // The price band is opened wide so a limit buy far under the market can rest until the kill switch.
      risk: { maxOrderNotional: LIMIT, priceBandAtr: 1_000_000 },
    });
  }, 300_000);
  afterAll(async () => {
    await live?.close();
  });

  it('an admin places an order and sees the position, gets a risk rejection with its reason, and kills', async () => {
    const { runtime, sim } = live;
    const dep = runtime.deployments[0];
    const pf = dep.engine.portfolio;
    await waitFor('a BTC/USDT price', () => pf.last[0] > 0);
    const page = await live.loginAs(ADMIN);
    // The trade history's loads from here on (`GET /api/trades` with no filter; the chart's markers ask with
    // `?symbol=`): one when its filter is cleared, then none; a closed trade must come in from the stream.
    const tradeLoads: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/trades' && url.search === '') tradeLoads.push(r.url());
    });
    expect(await page.getByTestId('whoami').textContent()).toBe('admin (admin)');
    await page.getByTestId('positions').getByText('No open positions').waitFor();
    const filter = page.getByLabel('filter symbol');
    await filter.fill('ETH/USDT');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/trades')), filter.fill('')]);
    const loads = tradeLoads.length;
    expect(await page.getByTestId('trade-row').count()).toBe(0);
    await live.shot(page, 'live-1-logged-in');

    // A market buy of about 300 through the form, confirmed in the dialog; the simulator fills it.
    await page.getByLabel('quantity').fill('0.01');
    await page.getByTestId('place-order').click();
    const confirm = page.getByRole('dialog', { name: 'confirm order' });
    expect(await confirm.textContent()).toContain('BUY 0.01 BTC/USDT (market)?');
    await page.getByTestId('confirm-order').click();
    await page.getByTestId('order-result').filter({ hasText: 'Order placed (' }).waitFor();
    const row = page.getByTestId('position-row').filter({ hasText: 'BTC/USDT' });
    await row.waitFor();
    const buys = sim.state.trades.filter((t) => t.symbol === 'BTCUSDT' && t.isBuyer);
    expect(buys.reduce((q, t) => q + t.qty, 0)).toBeCloseTo(0.01, 10);
    // The venue takes a buy's fee in BTC, so the position is the bought quantity less that fee.
    const held = pf.qty[0];
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(0.01);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['BTC/USDT', 'long', String(held)]);
    await live.shot(page, 'live-2-position');

    // About twice the limit: the risk engine refuses it and the page shows the code and the limit.
    const tooBig = (Math.ceil(((2 * LIMIT) / pf.last[0]) * 1e4) / 1e4).toString();
    const before = sim.state.orders.length;
    await page.getByLabel('quantity').fill(tooBig);
    await page.getByTestId('place-order').click();
    await page.getByTestId('confirm-order').click();
    const refused = page.getByTestId('order-result').filter({ hasText: 'Rejected by risk: MAX_NOTIONAL' });
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(
      /^Rejected by risk: MAX_NOTIONAL — order value [\d.]+ exceeds maxOrderNotional 2000 /,
    );
    expect(sim.state.orders.length).toBe(before);
    await live.shot(page, 'live-3-risk-rejection');

    // A limit buy at half the price rests on the venue, so the kill switch has an order to cancel.
    const half = Math.floor(pf.last[0] / 2);
    await page.getByLabel('type').selectOption('limit');
    await page.getByLabel('price').fill(String(half));
    await page.getByLabel('quantity').fill('0.001');
    await page.getByTestId('place-order').click();
    await page.getByTestId('confirm-order').click();
    await page.getByTestId('order-result').filter({ hasText: 'Order placed (' }).waitFor();
    await page.getByTestId('open-order-row').filter({ hasText: 'BTC/USDT' }).waitFor();
    await waitFor('the limit order to rest on the simulator', () =>
      sim.state.orders.some((o) => o.type === 'LIMIT' && o.status === 'NEW' && o.price === half),
    );

    await page.getByTestId('kill-switch').click();
    const dialog = page.getByRole('dialog', { name: 'confirm' });
    expect(await dialog.textContent()).toContain('Cancel every order, close every position and halt trading?');
    await live.shot(page, 'live-4-kill-confirm');
    await page.getByTestId('confirm').click();
    await page
      .getByTestId('control-result')
      .filter({ hasText: /^kill switch engaged: 1 order\(s\) cancelled, 1 position\(s\) closing \(\d+ ms\)$/ })
      .waitFor();
    await page.getByTestId('kill-state').filter({ hasText: 'ENGAGED' }).waitFor();
    await page.getByTestId('positions').getByText('No open positions').waitFor();
    await page.getByTestId('open-orders').getByText('No open orders').waitFor();
    expect(pf.qty[0]).toBe(0);
    const sells = sim.state.trades.filter((t) => t.symbol === 'BTCUSDT' && !t.isBuyer);
    expect(sells.reduce((q, t) => q + t.qty, 0)).toBeCloseTo(held, 10);
    expect(sim.state.orders.find((o) => o.type === 'LIMIT' && o.price === half)?.status).toBe('CANCELED');

    // The closing sell closed the round trip: the open page's trade history shows it, from the stream's
    // trade.closed.v1 event (no second load), as the store recorded it.
    const tradeRow = page.getByTestId('trade-row').filter({ hasText: 'BTC/USDT' });
    await tradeRow.waitFor();
    expect(tradeLoads).toHaveLength(loads);
    type Stored = { symbol: string; side: string; pnl: number; exitReason: string; strategyId: string };
    let stored: Stored[] = [];
    await waitFor('the closed trade in the store', async () => {
      const r = await fetch(`${runtime.url}/api/trades`, { headers: live.cli });
      stored = ((await r.json()) as { trades: Stored[] }).trades;
      return stored.length > 0;
    });
    expect(stored).toHaveLength(1);
    expect(await page.getByTestId('trade-row').count()).toBe(1);
    const [t] = stored;
    expect((await tradeRow.locator('td').allTextContents()).slice(1)).toEqual([
      t.strategyId,
      'BTC/USDT',
      'long',
      t.pnl.toFixed(2),
      t.exitReason,
    ]);
    await live.shot(page, 'live-5-killed');
    await page.context().close();
  });

  it('a viewer sees the kill state and positions but no kill switch and no order form', async () => {
    const page = await live.loginAs(VIEWER);
    await page.getByTestId('kill-state').filter({ hasText: 'ENGAGED' }).waitFor();
    expect(await page.getByTestId('whoami').textContent()).toBe('viewer (viewer)');
    await page.getByTestId('positions').waitFor();
    expect(await page.getByTestId('kill-switch').count()).toBe(0);
    expect(await page.getByRole('form', { name: 'order' }).count()).toBe(0);
    expect(await page.getByTestId('place-order').count()).toBe(0);
    await live.shot(page, 'live-6-viewer');
    await page.context().close();
  });
  it('an admin runs a backtest on the runtime and sees its progress, metrics and equity chart', async () => {
    const { runtime } = live;
    const get = async <T>(path: string) =>
      (await (await fetch(`${runtime.url}${path}`, { headers: live.cli })).json()) as T;
    const page = await live.loginAs(ADMIN, 'Backtests');
    await page.getByLabel('strategy').selectOption('sma-cross');
    await page.getByLabel('param fast').fill('10');
    await page.getByLabel('param slow').fill('30');
    await page.getByTestId('run-backtest').click();
    // The runtime's backtest job (a worker thread on the bundled sample) reports progress, then its stored run.
    await page.getByLabel('backtest progress').waitFor();
    await page.locator('[data-testid="backtest-job"][data-status="done"]').waitFor();
    const chart = page.locator('[data-testid="backtest-chart"][data-runs="1"]');
    await chart.waitFor();

    const { runs } = await get<{ runs: { id: string; strategy: string; kind: string }[] }>('/api/backtests?limit=50');
    const mine = runs.filter((r) => r.kind === 'backtest');
    expect(mine).toHaveLength(1);
    const run = await get<{
      strategy: string;
      config: { params?: Record<string, unknown> };
      metrics: { sharpe: number; totalReturnPct: number; trades: number };
      equity: { time: number[] };
    }>(`/api/backtests/${mine[0].id}?trades=1`);
    expect(run.strategy).toBe('sma-cross');
    expect(run.config.params).toMatchObject({ fast: 10, slow: 30 });
    expect(run.metrics.trades).toBeGreaterThan(0);
    expect(Number(await chart.getAttribute('data-points'))).toBe(run.equity.time.length);
    expect(run.equity.time.length).toBeGreaterThan(100);
    expect(await page.locator('[data-metric="sharpe"]').textContent()).toBe(run.metrics.sharpe.toFixed(2));
    expect(await page.locator('[data-metric="totalReturnPct"]').textContent()).toContain(
      run.metrics.totalReturnPct.toFixed(2),
    );
    await live.shot(page, 'live-7-backtest');
    await page.context().close();
  });
});
