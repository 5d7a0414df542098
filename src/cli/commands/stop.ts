import type { Command } from 'commander';

/** Registers `tradeforge stop`: asks the running runtime to shut down gracefully (SIGTERM) and waits. */
export function register(program: Command): void {
  program
    .command('stop')
    .description('stop the running runtime gracefully (protective stops stay on the venue)')
    .option('--timeout <seconds>', 'how long to wait for it to exit', '60')
    .action(async (opts: { timeout: string }) => {
      const { TradeforgeError } = await import('../../core/errors.js');
      const { resolveHome } = await import('../../app/home.js');
      const { readLiveRunFile, processAlive } = await import('../../app/run-file.js');
      const home = resolveHome();
      const run = readLiveRunFile(home);
      if (!run)
        throw new TradeforgeError('NOT_RUNNING', 'no runtime is running (no live run file under $TRADEFORGE_HOME/run)');
      const { notTheRuntime } = await import('../../security/process-identity.js');
      const stranger = notTheRuntime(run.pid, run.startedAt);
      if (stranger) {
        throw new TradeforgeError(
          'NOT_RUNTIME',
          `refusing to signal: ${stranger}; remove the stale run file ${home.run}/runtime.json`,
        );
      }
      process.kill(run.pid, 'SIGTERM');
      const deadline = Date.now() + Number(opts.timeout) * 1000;
      while (processAlive(run.pid)) {
        if (Date.now() > deadline)
          throw new TradeforgeError('STOP_TIMEOUT', `runtime pid ${run.pid} did not exit within ${opts.timeout} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      process.stdout.write(`runtime pid ${run.pid} stopped\n`);
    });
}
