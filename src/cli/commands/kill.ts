import type { Command } from 'commander';

/** Registers `tradeforge kill` and `tradeforge recover`: the kill switch of the running runtime. */
export function register(program: Command): void {
  for (const [name, path, description] of [
    [
      'kill',
      '/api/control/kill',
      'KILL SWITCH: cancel every order, close every position, halt until `tradeforge recover`',
    ],
    ['recover', '/api/control/recover', 'release the kill switch of the running runtime'],
  ] as const) {
    program
      .command(name)
      .description(description)
      .option('--json', 'print the result as JSON')
      .action(async (opts: { json?: boolean }) => {
        const { TradeforgeError } = await import('../../core/errors.js');
        const { resolveHome } = await import('../../app/home.js');
        const { readLiveRunFile, callRuntime } = await import('../../app/run-file.js');
        const home = resolveHome();
        const run = readLiveRunFile(home);
        if (!run) throw new TradeforgeError('NOT_RUNNING', 'no runtime is running: start it with `tradeforge start`');
        const r = await callRuntime<{ ok: boolean; message: string }>(run, home, 'POST', path, { confirm: true });
        process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${r.message}\n`);
        if (!r.ok) process.exitCode = 1;
      });
  }
}
