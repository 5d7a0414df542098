import type { Command } from 'commander';

/** `tradeforge db migrate|status`: list and apply the store's versioned migrations. */
export function register(program: Command): void {
  const db = program
    .command('db')
    .description('database: versioned migrations (SQLite by default, PostgreSQL via database.url)');
  db.command('status')
    .description('list migrations and whether each has been applied')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { store } = await openConfiguredStore({ configFile: opts.config, migrate: false });
      try {
        const list = await store.migrations.status();
        process.stdout.write(`database: ${store.dialect} ${store.location}\n`);
        for (const m of list) {
          process.stdout.write(
            `${m.executedAt ? 'applied ' : 'pending '} ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : ''}\n`,
          );
        }
        const pending = list.filter((m) => !m.executedAt).length;
        process.stdout.write(pending ? `${pending} pending: run \`tradeforge db migrate\`\n` : 'up to date\n');
      } finally {
        await store.close();
      }
    });
  db.command('migrate')
    .description('apply pending migrations (they also run automatically on start)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { store } = await openConfiguredStore({ configFile: opts.config, migrate: false });
      try {
        const applied = await store.migrations.migrate();
        process.stdout.write(`database: ${store.dialect} ${store.location}\n`);
        for (const name of applied) process.stdout.write(`applied  ${name}\n`);
        process.stdout.write(
          applied.length ? `${applied.length} migration(s) applied\n` : 'nothing to apply: up to date\n',
        );
      } finally {
        await store.close();
      }
    });
}
