import type { Command } from 'commander';
import { AuthError, ValidationError } from '../../core/errors.js';

async function newPassword(envName: string, label: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  const { promptHidden, readStdin } = await import('../../security/prompt.js');
  if (!process.stdin.isTTY) return readStdin();
  const p = await promptHidden(`${label}: `);
  if ((await promptHidden('Repeat: ')) !== p) throw new AuthError('the passwords differ');
  return p;
}

/** `tradeforge users create-owner|add|list`: accounts for the dashboard and API. */
export function register(program: Command): void {
  const users = program.command('users').description('user accounts (roles admin and viewer)');
  users
    .command('create-owner <username>')
    .description(
      'create the owner (admin) on first run; also creates the vault, protected by this password unless TRADEFORGE_MASTER_KEY is set',
    )
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (username: string, opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { assertStrongPassword } = await import('../../security/passwords.js');
      const { Vault, vaultExists } = await import('../../security/vault.js');
      const { AuthService } = await import('../../security/auth.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        if (await store.users.hasOwner()) throw new AuthError('an owner account already exists');
        const password = await newPassword('TRADEFORGE_PASSWORD', `Password for ${username}`);
        assertStrongPassword(password, username);
        const master = process.env.TRADEFORGE_MASTER_KEY;
        const unlock = master ? { masterKey: master } : { password };
        const vault = (await vaultExists(store))
          ? await Vault.unlock(store, unlock)
          : await Vault.create(store, unlock);
        const user = await new AuthService(store, { vault }).createOwner(username, password);
        process.stdout.write(
          `owner ${user.username} created (role admin); vault protected by ${vault.mode === 'master' ? 'TRADEFORGE_MASTER_KEY' : 'the owner password'}\n`,
        );
      } finally {
        await store.close();
      }
    });
  users
    .command('add <username>')
    .description('add a user (password from TRADEFORGE_NEW_USER_PASSWORD, stdin or a prompt)')
    .option('-r, --role <role>', 'admin or viewer', 'viewer')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (username: string, opts: { role: string; config?: string }) => {
      if (opts.role !== 'admin' && opts.role !== 'viewer')
        throw new ValidationError(`--role must be admin or viewer, got "${opts.role}"`, 'role');
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { unlockVaultForCli } = await import('../../security/cli-unlock.js');
      const { AuthService } = await import('../../security/auth.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const vault = await unlockVaultForCli(store, process.env);
        const password = await newPassword('TRADEFORGE_NEW_USER_PASSWORD', `Password for ${username}`);
        const user = await new AuthService(store, { vault }).createUser(username, password, opts.role, 'cli');
        process.stdout.write(`user ${user.username} created (role ${user.role})\n`);
      } finally {
        await store.close();
      }
    });
  users
    .command('unlock <username>')
    .description('clear an account locked by failed logins (local only: needs the vault unlocked on this machine)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (username: string, opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { unlockVaultForCli } = await import('../../security/cli-unlock.js');
      const { AuthService } = await import('../../security/auth.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const vault = await unlockVaultForCli(store, process.env);
        await new AuthService(store, { vault }).unlockUser(username, 'cli');
        process.stdout.write(`user ${username} unlocked\n`);
      } finally {
        await store.close();
      }
    });
  users
    .command('list')
    .description('list users and roles')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        for (const u of await store.users.list()) {
          const lock = u.lockedUntil && u.lockedUntil > Date.now() ? ' LOCKED' : '';
          process.stdout.write(
            `${u.username}\t${u.role}${u.isOwner ? ' (owner)' : ''}${u.totpEnabled ? ' totp' : ''}${lock}\n`,
          );
        }
      } finally {
        await store.close();
      }
    });
}
