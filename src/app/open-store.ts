import { loadConfig } from './load-config.js';
import { type HomePaths, resolveHome } from './home.js';
import type { Config } from '../core/config.js';
import { securePrivateHome } from '../security/private-files.js';
import { openStore, type Store } from '../store/store.js';

/** The store plus the config and home it was opened from (CLI commands). */
export interface ConfiguredStore {
  store: Store;
  config: Config;
  home: HomePaths;
}

/** Loads the config (file + TRADEFORGE__* env), resolves the home and opens its store (migrating unless told not to). */
export async function openConfiguredStore(
  opts: { configFile?: string; env?: Record<string, string | undefined>; migrate?: boolean } = {},
): Promise<ConfiguredStore> {
  const env = opts.env ?? process.env;
  const config = loadConfig(opts.configFile, env);
  const home = resolveHome(env, config.home);
  securePrivateHome(home.root, (m) => process.stderr.write(`notice: ${m}\n`));
  const store = await openStore({
    home,
    databaseUrl: config.database.url,
    ...(config.database.schema ? { pgSchema: config.database.schema } : {}),
    migrate: opts.migrate,
    pgAppRole: config.database.appRole,
    pgAuditOwnerRole: config.database.auditOwnerRole,
    pgRowSecurity: config.database.rowSecurity,
  });
  return { store, config, home };
}
