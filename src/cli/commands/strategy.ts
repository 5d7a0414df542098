import type { Command } from 'commander';
import { registerGenerate } from './strategy-generate.js';

/** Registers `tradeforge strategy new NAME`, `strategy check FILE` and `strategy generate`. */
export function register(program: Command): void {
  const cmd = program.command('strategy').description('write and check your own strategy files');
  cmd
    .command('new <name>')
    .description('write NAME.ts, an SMA-crossover strategy file that runs as is (and a tsconfig.json for the editor)')
    .option('--dir <folder>', 'folder to write into (default: the working folder)')
    .action(async (name: string, o: { dir?: string }) => {
      const { existsSync, mkdirSync } = await import('node:fs');
      const { resolve } = await import('node:path');
      const { ValidationError } = await import('../../core/errors.js');
      const { writeTextAtomic } = await import('../../backtest/report/write.js');
      const tpl = await import('../../authoring/files/template.js');
      const dir = resolve(o.dir ?? '.');
      const file = tpl.strategyFilePath(dir, tpl.checkStrategyName(name));
      if (existsSync(file)) throw new ValidationError(`${file} already exists: choose another name`, 'name');
      mkdirSync(dir, { recursive: true });
      writeTextAtomic(file, tpl.strategyTemplate(name));
      const tsconfig = resolve(dir, 'tsconfig.json');
      const wroteConfig = !existsSync(tsconfig);
      if (wroteConfig) writeTextAtomic(tsconfig, tpl.strategyTsconfig(dir));
      process.stdout.write(
        `wrote ${file}${wroteConfig ? ` and ${tsconfig}` : ''}\n` +
          `try: tradeforge backtest --strategy ${file} --data data/sample/sp500_2000.csv\n`,
      );
    });
  registerGenerate(cmd);
  cmd
    .command('check <file>')
    .description('run the safety gate (and the compiler) on a strategy file and print every finding')
    .action(async (file: string) => {
      const { readFileSync, existsSync } = await import('node:fs');
      const { ValidationError } = await import('../../core/errors.js');
      const { strategySourceKind, compileStrategySource } = await import('../../authoring/resolve.js');
      const { checkSource, formatFindings } = await import('../../authoring/gate/check.js');
      const kind = strategySourceKind(file);
      if (!existsSync(file)) throw new ValidationError(`strategy file ${file} not found`, 'file');
      const source = readFileSync(file, 'utf8');
      if (kind === 'ts' || kind === 'js') {
        const gate = checkSource(source, file);
        if (!gate.ok) {
          process.stdout.write(`${formatFindings(file, gate.findings)}\n${file}: refused (${gate.findings.length})\n`);
          process.exitCode = 1;
          return;
        }
      }
      // The gate passed (or the kind has no code): compiling proves the file defines a usable strategy.
      const def = compileStrategySource(source, kind, file);
      const params = def.params.map((p) => `${p.name}=${String(p.default)}`).join(' ');
      process.stdout.write(`${file}: ok, strategy ${def.name}${params ? ` (params ${params})` : ''}\n`);
    });
}
