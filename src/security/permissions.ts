import { AuthError } from '../core/errors.js';
import type { Role } from '../store/repositories/auth.js';

/** Things a user may try to do through the API, CLI or dashboard. */
export type Action =
  | 'read'
  | 'trade'
  | 'risk.change'
  | 'killswitch'
  | 'secrets.list'
  | 'secrets.write'
  | 'config.change'
  | 'deploy'
  | 'strategy.write'
  | 'backtest.run'
  /** Chat with the trading assistant: it spends tokens and sends the account's figures to the model's provider. */
  | 'assistant.use'
  | 'users.manage'
  | 'audit.export';

/** Every action. */
export const ACTIONS: readonly Action[] = [
  'read',
  'trade',
  'risk.change',
  'killswitch',
  'secrets.list',
  'secrets.write',
  'config.change',
  'deploy',
  'strategy.write',
  'backtest.run',
  'assistant.use',
  'users.manage',
  'audit.export',
];

const VIEWER: ReadonlySet<Action> = new Set<Action>(['read']);

/** The permission check: viewers only read; admins trade, change risk, see secret names, use the kill switch... */
export function can(role: Role | string, action: Action): boolean {
  if (role === 'admin') return ACTIONS.includes(action);
  if (role === 'viewer') return VIEWER.has(action);
  return false;
}

/** Throws AuthError (code FORBIDDEN) when the role may not perform the action. */
export function requirePermission(role: Role | string, action: Action): void {
  if (!can(role, action)) throw new AuthError(`role "${role}" may not ${action}`, 'FORBIDDEN');
}
