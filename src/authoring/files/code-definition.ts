import { ValidationError } from '../../core/errors.js';
import type { StrategyDefinition } from '../../strategy/types.js';
import { loadSandboxedStrategy } from '../sandbox/realm.js';

// Kept apart from code-loader.ts (which loads the TypeScript compiler): a sandboxed backtest's worker evaluates
// code the host transpiled, and never loads the compiler.

function fail(file: string, message: string): never {
  throw new ValidationError(`${file}: ${message}`, 'strategy');
}

/** Checks the shape of what a file exported: a definition with a name, params and create(). */
export function checkDefinition(file: string, value: unknown): StrategyDefinition {
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

/** Evaluates transpiled strategy code in a fresh in-thread realm and checks the definition it exports. */
export function loadTranspiledStrategy(js: string, file: string): StrategyDefinition {
  return checkDefinition(file, loadSandboxedStrategy(js, file));
}
