import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../src/backtest/report/index.js';
import { chartIndicators } from '../src/backtest/report/indicators.js';
import { type BacktestResult, runBacktest } from '../src/backtest/runner.js';
import { type BarColumns, barsToColumns } from '../src/core/bar.js';
import { getStrategy } from '../src/strategy/registry.js';
import { CHROMIUM, launchChromium } from './fixtures/browser.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** A wave with cent prices, so a crossover strategy and a grid both trade many times. */
function bars(n: number): BarColumns {
  return barsToColumns(
    Array.from({ length: n }, (_, i) => {
      const mid = 100 + 8 * Math.sin(i / 15) + 2 * Math.sin(i / 3.7);
      const open = Math.round(mid * 100) / 100;
      const close = Math.round((mid + Math.sin(i) * 0.8) * 100) / 100;
      return {
        time: T0 + i * HOUR,
        open,
        high: Math.max(open, close) + 0.35,
        low: Math.min(open, close) - 0.35,
        close,
        volume: 1000,
      };
    }),
  );
}

/** The parts of `window.tradeforgeReport` the checks read (the chart library's own API). */
interface ReportHandle {
  markers: { markers(): unknown[] };
  candles: { priceLines(): unknown[] };
  chart: {
    panes(): unknown[];
    timeScale(): { getVisibleLogicalRange(): { from: number; to: number } | null };
  };
}

/** The page's globals the checks read (this file is compiled without the DOM library). */
interface PageGlobals {
  tradeforgeReport: ReportHandle;
  document: { querySelectorAll(selector: string): { length: number } };
}

interface PageState {
  markers: number;
  panes: number;
  priceLines: number;
  canvases: number;
  range: { from: number; to: number } | null;
}

describe.skipIf(!existsSync(CHROMIUM))('backtest HTML report in a real browser', { timeout: 300_000 }, () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'tf-report-browser-'));

  beforeAll(async () => {
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a report with every network request blocked and counted; collects console errors and page errors. */
  async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).tradeforgeReport);
    return { page, errors, requests };
  }

  const state = (page: Page): Promise<PageState> =>
    page.evaluate(() => {
      // The page's handle: the chart library's chart, candle series and markers plugin (see page-script.ts).
      const g = globalThis as unknown as PageGlobals;
      const r = g.tradeforgeReport;
      return {
        markers: r.markers.markers().length,
        panes: r.chart.panes().length,
        priceLines: r.candles.priceLines().length,
        canvases: g.document.querySelectorAll('#chart canvas').length,
        range: r.chart.timeScale().getVisibleLogicalRange(),
      };
    });

  function report(result: BacktestResult, columns: BarColumns, name: string, indicators = true): string {
    const file = join(dir, name);
    const def = getStrategy(result.strategy);
    writeHtmlReport(
      file,
      result,
      columns,
      indicators ? { indicators: chartIndicators(def, result.params, columns) } : {},
    );
    return file;
  }

  it('sma-cross: loads with no console error, shows every entry and exit marker, and a trade row moves the chart', async () => {
    const columns = bars(600);
    const result = runBacktest({
      data: { symbol: 'WAVE', columns, timeframe: '1h' },
      strategy: 'sma-cross',
      params: { fast: 5, slow: 20 },
    });
    expect(result.trades.length).toBeGreaterThan(3);
    const { page, errors, requests } = await open(report(result, columns, 'sma.html'));
    const s = await state(page);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(s.markers).toBe(result.trades.length * 2);
    expect(s.canvases).toBeGreaterThan(0);
    // Price (with the two SMAs), equity and drawdown share one time scale.
    expect(s.panes).toBe(3);

    // Click the last trade's row: the visible range moves to that trade's candles.
    const last = result.trades.length - 1;
    const t = result.trades[last];
    await page.locator(`#trades tr[data-trade="${last}"]`).click();
    const after = await state(page);
    const entryIdx = (t.entryTime - T0) / HOUR;
    const exitIdx = (t.exitTime - T0) / HOUR;
    expect(after.range!.from).toBeLessThanOrEqual(entryIdx);
    expect(after.range!.to).toBeGreaterThanOrEqual(exitIdx);
    expect(after.range!.to - after.range!.from).toBeLessThan(600);

    // Sorting by net P&L puts the worst trade first.
    await page.locator('#trades thead th', { hasText: /^net pnl$/ }).click();
    const first = await page.locator('#trades tbody tr').first().getAttribute('data-trade');
    const worst = result.trades.reduce((w, x, i) => (x.pnl < result.trades[w].pnl ? i : w), 0);
    expect(Number(first)).toBe(worst);
    await page.context().close();
  });

  it('grid: draws the levels, marks each cycle and plots inventory under the price', async () => {
    const columns = bars(800);
    const result = runBacktest({
      data: { symbol: 'WAVE', columns, timeframe: '1h' },
      strategy: 'grid',
      params: { lower: 92, upper: 108, levels: 9, quantity: 1 },
    });
    const cycles = result.strategyStats?.summary?.['cycles completed'] as number;
    expect(cycles).toBeGreaterThan(3);
    const { page, errors, requests } = await open(report(result, columns, 'grid.html'));
    const s = await state(page);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(s.priceLines).toBe(9);
    // Trade markers (entry and exit of each round trip) plus one marker per completed cycle.
    expect(s.markers).toBe(result.trades.length * 2 + cycles);
    // Price, equity, drawdown, then inventory, unrealised P&L and capital in use.
    expect(s.panes).toBe(6);
    expect(await page.locator('.strategy-table[data-name="cycles"] tbody tr').count()).toBe(cycles);
    await page.context().close();
  });

  it('a 100k-bar run: candles merged for display, the page still loads cleanly', async () => {
    const columns = bars(100_000);
    const result = runBacktest({
      data: { symbol: 'WAVE', columns, timeframe: '1h' },
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
    });
    const file = report(result, columns, 'big.html');
    const { page, errors } = await open(file);
    const s = await state(page);
    expect(errors).toEqual([]);
    expect(await page.locator('#decimation').textContent()).toContain('100000 bars shown as 20000 candles of 5 bars');
    expect(s.markers).toBeGreaterThan(0);
    await page.context().close();
  });
});
