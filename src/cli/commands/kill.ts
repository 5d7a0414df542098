import type { Command } from 'commander';
import { type Outcome, printOutcome } from '../outcome.js';

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
        const { callLiveRuntime } = await import('../../app/run-file.js');
        printOutcome(await callLiveRuntime<Outcome>('POST', path, { confirm: true }), opts.json);
      });
  }
}
