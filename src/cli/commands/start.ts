import type { Command } from 'commander';

/** Registers `tradeforge start`: runs the deployments of a config (the live runtime) until stopped. */
export function register(program: Command): void {
  program
    .command('start')
    .description("start the runtime: run the config's deployments on live data (paper or live)")
    .option('--config <file>', 'config file (JSON or YAML)')
    .option('--profile <profile>', "dev | dry_run | live (default: the config's profile)")
    .option('--confirm-live', 'confirm that the live profile may trade real money')
    .option('--detach', 'run in the background; logs go to $TRADEFORGE_HOME/logs/runtime.out')
    .option('--quiet', 'do not print orders and fills')
    .action(
      async (opts: { config?: string; profile?: string; confirmLive?: boolean; detach?: boolean; quiet?: boolean }) => {
        const { ConfigError } = await import('../../core/errors.js');
        const { resolveHome } = await import('../../app/home.js');
        const { loadConfig } = await import('../../app/load-config.js');
        const { readLiveRunFile } = await import('../../app/run-file.js');
        if (opts.profile !== undefined && !['dev', 'dry_run', 'live'].includes(opts.profile)) {
          throw new ConfigError('profile', `unknown profile "${opts.profile}" (expected dev, dry_run or live)`);
        }
        const config = loadConfig(opts.config);
        const home = resolveHome(process.env, config.home);
        const running = readLiveRunFile(home);
        if (running) {
          throw new ConfigError(
            '',
            `a runtime is already running (pid ${running.pid}, ${running.url}); stop it first with \`tradeforge stop\``,
          );
        }
        if (opts.detach) {
          await detach(home.logs, home.run);
          return;
        }
        const { startRuntime } = await import('../../app/runtime.js');
        const out = (line: string) => process.stdout.write(`${line}\n`);
        // A venue library's stray promise must not take the runtime (and its open positions' management) down.
        process.on('unhandledRejection', (err) => {
          process.stderr.write(
            `warning: unhandled rejection (ignored): ${err instanceof Error ? err.message : String(err)}\n`,
          );
        });
        const runtime = await startRuntime({
          config,
          profile: (opts.profile ?? config.profile) as 'dev' | 'dry_run' | 'live',
          home,
          confirmLive: opts.confirmLive === true,
          ...(opts.quiet ? {} : { print: out }),
          ...(opts.config ? { configFile: opts.config } : {}),
        });
        const onSignal = (sig: string) => {
          out(`${sig}: stopping (no new entries, state saved, protective stops stay on the venue)`);
          void runtime.stop(sig);
        };
        // Handlers first, then the announcement: a supervisor may signal as soon as it reads "runtime up".
        process.once('SIGINT', () => onSignal('SIGINT'));
        process.once('SIGTERM', () => onSignal('SIGTERM'));
        out(
          `runtime up (${runtime.profile}) pid ${process.pid}, API ${runtime.url} — stop with Ctrl-C or \`tradeforge stop\``,
        );
        await runtime.stopped;
        out('runtime stopped');
        // Venue clients may keep timers alive; the runtime has closed everything it owns.
        process.exit(0);
      },
    );
}

// Re-runs this command without --detach in a new session, output to a log file, and waits for its run file.
async function detach(logs: string, run: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { mkdirSync, openSync, existsSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  mkdirSync(logs, { recursive: true });
  const out = openSync(join(logs, 'runtime.out'), 'a');
  const args = process.argv.slice(1).filter((a) => a !== '--detach');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], env: process.env });
  child.unref();
  const file = join(run, 'runtime.json');
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const r = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; url: string };
      if (r.pid === child.pid) {
        process.stdout.write(`runtime started in the background: pid ${r.pid}, API ${r.url}\n`);
        return;
      }
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the runtime did not come up; see ${join(logs, 'runtime.out')}`);
}
