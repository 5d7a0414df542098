import { ValidationError } from '../core/errors.js';
import type { ParamSpec, ParamValue, ParamValues, StrategyDefinition } from './types.js';

function coerce(spec: ParamSpec, raw: ParamValue, strategy: string): ParamValue {
  const where = `strategy ${strategy} parameter "${spec.name}"`;
  if (spec.type === 'bool') {
    if (typeof raw === 'boolean') return raw;
    const s = String(raw).toLowerCase();
    if (s === 'true' || s === '1' || s === 'yes') return true;
    if (s === 'false' || s === '0' || s === 'no') return false;
    throw new ValidationError(`${where}: expected true or false, got "${raw}"`, spec.name);
  }
  if (spec.type === 'enum') {
    const s = String(raw);
    if (!spec.values?.includes(s)) {
      throw new ValidationError(`${where}: expected one of ${spec.values?.join(', ')}, got "${s}"`, spec.name);
    }
    return s;
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n)) throw new ValidationError(`${where}: expected a number, got "${raw}"`, spec.name);
  if (spec.type === 'int' && !Number.isInteger(n)) {
    throw new ValidationError(`${where}: expected an integer, got ${raw}`, spec.name);
  }
  if (spec.min !== undefined && n < spec.min) {
    throw new ValidationError(`${where}: ${n} is below the minimum ${spec.min}`, spec.name);
  }
  if (spec.max !== undefined && n > spec.max) {
    throw new ValidationError(`${where}: ${n} is above the maximum ${spec.max}`, spec.name);
  }
  return n;
}

/**
 * Resolves raw values (CLI strings, config numbers) against a strategy's schema: unknown names, wrong types and
 * out-of-range values throw ValidationError naming the parameter; missing ones take their defaults; then the
 * strategy's own cross-parameter validation runs.
 */
export function resolveParams(def: StrategyDefinition, raw: Readonly<Record<string, ParamValue>> = {}): ParamValues {
  const out: Record<string, ParamValue> = {};
  for (const key of Object.keys(raw)) {
    if (!def.params.some((p) => p.name === key)) {
      const known = def.params.map((p) => p.name).join(', ') || '(none)';
      throw new ValidationError(`strategy ${def.name} has no parameter "${key}" (known: ${known})`, key);
    }
  }
  for (const spec of def.params) {
    const v = raw[spec.name];
    out[spec.name] = v === undefined ? spec.default : coerce(spec, v, def.name);
  }
  def.validate?.(out);
  return out;
}

/** Parses `k=v` strings (repeatable `--param` flags) into a raw map; a malformed entry throws ValidationError. */
export function parseParamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--param expects key=value, got "${a}"`, 'param');
    out[a.slice(0, eq).trim()] = a.slice(eq + 1).trim();
  }
  return out;
}

/** Reads a numeric parameter (after resolveParams). */
export function numParam(p: ParamValues, name: string): number {
  return p[name] as number;
}

/** Reads a boolean parameter (after resolveParams). */
export function boolParam(p: ParamValues, name: string): boolean {
  return p[name] as boolean;
}
