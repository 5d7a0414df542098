import type { Command } from 'commander';
import { collectRepeated } from '../options.js';
import { addQueueFlags, type QueueFlags, queueSettings } from '../queue-flags.js';

interface WorkerFlags extends QueueFlags {
  concurrency: string;
  plugin: string[];
  lockMs: string;
  quiet?: boolean;
}

function positiveInt(flag: string, raw: string, ValidationError: new (m: string, f?: string) => Error): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ValidationError(`--${flag} must be a positive integer, got "${raw}"`, flag);
  return n;
}

/** Registers `tradeforge worker`: joins the job queue and runs backtest and optimisation jobs until stopped. */
export function register(program: Command): void {
  const cmd = program
    .command('worker')
    .description('join the job queue (BullMQ on Redis) and run distributed backtest/optimisation jobs')
    .option('--concurrency <n>', 'jobs at once, one thread each (default 1)', '1')
    .option(
      '--plugin <module>',
      'module that registers extra strategies (repeatable); strategy files reach workers as stored versions (ID@vN)',
      collectRepeated,
      [],
    )
    .option('--lock-ms <ms>', "job lock; a dead worker's job is retried elsewhere after this (default 30000)", '30000')
    .option('--quiet', 'do not print a line per job');
  addQueueFlags(cmd).action(async (o: WorkerFlags) => {
    const { ValidationError } = await import('../../core/errors.js');
    const { resolve } = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    const { existsSync } = await import('node:fs');
    const concurrency = positiveInt('concurrency', o.concurrency, ValidationError);
    const lockMs = positiveInt('lock-ms', o.lockMs, ValidationError);
    if (lockMs < 1000) throw new ValidationError(`--lock-ms must be at least 1000, got ${lockMs}`, 'lock-ms');
    const plugins = o.plugin.map((p) => {
      const file = resolve(p);
      if (!existsSync(file)) throw new ValidationError(`--plugin ${p}: no such file`, 'plugin');
      return pathToFileURL(file).href;
    });
    // Plugins register strategies here too, so a job naming one is recognised before it reaches a thread.
    for (const url of plugins) await import(url);
    const settings = await queueSettings(o, o.config);
    const { redactRedisUrl } = await import('../../scale/connection.js');
    const { QueueWorker } = await import('../../scale/worker.js');
    const { openConfiguredStore } = await import('../../app/open-store.js');
    const { store } = await openConfiguredStore({ configFile: o.config });
    const log = o.quiet ? undefined : (line: string) => process.stdout.write(`${line}\n`);
    const worker = await QueueWorker.start({
      settings,
      concurrency,
      results: store.backtests,
      versions: store.strategies,
      plugins,
      lockMs,
      ...(log ? { log } : {}),
    });
    process.stdout.write(
      `worker ${worker.id} ready: queue ${settings.prefix} on ${redactRedisUrl(settings.url)}, concurrency ${concurrency}, ` +
        `results in ${store.dialect} ${store.location}\n`,
    );
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stdout.write('worker stopping: finishing running jobs\n');
    await worker.close();
    await store.close();
  });
}
