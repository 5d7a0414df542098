import type { Command } from 'commander';
import { type Outcome, printOutcome } from '../outcome.js';

/** Registers `tradeforge risk reset BREAKER`: the explicit, audited reset a halt waits for (RISK-4). */
export function register(program: Command): void {
  const risk = program.commands.find((c) => c.name() === 'risk') ?? program.command('risk').description('risk engine');
  risk
    .command('reset <breaker>')
    .description(
      'reset a tripped breaker (BREAKER_MAX_DRAWDOWN, BREAKER_DAILY_LOSS, BREAKER_EMERGENCY, BREAKER_CONSECUTIVE_LOSSES, HALTED, STOPLOSS_GUARD, COOLDOWN, KILL_SWITCH); audited',
    )
    .option('--yes', 'confirm: new entries resume once the breaker is reset')
    .option('-c, --config <file>', 'config file (JSON or YAML), for the store when the runtime is not running')
    .option('--json', 'print the result as JSON')
    .action(async (breaker: string, opts: { yes?: boolean; config?: string; json?: boolean }) => {
      const { ValidationError } = await import('../../core/errors.js');
      const { isBreakerName, BREAKER_NAMES } = await import('../../risk/index.js');
      if (!isBreakerName(breaker)) {
        throw new ValidationError(`unknown breaker "${breaker}" (one of ${BREAKER_NAMES.join(', ')})`, 'breaker');
      }
      if (!opts.yes) {
        throw new ValidationError(`resetting ${breaker} lets new entries through again: add --yes to confirm`, 'yes');
      }
      const { userInfo } = await import('node:os');
      const actor = `cli:${userInfo().username}`;
      const { resolveHome } = await import('../../app/home.js');
      const { readLiveRunFile, callRuntime } = await import('../../app/run-file.js');
      const home = resolveHome();
      const run = readLiveRunFile(home);
      let r: Outcome;
      if (run) {
        r = await callRuntime(run, home, 'POST', '/api/risk/reset', { breaker, actor, confirm: true });
      } else {
        const { openConfiguredStore } = await import('../../app/open-store.js');
        const { resetBreakerInStore } = await import('../../app/risk-reset.js');
        const { store, config } = await openConfiguredStore({ configFile: opts.config });
        try {
          r = await resetBreakerInStore(store, config, breaker, actor);
        } finally {
          await store.close();
        }
      }
      printOutcome(r, opts.json);
    });
}
