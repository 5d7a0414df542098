import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { reportCliError } from './cli-error.js';

/** A command module in ./commands registers its sub-commands on the program (heavy imports stay lazy). */
export interface CommandModule {
  register(program: Command): void;
}

/** Builds the `tradeforge` program with every command module found in ./commands. */
export async function buildProgram(): Promise<Command> {
  const program = new Command('tradeforge')
    .description('tradeforge: author, backtest, risk-check and run trading strategies')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}

async function main(): Promise<void> {
  // Everything tradeforge writes (database, logs, reports, run files, exports) is private to its owner.
  process.umask(0o077);
  const program = await buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message; help and version exit 0, usage errors exit 2.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportCliError(err);
  }
}

await main();
