import ts from 'typescript';
import { ValidationError } from '../../core/errors.js';
import type { StrategyDefinition } from '../../strategy/types.js';
import { checkSource, formatFindings } from '../gate/check.js';
import { loadIsolatedStrategy } from '../sandbox/isolated.js';
import type { SandboxLimits } from '../sandbox/limits.js';
import { loadSandboxedStrategy } from '../sandbox/realm.js';

function fail(file: string, message: string): never {
  throw new ValidationError(`${file}: ${message}`, 'strategy');
}

/** Checks the shape of what a file exported: a definition with a name, params and create(). */
function checkDefinition(file: string, value: unknown): StrategyDefinition {
  if (value === null || typeof value !== 'object') {
    fail(file, 'the default export must be a strategy definition: export default defineStrategy({ ... })');
  }
  const d = value as Partial<StrategyDefinition>;
  if (typeof d.name !== 'string' || d.name.trim() === '') fail(file, 'the strategy definition needs a name');
  if (!Array.isArray(d.params)) fail(file, `strategy ${d.name}: params must be an array (may be empty)`);
  if (typeof d.create !== 'function') fail(file, `strategy ${d.name}: create(params) must be a function`);
  for (const [i, p] of d.params.entries()) {
    if (p === null || typeof p !== 'object' || typeof p.name !== 'string' || p.default === undefined) {
      fail(file, `strategy ${d.name}: params[${i}] needs a name and a default`);
    }
    if (!['int', 'float', 'bool', 'enum'].includes(p.type)) {
      fail(file, `strategy ${d.name}: parameter ${p.name} has type "${p.type}" (int, float, bool or enum)`);
    }
  }
  return {
    name: d.name,
    description: typeof d.description === 'string' ? d.description : '',
    params: d.params,
    ...(d.requires ? { requires: d.requires } : {}),
    ...(typeof d.validate === 'function' ? { validate: d.validate } : {}),
    create: d.create,
  };
}

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
  const gate = checkSource(source, file);
  if (!gate.ok) {
    throw new ValidationError(
      `${file}: refused by the safety gate (${gate.findings.length} finding${gate.findings.length === 1 ? '' : 's'}):\n${formatFindings(file, gate.findings)}`,
      'strategy',
    );
  }
  const js = ts.transpileModule(source, {
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
  if (options.isolate === true) {
    const def = loadIsolatedStrategy(js, file, options.limits);
    return { ...checkDefinition(file, def), sandbox: def.sandbox } as StrategyDefinition;
  }
  return checkDefinition(file, loadSandboxedStrategy(js, file));
}
