import type { Command } from 'commander';
import { type Outcome, printOutcome } from '../outcome.js';

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
        const { callLiveRuntime } = await import('../../app/run-file.js');
        const body = { confirm: true, target: id ?? 'all' };
        printOutcome(await callLiveRuntime<Outcome>('POST', path, body), opts.json);
      });
  }
}
