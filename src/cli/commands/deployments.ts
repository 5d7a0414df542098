import type { Command } from 'commander';
import { type Outcome, printOutcome } from '../outcome.js';

/** One deployment as the runtime lists it. */
interface Listed {
  id: string;
  strategy: string;
  venue: string;
  symbols: string[];
  status: string;
  origin: string;
}

/**
 * Registers `tradeforge deployments list|create|start|stop|archive`: the running runtime's deployments over its API,
 * authenticated with the CLI token in `$TRADEFORGE_HOME/run/` (the same routes and checks as the dashboard).
 */
export function register(program: Command): void {
  const deployments = program.command('deployments').description("the running runtime's deployments");
  const runtimeCall = async <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> => {
    const { callLiveRuntime } = await import('../../app/run-file.js');
    // A start warms up and reconciles, a stop may wait for closing fills: longer than a status call.
    return callLiveRuntime<T>(method, path, body, { timeoutMs: 120_000 });
  };

  deployments
    .command('list')
    .description('every recorded deployment with its origin (config file or API) and status')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const r = await runtimeCall<{ deployments: Listed[] }>('GET', '/api/deployments');
      if (opts.json) process.stdout.write(`${JSON.stringify(r.deployments)}\n`);
      else {
        for (const d of r.deployments) {
          process.stdout.write(
            `${d.id}\t${d.status}\t${d.origin}\t${d.strategy}\t${d.venue}\t${d.symbols.join(',')}\n`,
          );
        }
      }
    });
  deployments
    .command('create <file>')
    .description('create a deployment from a JSON or YAML file holding one entry of the config\'s "deployments"')
    .requiredOption('--mode <mode>', 'paper (profile dev), dry_run or live')
    .option('--confirm-live', 'confirm a live deployment trades real money')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { mode: string; confirmLive?: boolean; json?: boolean }) => {
      const { readStructuredFile } = await import('../../app/load-config.js');
      const spec = readStructuredFile(file) as Record<string, unknown>;
      const body = { ...spec, mode: opts.mode, ...(opts.confirmLive ? { confirmLive: true } : {}) };
      printOutcome(await runtimeCall<Outcome>('POST', '/api/deployments', body), opts.json);
    });
  deployments
    .command('start <id>')
    .description('start a created or stopped deployment (refused while the kill switch is engaged)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const path = `/api/deployments/${encodeURIComponent(id)}/start`;
      printOutcome(await runtimeCall<Outcome>('POST', path), opts.json);
    });
  deployments
    .command('stop <id>')
    .description('stop a deployment: its resting orders are cancelled; say what happens to its positions')
    .option('--flatten', 'close its positions with market orders')
    .option('--keep-positions', 'keep its positions (their protective stops stay on the venue)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { flatten?: boolean; keepPositions?: boolean; json?: boolean }) => {
      const { ValidationError } = await import('../../core/errors.js');
      if (opts.flatten === opts.keepPositions) {
        throw new ValidationError('say what happens to the positions: --flatten or --keep-positions', 'flatten');
      }
      const path = `/api/deployments/${encodeURIComponent(id)}/stop`;
      printOutcome(await runtimeCall<Outcome>('POST', path, { flatten: opts.flatten === true }), opts.json);
    });
  deployments
    .command('archive <id>')
    .description('archive a stopped deployment created over the API (it never starts again)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const path = `/api/deployments/${encodeURIComponent(id)}`;
      printOutcome(await runtimeCall<Outcome>('DELETE', path), opts.json);
    });
}
