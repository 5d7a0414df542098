import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { getStrategy } from '../strategy/registry.js';
import type { StrategyDefinition } from '../strategy/types.js';
import { loadCodeStrategy, type SandboxOptions } from './files/code-loader.js';
import { compilePine, type PineDefinition, type PineRunSettings } from './pine/compile.js';
import { compileRules, type RulesDefinition } from './rules/compile.js';
import { loadStrategyVersion, parseVersionRef, type StrategyVersionSource } from './versions.js';

/** The source kinds a strategy file can be, by extension. */
export type StrategySourceKind = 'ts' | 'js' | 'rules' | 'pine';

const KINDS: Readonly<Record<string, StrategySourceKind>> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.js': 'js',
  '.mjs': 'js',
  '.rules': 'rules',
  '.pine': 'pine',
};

/** True for the kinds that are code (TypeScript, JavaScript): gated, and run whole in the sandbox worker. */
export function isCodeKind(kind: StrategySourceKind): kind is 'ts' | 'js' {
  return kind === 'ts' || kind === 'js';
}

/** True when `nameOrPath` names a file rather than a registered strategy (a path separator or a known extension). */
export function isStrategyFile(nameOrPath: string): boolean {
  return /[\\/]/.test(nameOrPath) || KINDS[extname(nameOrPath).toLowerCase()] !== undefined;
}

/** The kind of a strategy file from its extension; an unknown extension throws ValidationError. */
export function strategySourceKind(file: string): StrategySourceKind {
  const kind = KINDS[extname(file).toLowerCase()];
  if (kind === undefined) {
    throw new ValidationError(
      `${file}: unknown strategy file type "${extname(file)}" (use .ts or .js for code, .rules for the rule language, .pine for Pine Script)`,
      'strategy',
    );
  }
  return kind;
}

/**
 * Compiles a strategy source text of a given kind into a definition (`file` names it in errors). `sandbox` says
 * where code we did not write runs (a sandbox worker with budgets for live deployments and queue workers).
 */
export function compileStrategySource(
  source: string,
  kind: StrategySourceKind,
  file: string,
  sandbox: SandboxOptions = {},
): StrategyDefinition {
  switch (kind) {
    case 'ts':
    case 'js':
      return loadCodeStrategy(source, file, sandbox);
    case 'rules':
      return compileRules(source, { file, name: basename(file, extname(file)) });
    case 'pine':
      return compilePine(source, { file, name: basename(file, extname(file)) });
  }
}

/**
 * The one resolver of a strategy reference, for the CLI, the optimiser's workers and deployments: a registered
 * name (`sma-cross`) gives the built-in; a path (relative to `baseDir`) to a `.ts`/`.js` file, a `.rules` file
 * or a `.pine` file is read, gated and compiled. Errors are ValidationErrors naming the file and line.
 */
export function resolveStrategy(
  nameOrPath: string,
  baseDir: string = process.cwd(),
  sandbox: SandboxOptions = {},
): StrategyDefinition {
  if (parseVersionRef(nameOrPath) !== undefined) {
    throw new ValidationError(
      `${nameOrPath} is a stored strategy version: it is resolved from the store (backtest and deployments), not here`,
      'strategy',
    );
  }
  if (!isStrategyFile(nameOrPath)) return getStrategy(nameOrPath);
  const s = readStrategyFile(nameOrPath, baseDir);
  return compileStrategySource(s.source, s.kind, s.file, sandbox);
}

/** A strategy source to compile or run: its text, its kind, and the name it goes by in errors. */
export interface StrategySource {
  readonly source: string;
  readonly kind: StrategySourceKind;
  readonly file: string;
}

/** True for a code source (TypeScript, JavaScript): it runs whole in the sandbox backtest worker. */
export function isCodeSource(s: StrategySource | undefined): s is StrategySource {
  return s !== undefined && isCodeKind(s.kind);
}

/** Reads a strategy file (a path relative to `baseDir`); a missing file or an unknown extension throws. */
export function readStrategyFile(nameOrPath: string, baseDir: string = process.cwd()): StrategySource {
  const kind = strategySourceKind(nameOrPath);
  const file = isAbsolute(nameOrPath) ? nameOrPath : resolve(baseDir, nameOrPath);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new ValidationError(`strategy file ${nameOrPath} not found (looked at ${file})`, 'strategy');
  }
  return { source: readFileSync(file, 'utf8'), kind, file: nameOrPath };
}

/** Exits a strategy source declares (a rules file's `stop loss` / `take profit` / ... lines), if any. */
export function strategyExits(def: StrategyDefinition): RulesDefinition['exits'] {
  return (def as RulesDefinition).exits;
}

/** Where `resolveStrategyRef` looks: the folder paths are relative to, the stored versions, the sandbox to use. */
export interface StrategyRefOptions {
  readonly baseDir?: string;
  /** The store's strategy versions (needed for `ID@vN`). */
  readonly versions?: StrategyVersionSource;
  readonly sandbox?: SandboxOptions;
}

/**
 * `resolveStrategy` plus stored versions: `ID@vN` is looked up in `versions`, hash-checked and compiled (gate
 * included) like a file of its kind; a built-in name or a path resolves as in `resolveStrategy`.
 */
export async function resolveStrategyRef(ref: string, opts: StrategyRefOptions = {}): Promise<StrategyDefinition> {
  if (parseVersionRef(ref) === undefined) return resolveStrategy(ref, opts.baseDir, opts.sandbox);
  if (opts.versions === undefined) {
    throw new ValidationError(`${ref} names a stored strategy version, but no store is open here`, 'strategy');
  }
  return (await loadStrategyVersion(opts.versions, ref, opts.sandbox)).def;
}

/** Run settings a Pine script's `strategy(...)` declares (initial capital, commission, fill at close), if any. */
export function strategyRunSettings(def: StrategyDefinition): PineRunSettings | undefined {
  return (def as PineDefinition).pine?.settings;
}

/**
 * Run options with a Pine script's `strategy(...)` settings filled in where the options leave them open: the
 * flags and the config file win; `initial_capital` gives the cash, a percent commission the fee, and
 * `process_orders_on_close=true` fills market orders at the signal bar's close.
 */
export function withStrategyRunSettings<
  T extends { cash?: number; fee?: number; fees?: unknown; marketFill?: 'next_open' | 'close' },
>(def: StrategyDefinition, options: T): T {
  const s = strategyRunSettings(def);
  if (!s) return options;
  return {
    ...options,
    ...(options.cash === undefined && s.cash !== undefined ? { cash: s.cash } : {}),
    ...(options.fee === undefined && options.fees === undefined && s.fee !== undefined ? { fee: s.fee } : {}),
    ...(options.marketFill === undefined && s.marketFill !== undefined ? { marketFill: s.marketFill } : {}),
  };
}
