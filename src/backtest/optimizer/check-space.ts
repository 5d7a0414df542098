import { ValidationError } from '../../core/errors.js';
import type { ParamSpec, ParamValue, StrategyDefinition } from '../../strategy/types.js';
import type { ParamSpace } from './space.js';

function checkValue(def: StrategyDefinition, spec: ParamSpec, v: ParamValue): void {
  const where = `--param ${spec.name}: strategy ${def.name}`;
  if (spec.type === 'bool') {
    if (typeof v === 'boolean' || /^(true|false|1|0|yes|no)$/i.test(String(v))) return;
    throw new ValidationError(`${where} expects true or false, got "${v}"`, spec.name);
  }
  if (spec.type === 'enum') {
    if (spec.values?.includes(String(v))) return;
    throw new ValidationError(`${where} expects one of ${spec.values?.join(', ')}, got "${v}"`, spec.name);
  }
  if (typeof v !== 'number') throw new ValidationError(`${where} expects a number, got "${v}"`, spec.name);
  if (spec.type === 'int' && !Number.isInteger(v)) {
    throw new ValidationError(`${where} expects an integer, got ${v}`, spec.name);
  }
  if (spec.min !== undefined && v < spec.min) {
    throw new ValidationError(`${where}: ${v} is below the minimum ${spec.min}`, spec.name);
  }
  if (spec.max !== undefined && v > spec.max) {
    throw new ValidationError(`${where}: ${v} is above the maximum ${spec.max}`, spec.name);
  }
}

/**
 * Checks a search space against the strategy before any trial runs: an unknown parameter or a value outside a
 * parameter's type or range is a user mistake (one-line error), not a thousand skipped trials. Combinations
 * (fast < slow) are left to the strategy's own validation, per trial.
 */
export function checkSpace(def: StrategyDefinition, space: ParamSpace): void {
  for (const axis of space) {
    const spec = def.params.find((p) => p.name === axis.name);
    if (!spec) {
      const known = def.params.map((p) => p.name).join(', ') || '(none)';
      throw new ValidationError(`strategy ${def.name} has no parameter "${axis.name}" (known: ${known})`, axis.name);
    }
    for (const v of axis.values) checkValue(def, spec, v);
  }
}
