import type { Command } from 'commander';
import type { ParamSpec, StrategyDefinition } from '../../strategy/types.js';

/** One parameter as `name=default (type, min..max step s): description`. */
function paramLine(p: ParamSpec): string {
  const range =
    p.values !== undefined
      ? `one of ${p.values.join('|')}`
      : p.min !== undefined || p.max !== undefined
        ? `${p.min ?? ''}..${p.max ?? ''}${p.step !== undefined ? ` step ${p.step}` : ''}`
        : '';
  return `    ${p.name}=${String(p.default)} (${p.type}${range ? `, ${range}` : ''}): ${p.description}`;
}

/** The built-in strategies as text: name, description, then each parameter with its default and range. */
export function strategiesText(defs: readonly StrategyDefinition[]): string {
  const out: string[] = [];
  for (const d of defs) {
    out.push(`${d.name}: ${d.description}`);
    for (const p of d.params) out.push(paramLine(p));
  }
  out.push('', 'A file works wherever a name does: --strategy mine.ts | .rules | .pine (docs/strategy-files.md).');
  out.push('Stored strategies and their versions: tradeforge strategy list.');
  return `${out.join('\n')}\n`;
}

/** Registers `tradeforge strategies`: the built-in strategies with their parameters (what `--strategy` accepts). */
export function register(program: Command): void {
  program
    .command('strategies')
    .description('list the built-in strategies with their parameters, defaults and ranges')
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listStrategies } = await import('../../strategy/registry.js');
      const defs = listStrategies();
      if (opts.json) {
        const rows = defs.map((d) => ({ name: d.name, description: d.description, params: d.params }));
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(strategiesText(defs));
    });
}
