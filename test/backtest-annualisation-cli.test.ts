import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

// Annualisation from the data's calendar, the same on `backtest` and `optimize` (issue #11 item 6).
const home = mkdtempSync(join(tmpdir(), 'tf-annual-'));
const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample', 'sp500_2000.csv');
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { home, guardMs: 120_000 });

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('annualisation on backtest and optimize', { timeout: 600_000 }, () => {
  it('S&P 500 daily bars (no weekends) are annualised over 252 days; --periods-per-year overrides it', () => {
    const a = join(home, 'a.json');
    const r = cli('backtest', '--data', SAMPLE, '--strategy', 'sma-cross', '--no-store', '--json', a);
    expect(r.code, r.err).toBe(0);
    expect(json(a).metrics).toMatchObject({ barsPerYear: 252, annualisationBasis: 'calendar-252' });
    expect(r.out).toMatch(/annualised by\s+252 bars\/year \(calendar-252\)/);
    expect(r.out).toMatch(/net P&L\s+-?[\d,]+\.\d\d \(after fees; gross before fees -?[\d,]+\.\d\d\)/);

    const b = join(home, 'b.json');
    const o = cli(
      'backtest',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--no-store',
      '--quiet',
      '--periods-per-year',
      '365',
      '--json',
      b,
    );
    expect(o.code, o.err).toBe(0);
    const mb = json(b).metrics;
    expect(mb).toMatchObject({ barsPerYear: 365, annualisationBasis: 'periods-per-year' });
    expect(mb.sharpe / json(a).metrics.sharpe).toBeCloseTo(Math.sqrt(365 / 252), 10);
  });

  it('optimize annualises the same way, and takes --periods-per-year', () => {
    const run = (file: string, ...extra: string[]) =>
      cli(
        'optimize',
        '--data',
        SAMPLE,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=10..10:1',
        '--param',
        'slow=30..30:1',
        '--workers',
        '1',
        '--json',
        file,
        ...extra,
      );
    const c = join(home, 'c.json');
    expect(run(c).code).toBe(0);
    expect(json(c).best.metrics).toMatchObject({ barsPerYear: 252, annualisationBasis: 'calendar-252' });
    const d = join(home, 'd.json');
    expect(run(d, '--periods-per-year', '365').code).toBe(0);
    expect(json(d).best.metrics).toMatchObject({ barsPerYear: 365, annualisationBasis: 'periods-per-year' });
    expect(
      cli('optimize', '--data', SAMPLE, '--strategy', 'sma-cross', '--param', 'fast=5..10:5', '--periods-per-year', '0')
        .err,
    ).toMatch(/^error: --periods-per-year must be positive, got 0/);
  });
});
