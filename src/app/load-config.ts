import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { type Config, ConfigError, resolveConfig } from '../core/index.js';

/** Reads a JSON or YAML file's text into an object, with errors that name the file and line. */
export function readStructuredFile(file: string): unknown {
  if (!existsSync(file)) throw new ConfigError('', `config file not found: ${file}`);
  const text = readFileSync(file, 'utf8');
  const isJson = file.endsWith('.json') || text.trimStart().startsWith('{');
  try {
    return isJson ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError('', `${file}: cannot parse ${isJson ? 'JSON' : 'YAML'}: ${msg}`);
  }
}

/** Loads the platform config: the file (when given) plus TRADEFORGE__SECTION__KEY overrides. */
export function loadConfig(file?: string, env: Record<string, string | undefined> = process.env): Config {
  const raw = file ? readStructuredFile(file) : {};
  return resolveConfig(raw, env, file);
}
