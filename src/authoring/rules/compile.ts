import { ValidationError } from '../../core/errors.js';
import type { StrategyDefinition } from '../../strategy/types.js';

/** Where a rules text comes from and the name its strategy gets. */
export interface RulesSource {
  readonly file: string;
  readonly name: string;
}

/** Compiles a rule-language text into a strategy definition. */
export function compileRules(_text: string, src: RulesSource): StrategyDefinition {
  throw new ValidationError(`${src.file}: the rule language is not available yet`, 'strategy');
}
