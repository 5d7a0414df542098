import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../core/errors.js';

/** Checks a new strategy's name: letters, digits and dashes, starting with a letter. */
export function checkStrategyName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(name)) {
    throw new ValidationError(
      `strategy name "${name}": use letters, digits and dashes, starting with a letter (at most 64)`,
      'name',
    );
  }
  return name;
}

/** The source of a new strategy file: an SMA crossover that runs as is and shows every part of the API. */
export function strategyTemplate(name: string): string {
  return `import { defineStrategy, Sma, type StrategyContext, ValidationError } from 'tradeforge/sdk';

/**
 * ${name}: long when the fast SMA crosses above the slow one, flat when it crosses below.
 * Run it: tradeforge backtest --strategy ${name}.ts --data data/sample/sp500_2000.csv --param fast=5
 * Only 'tradeforge/sdk' may be imported; see docs/strategy-files.md for what the safety gate refuses.
 */
export default defineStrategy({
  name: '${name}',
  description: 'SMA crossover (long only)',
  params: [
    { name: 'fast', type: 'int', default: 10, min: 1, max: 500, step: 1, description: 'fast SMA period' },
    { name: 'slow', type: 'int', default: 30, min: 2, max: 2000, step: 1, description: 'slow SMA period' },
  ],
  validate(p) {
    if ((p.fast as number) >= (p.slow as number)) {
      throw new ValidationError(\`fast (\${p.fast}) must be below slow (\${p.slow})\`, 'fast');
    }
  },
  create(p) {
    const fastPeriod = p.fast as number;
    const slowPeriod = p.slow as number;
    // One pair of averages and one previous difference per symbol, indexed by ctx.symbolIndex.
    let fast: Sma[] = [];
    let slow: Sma[] = [];
    let prev: number[] = [];
    return {
      onStart(ctx: StrategyContext) {
        fast = ctx.symbols.map(() => new Sma(fastPeriod));
        slow = ctx.symbols.map(() => new Sma(slowPeriod));
        prev = ctx.symbols.map(() => Number.NaN);
      },
      onBar(ctx: StrategyContext) {
        const i = ctx.symbolIndex;
        const d = fast[i].update(ctx.bar.close) - slow[i].update(ctx.bar.close);
        const before = prev[i];
        prev[i] = d;
        // NaN while the averages warm up fails both tests: a position opens on a cross, never on a state.
        if (d > 0 && before <= 0) ctx.buy();
        else if (d < 0 && before >= 0 && ctx.position() > 0) ctx.sell();
      },
      getState() {
        return { prev };
      },
      restore(state: unknown) {
        const saved = (state as { prev?: number[] } | null)?.prev;
        if (Array.isArray(saved)) prev = saved.map((v) => (v === null ? Number.NaN : v));
      },
    };
  },
});
`;
}

/** Absolute path of the SDK source, for the `paths` entry of a strategy folder's tsconfig. */
export function sdkSourcePath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', 'sdk.ts');
}

/**
 * A tsconfig.json for a folder of strategy files: resolves `tradeforge/sdk` to this installation's SDK source
 * so the editor type-checks the file without tradeforge installed beside it.
 */
export function strategyTsconfig(dir: string): string {
  const sdk = relative(dir, sdkSourcePath()).split('\\').join('/');
  const doc = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: [],
      paths: { 'tradeforge/sdk': [sdk.startsWith('.') ? sdk : `./${sdk}`] },
    },
    include: ['*.ts'],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Where `strategy new NAME` writes: NAME.ts in `dir`. */
export function strategyFilePath(dir: string, name: string): string {
  return join(dir, `${name}.ts`);
}
