import type { Command } from 'commander';

/** Registers `tradeforge init`: writes a commented starter config that runs as is on the simulator. */
export function register(program: Command): void {
  program
    .command('init')
    .description('write a commented starter config (paper trading on the built-in simulator) to start from')
    .option('-o, --out <file>', 'where to write it', 'tradeforge.yaml')
    .option('--force', 'overwrite an existing file')
    .action(async (opts: { out: string; force?: boolean }) => {
      const { existsSync, readFileSync } = await import('node:fs');
      const { ValidationError } = await import('../../core/errors.js');
      const { STARTER_CONFIG_FILE } = await import('../../app/home.js');
      const { writeAll, writeFileAtomic } = await import('../../data/atomic-file.js');
      if (existsSync(opts.out) && !opts.force) {
        throw new ValidationError(`${opts.out} already exists: choose another --out or add --force`, 'out');
      }
      const text = readFileSync(STARTER_CONFIG_FILE);
      writeFileAtomic(opts.out, (fd) => writeAll(fd, text));
      process.stdout.write(
        `wrote ${opts.out}: start it with \`tradeforge start --config ${opts.out}\` (paper trading on the simulator)\n`,
      );
    });
}
