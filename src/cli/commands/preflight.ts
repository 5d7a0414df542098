import type { Command } from 'commander';

/** `tradeforge preflight`: the SEC-4 checklist before going live; exits 1 when a check fails. */
export function register(program: Command): void {
  program
    .command('preflight')
    .description(
      'check secrets are not in files or config, .env is ignored, logs are clean, breakers/alerts set, audit chain valid',
    )
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { tryUnlockFromEnv } = await import('../../security/cli-unlock.js');
      const { runPreflight } = await import('../../security/preflight.js');
      const { store, config, home } = await openConfiguredStore({ configFile: opts.config });
      try {
        const vault = await tryUnlockFromEnv(store, process.env);
        const values: string[] = [];
        if (vault)
          for (const s of await vault.list()) values.push(await vault.get(s.name, 'preflight', 'preflight scan'));
        const checks = await runPreflight({
          home,
          config,
          configFile: opts.config,
          cwd: process.cwd(),
          vaultValues: values,
          audit: store.audit,
          auditKey: vault?.auditKeyring(),
        });
        values.length = 0;
        let failed = 0;
        for (const c of checks) {
          if (c.status === 'fail') failed++;
          process.stdout.write(`[${c.status.toUpperCase().padEnd(4)}] ${c.title} — ${c.detail}\n`);
        }
        if (!vault)
          process.stdout.write(
            'note: vault not unlocked (set TRADEFORGE_MASTER_KEY or TRADEFORGE_PASSWORD) — vault values not searched\n',
          );
        process.stdout.write(failed ? `preflight FAILED: ${failed} check(s)\n` : 'preflight passed\n');
        if (failed) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
