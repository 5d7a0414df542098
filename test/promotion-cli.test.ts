import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../src/security/vault.js';
import { openStore } from '../src/store/index.js';
import { ZIGZAG_RULES, zigzag } from './fixtures/zigzag.js';
import { runCli } from './fixtures/cli.js';

// The promotion commands end to end: `strategy gate`, `strategy policy`, `deploy`, `promote`, `retire`,
// `strategy history`, each move and refusal in the audit log (`audit verify` passes afterwards).
const MASTER = randomBytes(32).toString('hex');
let home: string;

const cli = (args: string[], env: Record<string, string> = { TRADEFORGE_MASTER_KEY: MASTER }) =>
  runCli(args, { home, env, cleanEnv: true });

function csv(file: string, segments: { bars: number; amp: number }[]): void {
  const c = zigzag(segments);
  const rows = ['time,open,high,low,close,volume'];
  for (let i = 0; i < c.length; i++) {
    const day = new Date(c.time[i]).toISOString().slice(0, 10);
    rows.push(`${day},${c.open[i]},${c.high[i]},${c.low[i]},${c.close[i]},${c.volume[i]}`);
  }
  writeFileSync(file, `${rows.join('\n')}\n`);
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tf-promotion-cli-'));
  const store = await openStore({ home });
  await Vault.create(store, { masterKey: MASTER });
  await store.close();
  writeFileSync(join(home, 'zz.rules'), ZIGZAG_RULES);
  csv(join(home, 'pass.csv'), [{ bars: 200, amp: 2 }]);
  csv(join(home, 'few.csv'), [
    { bars: 1, amp: 0 },
    { bars: 58, amp: 2 },
    { bars: 92, amp: 0 },
    { bars: 24, amp: 2 },
    { bars: 25, amp: 0 },
  ]);
});
afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('tradeforge strategy gate | policy | history, deploy, promote, retire', { timeout: 900_000 }, () => {
  it('moves a version through the gate into its dry run, refuses what is not allowed, and audits it all', () => {
    expect(cli(['strategy', 'import', '--rules', join(home, 'zz.rules'), '--id', 'zz']).out).toMatch(/^stored zz@v1 /);
    const badFolds = cli(['strategy', 'gate', 'zz@v1', '--data', join(home, 'few.csv'), '--folds', '0']);
    expect(badFolds.code).toBe(2);
    expect(badFolds.err).toBe('error: --folds expects a positive whole number, got "0"\n');
    const few = cli(['strategy', 'gate', 'zz@v1', '--data', join(home, 'few.csv')]);
    expect(few.code).toBe(1);
    expect(few.err).toBe('error: zz@v1 backtested -> gated: refused: in sample: 29 trades are fewer than 30\n');
    // The fee is the backtests': at 3 % a side every 4 % swing loses.
    const fees = cli(['strategy', 'gate', 'zz@v1', '--data', join(home, 'pass.csv'), '--fee', '0.03']);
    expect(fees.code).toBe(1);
    expect(fees.err).toMatch(/in sample: win rate 0% is below 35%/);
    const pass = cli(['strategy', 'gate', 'zz@v1', '--data', join(home, 'pass.csv'), '--folds', '2', '--fee', '0.002']);
    expect(pass.code, pass.err).toBe(0);
    // Two rolling folds over 200 bars: out-of-sample windows of 40 bars after in-sample windows of 120.
    expect(pass.out).toMatch(
      /^fold 1 in sample\s+120 bars, \d+ trades, Sharpe [\d.]+, max drawdown [\d.]+%, win rate 100.00%$/m,
    );
    expect(pass.out).toMatch(/^fold 2 out of sample 40 bars, \d+ trades, /m);
    expect(pass.out).toMatch(/zz@v1: gate passed, now gated\n$/);

    const lower = cli(['strategy', 'policy', '--min-sharpe', '0.3', '--reason', 'easier']);
    expect(lower.code).toBe(1);
    expect(lower.err).toMatch(/thresholds may only become stricter: thresholds.minSharpe 0.5 -> 0.3/);
    const raise = cli(['strategy', 'policy', '--min-trades', '40']);
    expect(raise.code, raise.err).toBe(0);
    expect(raise.out).toMatch(/trades >= 40; dry run >= 14 days/);

    const live = cli(['deploy', 'zz@v1', '--profile', 'live', '--confirm-live']);
    expect(live.code).toBe(1);
    expect(live.err).toMatch(/a gated version moves to dry_run next, not to live/);
    const dry = cli(['deploy', 'zz@v1', '--profile', 'dry_run', '--reason', 'paper first']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toBe('zz@v1: gated -> dry_run\n');
    const early = cli(['promote', 'zz@v1', '--confirm-live']);
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/the dry run has run 0.0 of 14 days/);
    expect(early.err).toMatch(/no deployment has run zz@v1 under the dry_run profile/);

    const locked = cli(['retire', 'zz@v1'], {});
    expect(locked.code).toBe(2);
    expect(locked.err).toMatch(/^error: .*TRADEFORGE_MASTER_KEY/);
    const bad = cli(['deploy', 'zz@v1', '--profile', 'prod']);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('error: --profile must be dry_run or live, got "prod"\n');
    const retire = cli(['retire', 'zz@v1', '--reason', 'replaced']);
    expect(retire.out).toBe('zz@v1: dry_run -> retired\n');

    const history = cli(['strategy', 'history', 'zz@v1']);
    expect(history.out.split('\n').map((l) => l.replace(/^ {2}\S+ /, ''))).toEqual([
      'zz@v1: retired',
      expect.stringMatching(/^draft -> backtested by cli:\S+: walk-forward backtest on /),
      expect.stringMatching(/^backtested -> gated by cli:\S+: gate passed on /),
      expect.stringMatching(/^gated -> dry_run by cli:\S+: paper first$/),
      expect.stringMatching(/^dry_run -> retired by cli:\S+: replaced$/),
      '',
    ]);
    const verify = cli(['audit', 'verify']);
    expect(verify.code, verify.err).toBe(0);
  });
});
