import type { Command } from 'commander';

/** Registers `tradeforge mcp` (the MCP server over stdio) and `tradeforge mcp approve TOKEN`. */
export function register(program: Command): void {
  const cmd = program
    .command('mcp')
    .description(
      'serve the MCP server over stdin/stdout for an AI client (docs/mcp.md); orders need a token you approve',
    )
    .option('--read-only', 'offer only the read tools (what a viewer sees)')
    .option('--config <file>', 'config file (JSON or YAML)')
    .action(async (o: { readOnly?: boolean; config?: string }) => {
      const { userInfo } = await import('node:os');
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { agentDeps, DOCS_DIR } = await import('../../app/agent-services.js');
      const { callRuntime, readLiveRunFile } = await import('../../app/run-file.js');
      const { tryUnlockFromEnv } = await import('../../security/cli-unlock.js');
      const { serveMcpStdio } = await import('../../server/mcp/stdio.js');
      const { tradingOverHttp } = await import('../../server/mcp/trading-port.js');
      const { store, config, home } = await openConfiguredStore({ ...(o.config ? { configFile: o.config } : {}) });
      try {
        const run = readLiveRunFile(home);
        const trading = run
          ? tradingOverHttp((method, path, body) => callRuntime(run, home, method, path, body))
          : undefined;
        const agents =
          config.agents.providers.length > 0
            ? async () => {
                const vault = await tryUnlockFromEnv(store, process.env);
                return agentDeps({ config, store, ...(vault ? { vault } : {}) });
              }
            : undefined;
        await serveMcpStdio(
          { store, home, docsDir: DOCS_DIR, ...(trading ? { trading } : {}), ...(agents ? { agents } : {}) },
          { role: o.readOnly ? 'viewer' : 'admin', actor: `mcp:stdio:${userInfo().username}` },
        );
      } finally {
        await store.close();
      }
    });
  cmd
    .command('approve <token>')
    .description('approve the order an MCP client asked for (it then places it, through the risk engine)')
    .option('--yes', 'approve without asking (needed when not run in a terminal)')
    .option('--config <file>', 'config file (JSON or YAML)')
    .action(async (token: string, o: { yes?: boolean; config?: string }) => {
      const { userInfo } = await import('node:os');
      const { ValidationError } = await import('../../core/errors.js');
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { ConfirmationBook } = await import('../../server/mcp/confirmations.js');
      const { store } = await openConfiguredStore({ ...(o.config ? { configFile: o.config } : {}) });
      try {
        const book = new ConfirmationBook(store.kv);
        const c = await book.get(token);
        if (!c) throw new ValidationError(`no pending order confirmation ${token} (unknown, used or expired)`, 'token');
        const o2 = c.order;
        const what = `${o2.side} ${o2.quantity} ${o2.symbol} ${o2.type}${o2.price ? ` @ ${o2.price}` : ''}${o2.stopPrice ? ` stop ${o2.stopPrice}` : ''} for ${c.actor}`;
        if (!o.yes) {
          if (!process.stdin.isTTY) throw new ValidationError('not a terminal: pass --yes to approve', 'yes');
          const { createInterface } = await import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`approve ${what}? [y/N] `);
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim())) {
            process.stdout.write('not approved\n');
            return;
          }
        }
        await book.approve(token, `cli:${userInfo().username}`);
        process.stdout.write(`approved: ${what}; the MCP client may now place it with this token (5 minutes)\n`);
      } finally {
        await store.close();
      }
    });
}
