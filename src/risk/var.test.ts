import { describe, expect, it } from 'vitest';
import { exposureBreakdown } from './exposure.js';
import { buildRiskReport, renderRiskReportHtml, renderRiskReportText } from './risk-report.js';
import { BUILTIN_SCENARIOS, inferAssetClass, parseScenarios, runStress } from './stress.js';
import {
  historicalVar,
  horizonPnl,
  meanStdev,
  normalQuantile,
  parametricVar,
  portfolioMoments,
  portfolioPnl,
} from './var.js';

// A deterministic shuffle (LCG) so the series is not sorted.
function shuffled(xs: number[], seed = 7): number[] {
  const a = [...xs];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('historical VaR/ES', () => {
  const pnl = shuffled(Array.from({ length: 100 }, (_, i) => i - 50)); // −50 … 49

  it('is the empirical quantile: 95% → the 5th worst day, ES the mean of the 5 worst', () => {
    const v = historicalVar(pnl, 0.95, 1);
    expect(v.var).toBe(46);
    expect(v.es).toBe(48);
    const v99 = historicalVar(pnl, 0.99, 1);
    expect(v99.var).toBe(50);
    expect(v99.es).toBe(50);
  });

  it('10-day: the quantile of the overlapping 10-day sums', () => {
    const sums: number[] = [];
    for (let i = 0; i + 10 <= pnl.length; i++) sums.push(pnl.slice(i, i + 10).reduce((s, x) => s + x, 0));
    expect(horizonPnl(pnl, 10)).toEqual(sums);
    const sorted = [...sums].sort((a, b) => a - b);
    const k = Math.ceil(sums.length * 0.05); // 91 windows → the 5th worst
    const v = historicalVar(pnl, 0.95, 10);
    expect(v.observations).toBe(91);
    expect(v.var).toBe(-sorted[k - 1]);
    expect(v.es).toBeCloseTo(-sorted.slice(0, k).reduce((s, x) => s + x, 0) / k, 12);
  });

  it('refuses a tail it cannot read', () => {
    expect(() => historicalVar(pnl.slice(0, 50), 0.99)).toThrow(/needs at least 100 observations, got 50/);
  });
});

describe('parametric VaR/ES', () => {
  it('normal quantiles match the tables', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 8);
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263478740408408, 8);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 8);
  });

  it('equals the closed form zσ√h − μh and σ√h·φ(z)/(1−c) − μh', () => {
    const mu = 120;
    const sigma = 2_000;
    const phi = (z: number) => Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI);
    for (const [c, z] of [
      [0.95, 1.6448536269514722],
      [0.99, 2.3263478740408408],
    ]) {
      for (const h of [1, 10]) {
        const v = parametricVar(mu, sigma, c, h);
        expect(v.var).toBeCloseTo(z * sigma * Math.sqrt(h) - mu * h, 4);
        expect(v.es).toBeCloseTo((sigma * Math.sqrt(h) * phi(z)) / (1 - c) - mu * h, 4);
      }
    }
  });

  it('portfolio σ from the covariance equals σ of the replayed portfolio P&L', () => {
    const returns = {
      A: [0.01, -0.02, 0.015, 0.003, -0.007, 0.012],
      B: [0.02, 0.01, -0.03, 0.004, 0.006, -0.011],
    };
    const positions = [
      { symbol: 'A', value: 10_000 },
      { symbol: 'B', value: -4_000 },
    ];
    const m = portfolioMoments(positions, returns);
    const direct = meanStdev(portfolioPnl(positions, returns));
    expect(m.mean).toBeCloseTo(direct.mean, 9);
    expect(m.stdev).toBeCloseTo(direct.stdev, 9);
  });
});

describe('stress scenarios and exposure', () => {
  const positions = [
    { symbol: 'BTC/USDT', value: 50_000 },
    { symbol: 'ETH/USDT', value: -20_000 },
    { symbol: 'SPY', value: 100_000 },
  ];

  it('2022-05 on the current positions equals the hand calculation', () => {
    const s = BUILTIN_SCENARIOS.find((x) => x.name === '2022-05');
    if (!s) throw new Error('missing scenario');
    const r = runStress(s, positions);
    // 50 000 × −15.6% + (−20 000) × −29% + 100 000 × 0% = −7 800 + 5 800 + 0
    expect(r.pnl).toBeCloseTo(-2_000, 9);
    expect(r.bySymbol.map((x) => [x.symbol, x.shock])).toEqual([
      ['BTC/USDT', -0.156],
      ['ETH/USDT', -0.29],
      ['SPY', 0],
    ]);
  });

  it("replays the window from the symbol's own history when it covers it", () => {
    const s = BUILTIN_SCENARIOS.find((x) => x.name === '2020-03');
    if (!s) throw new Error('missing scenario');
    const time = [
      Date.parse('2020-02-18T21:00:00Z'),
      Date.parse('2020-02-19T21:00:00Z'),
      Date.parse('2020-03-23T21:00:00Z'),
      Date.parse('2020-03-24T21:00:00Z'),
    ];
    const r = runStress(s, [{ symbol: 'SPY', value: 100_000 }], {
      SPY: { time, close: [336.73, 338.34, 222.95, 243.15] },
    });
    expect(r.bySymbol[0].source).toBe('history');
    expect(r.pnl).toBeCloseTo(100_000 * (222.95 / 338.34 - 1), 9);
  });

  it('user scenarios are validated with the entry and key named', () => {
    expect(() => parseScenarios([{ name: 'x', shocks: { default: -2 } }])).toThrow(/scenarios.0.shocks.default/);
    const [u] = parseScenarios([{ name: 'rates', shocks: { byClass: { fx: -0.1 }, default: 0.02 } }]);
    expect(
      runStress(u, [
        { symbol: 'EUR/USD', value: 10_000 },
        { symbol: 'AAPL', value: 5_000 },
      ]).pnl,
    ).toBeCloseTo(-1_000 + 100, 9);
    expect(inferAssetClass('EUR/USD')).toBe('fx');
    expect(inferAssetClass('XAU/USD')).toBe('commodity');
  });

  it('exposure by symbol, strategy and venue', () => {
    const e = exposureBreakdown(
      [
        { symbol: 'BTC/USDT', strategy: 'trend', venue: 'binance', value: 30_000 },
        { symbol: 'BTC/USDT', strategy: 'mr', venue: 'kraken', value: -10_000 },
        { symbol: 'SPY', strategy: 'trend', venue: 'ibkr', value: 20_000 },
      ],
      100_000,
    );
    expect(e.total).toEqual({ key: 'total', long: 50_000, short: 10_000, gross: 60_000, net: 40_000, grossShare: 0.6 });
    expect(e.bySymbol.map((r) => [r.key, r.gross, r.net])).toEqual([
      ['BTC/USDT', 40_000, 20_000],
      ['SPY', 20_000, 20_000],
    ]);
    expect(e.byStrategy.map((r) => [r.key, r.gross])).toEqual([
      ['trend', 50_000],
      ['mr', 10_000],
    ]);
    expect(e.byVenue.map((r) => r.key)).toEqual(['binance', 'ibkr', 'kraken']);
  });
});

describe('buildRiskReport', () => {
  it('aligns histories on common dates, values positions at the last close and renders text and HTML', () => {
    const day = (i: number) => Date.UTC(2025, 0, 1 + i, 21);
    const n = 120;
    const a = Array.from({ length: n }, (_, i) => 100 * (1 + 0.01 * Math.sin(i)));
    const b = Array.from({ length: n }, (_, i) => 50 * (1 + 0.02 * Math.cos(i / 2)));
    const report = buildRiskReport({
      asOf: day(n),
      equity: 100_000,
      positions: [
        { symbol: 'AAA', quantity: 100, strategy: 's<1>', venue: 'v' },
        { symbol: 'BBB', quantity: -200 },
      ],
      // BBB lacks one day: that date is dropped from both.
      history: {
        AAA: { time: a.map((_, i) => day(i)), close: a },
        BBB: { time: b.map((_, i) => day(i)).filter((_, i) => i !== 60), close: b.filter((_, i) => i !== 60) },
      },
    });
    expect(report.historyDays).toBe(n - 2);
    expect(report.positions[0].value).toBeCloseTo(100 * a[n - 1], 9);
    expect(report.var.map((v) => `${v.method}/${v.confidence}/${v.horizonDays}`)).toEqual([
      'historical/0.95/1',
      'historical/0.95/10',
      'historical/0.99/1',
      'historical/0.99/10',
      'parametric/0.95/1',
      'parametric/0.95/10',
      'parametric/0.99/1',
      'parametric/0.99/10',
    ]);
    expect(report.stress.map((s) => s.scenario)).toEqual(['1987-10', '2008-10', '2020-03', '2022-05']);
    const text = renderRiskReportText(report);
    expect(text).toMatch(/historical\s+95% {4}1/);
    const html = renderRiskReportHtml(report);
    expect(html).toContain('s&lt;1&gt;');
    expect(html).not.toContain('s<1>');
  });
});
