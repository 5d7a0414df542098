import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveBarsDir } from '../src/app/live/bar-recorder.js';
import { replayDeployment } from '../src/app/replay.js';
import { strategyTemplate } from '../src/authoring/files/template.js';
import { defineInstrument } from '../src/core/instrument.js';
import { generateBars } from '../src/data/generate.js';
import { MarketDataStore } from '../src/data/store.js';
import { openStore, type Store } from '../src/store/index.js';
import { loopingStrategy } from './fixtures/strategy-files.js';

// `tradeforge replay` of a deployment that ran a strategy file: the file runs in the sandbox backtest worker like
// a backtest of it, so a strategy that loops is stopped on its CPU budget with a one-line error instead of hanging
// the replay, and a well-behaved file replays as before. The recorded period is written here as the runtime's bar
// recorder writes it (its folder, its instruments file), to isolate the replay.
let dir: string;
let store: Store;
const dataDir = () => join(dir, 'data');

async function recordDeployment(id: string, strategyFile: string): Promise<void> {
  const barsDir = liveBarsDir(join(dataDir(), 'live'), id);
  mkdirSync(barsDir, { recursive: true });
  new MarketDataStore(barsDir).write('BTC/USDT', '1m', generateBars({ bars: 300, seed: 5, timeframe: '1m' }));
  const instrument = defineInstrument({
    symbol: 'BTC/USDT',
    base: 'BTC',
    quote: 'USDT',
    tickSize: 0.01,
    lotSize: 1e-5,
  });
  writeFileSync(join(barsDir, 'instruments.json'), JSON.stringify([instrument]));
  await store.deployments.upsert({
    id,
    strategyId: id,
    venue: 'sim',
    mode: 'paper',
    symbols: ['BTC/USDT'],
    config: {
      id,
      strategy: strategyFile,
      venue: 'sim',
      symbols: ['BTC/USDT'],
      timeframe: '1m',
      capitalCap: 10_000,
      stake: '40%',
    },
    configHash: 'h',
    appVersion: 'test',
    status: 'stopped',
    createdAt: 1,
    updatedAt: 1,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-replay-sandbox-'));
  store = await openStore({ home: dir });
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay of a deployment that ran a strategy file', () => {
  it('stops a strategy that loops on its CPU budget, naming it; a good file replays', async () => {
    const good = join(dir, 'mine.ts');
    writeFileSync(good, strategyTemplate('mine'));
    const spin = join(dir, 'spin.ts');
    writeFileSync(spin, loopingStrategy('spin'));
    await recordDeployment('good', good);
    await recordDeployment('spinner', spin);
    const tolerance = { priceBps: 10, quantityRatio: 0.01, pnl: 1, timeMs: 60_000 };
    const ok = await replayDeployment({ store, dataDir: dataDir(), deploymentId: 'good', tolerance });
    expect(ok.bars).toBe(300);
    // No fill is stored for this period: every fill the sandboxed replay produced is reported as missed.
    expect(ok.report.expectedCount).toBeGreaterThan(0);
    expect(ok.report.actualCount).toBe(0);
    expect(ok.report.missed).toHaveLength(ok.report.expectedCount);

    await expect(replayDeployment({ store, dataDir: dataDir(), deploymentId: 'spinner', tolerance })).rejects.toThrow(
      /spin\.ts: strategy spin ran past its CPU budget of \d+ ms in onBar/,
    );
  });
});
