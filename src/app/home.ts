import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Folder layout under the platform's home directory. Two homes never share state. */
export interface HomePaths {
  root: string;
  /** Columnar market data store. */
  data: string;
  /** SQLite database file. */
  database: string;
  reports: string;
  logs: string;
  /** Runtime files (pid, status) of a running deployment. */
  run: string;
}

/** Resolves `TRADEFORGE_HOME` (default `~/.tradeforge`) and its sub-folders. Does not create them. */
export function resolveHome(env: Record<string, string | undefined> = process.env, override?: string): HomePaths {
  const root = resolve(override ?? env.TRADEFORGE_HOME ?? join(homedir(), '.tradeforge'));
  return {
    root,
    data: join(root, 'data'),
    database: join(root, 'tradeforge.db'),
    reports: join(root, 'reports'),
    logs: join(root, 'logs'),
    run: join(root, 'run'),
  };
}

/** Path of the sample data bundled with the package (real S&P 500 daily bars). */
export const SAMPLE_DATA_FILE = resolve(import.meta.dirname, '../../data/sample/sp500_2000.csv');

/** The commented starter config `tradeforge init` writes (runs as is on the simulator). */
export const STARTER_CONFIG_FILE = resolve(import.meta.dirname, 'templates/starter-config.yaml');
