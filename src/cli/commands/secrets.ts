import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';

/** `tradeforge secrets set|list|delete|rotate`: the encrypted vault. Values never come from argv. */
export function register(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('encrypted secret vault (unlock: TRADEFORGE_MASTER_KEY, TRADEFORGE_PASSWORD or a prompt)');
  secrets
    .command('set <name> [refused...]')
    .description('store a secret; the value is read from stdin or a hidden prompt, never from the command line')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (name: string, refused: string[], opts: { config?: string }) => {
      if (refused.length > 0) {
        throw new ValidationError(
          'never put a secret on the command line (shell history, process list): pipe it on stdin or type it at the prompt',
          'value',
        );
      }
      const { validateSecretName } = await import('../../security/vault.js');
      validateSecretName(name);
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { unlockVaultForCli } = await import('../../security/cli-unlock.js');
      const { promptHidden, readStdin } = await import('../../security/prompt.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const vault = await unlockVaultForCli(store, process.env, { create: true });
        const value = process.stdin.isTTY ? await promptHidden(`Value for ${name}: `) : await readStdin();
        if (!value) throw new ValidationError(`secret ${name}: empty value (nothing on stdin)`, 'value');
        await vault.set(name, value, 'cli');
        process.stdout.write(`stored ${name}\n`);
      } finally {
        await store.close();
      }
    });
  secrets
    .command('list')
    .description('names and last use (never values)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const list = await store.secrets.list();
        if (list.length === 0) process.stdout.write('no secrets\n');
        for (const s of list) {
          const used = s.lastUsedAt ? new Date(s.lastUsedAt).toISOString() : 'never';
          process.stdout.write(`${s.name}\tlast used ${used}\tupdated ${new Date(s.updatedAt).toISOString()}\n`);
        }
      } finally {
        await store.close();
      }
    });
  secrets
    .command('delete <name>')
    .description('delete a secret')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (name: string, opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { unlockVaultForCli } = await import('../../security/cli-unlock.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const vault = await unlockVaultForCli(store, process.env);
        if (!(await vault.delete(name, 'cli'))) throw new ValidationError(`no secret named "${name}"`, 'name');
        process.stdout.write(`deleted ${name}\n`);
      } finally {
        await store.close();
      }
    });
  secrets
    .command('rotate')
    .description(
      're-encrypt every secret under a new data key; TRADEFORGE_NEW_PASSWORD or TRADEFORGE_NEW_MASTER_KEY also changes the wrapping key',
    )
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { resolveUnlock } = await import('../../security/cli-unlock.js');
      const { Vault } = await import('../../security/vault.js');
      const { assertStrongPassword } = await import('../../security/passwords.js');
      const { readLiveRunFile } = await import('../../app/run-file.js');
      const { store, home } = await openConfiguredStore({ configFile: opts.config });
      try {
        // A running runtime holds the old keys: its writes would be refused from now on. Rotate while it is stopped.
        const run = readLiveRunFile(home);
        if (run) {
          throw new ValidationError(
            `a runtime is running (pid ${run.pid}) with the vault open: stop it first (\`tradeforge stop\`), then rotate`,
            'secrets rotate',
          );
        }
        const current = await resolveUnlock(process.env);
        const vault = await Vault.unlock(store, current);
        const env = process.env;
        let next = current;
        if (env.TRADEFORGE_NEW_MASTER_KEY) next = { masterKey: env.TRADEFORGE_NEW_MASTER_KEY };
        else if (env.TRADEFORGE_NEW_PASSWORD) {
          assertStrongPassword(env.TRADEFORGE_NEW_PASSWORD);
          next = { password: env.TRADEFORGE_NEW_PASSWORD };
        }
        const r = await vault.rotate(next, 'cli');
        process.stdout.write(`rotated: ${r.secrets} secret(s) re-encrypted under data key version ${r.version}\n`);
      } finally {
        await store.close();
      }
    });
}
