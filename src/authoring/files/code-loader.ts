import ts from 'typescript';
import { ValidationError } from '../../core/errors.js';
import type { StrategyDefinition } from '../../strategy/types.js';
import { checkSource, formatFindings } from '../gate/check.js';
import { checkDefinition, loadTranspiledStrategy } from './code-definition.js';
import { loadIsolatedStrategy } from '../sandbox/isolated.js';
import type { SandboxLimits } from '../sandbox/limits.js';

/** Where accepted code runs: in this thread's own V8 context (default), or in a sandbox worker with budgets. */
export interface SandboxOptions {
  /** Run in a sandbox worker: a CPU budget per callback and a heap cap (live deployments, stored versions). */
  readonly isolate?: boolean;
  /** The worker's budgets (DEFAULT_SANDBOX_LIMITS when left out). */
  readonly limits?: SandboxLimits;
}

/**
 * Loads a TypeScript or JavaScript strategy file's source: the safety gate first (a refusal throws a
 * ValidationError listing every finding with rule and line), then transpiles it and evaluates it in a fresh
 * sandbox (`sandbox/realm.ts`): its own V8 context with code generation from strings off, the SDK evaluated
 * inside it, and the host reachable only through the membrane. Returns the default-exported definition. With
 * `isolate`, that context lives in a sandbox worker (sandbox/isolated.ts) under a CPU budget and a heap cap.
 */
export function loadCodeStrategy(source: string, file: string, options: SandboxOptions = {}): StrategyDefinition {
  const js = transpileCodeStrategy(source, file);
  if (options.isolate === true) {
    const def = loadIsolatedStrategy(js, file, options.limits);
    return { ...checkDefinition(file, def), sandbox: def.sandbox } as StrategyDefinition;
  }
  return loadTranspiledStrategy(js, file);
}

/**
 * The safety gate, then the transpile to CommonJS: what `loadCodeStrategy` does before any code of the file runs
 * (a sandboxed backtest does this on the host, so its worker never loads the compiler).
 */
export function transpileCodeStrategy(source: string, file: string): string {
  const gate = checkSource(source, file);
  if (!gate.ok) {
    throw new ValidationError(
      `${file}: refused by the safety gate (${gate.findings.length} finding${gate.findings.length === 1 ? '' : 's'}):\n${formatFindings(file, gate.findings)}`,
      'strategy',
    );
  }
  return ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: false,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: false,
      verbatimModuleSyntax: false,
      isolatedModules: true,
    },
  }).outputText;
}
