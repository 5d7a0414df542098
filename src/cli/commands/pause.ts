import type { Command } from 'commander';

/** Registers `tradeforge pause [ID]` and `tradeforge resume [ID]`: a running deployment's grid (docs/grid.md). */
export function register(program: Command): void {
  for (const [name, path, description] of [
    [
      'pause',
      '/api/control/pause',
      'pause the grid of deployment ID (default: all): its resting orders cancelled, inventory kept',
    ],
    ['resume', '/api/control/resume', 'resume the paused grid of deployment ID (default: all): orders placed again'],
  ] as const) {
    program
      .command(`${name} [id]`)
      .description(description)
      .option('--json', 'print the result as JSON')
      .action(async (id: string | undefined, opts: { json?: boolean }) => {
        const { TradeforgeError } = await import('../../core/errors.js');
        const { resolveHome } = await import('../../app/home.js');
        const { readLiveRunFile, callRuntime } = await import('../../app/run-file.js');
        const home = resolveHome();
        const run = readLiveRunFile(home);
        if (!run) throw new TradeforgeError('NOT_RUNNING', 'no runtime is running: start it with `tradeforge start`');
        const r = await callRuntime<{ ok: boolean; message: string }>(run, home, 'POST', path, {
          confirm: true,
          target: id ?? 'all',
        });
        process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${r.message}\n`);
        if (!r.ok) process.exitCode = 1;
      });
  }
}
