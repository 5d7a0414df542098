/**
 * The lifecycle of a stored strategy version (DEPLOY-1): `draft → backtested → gated → dry_run → live → retired`.
 * Pure: which moves are legal and why not; the app records them (store + audit log).
 */

/** Every lifecycle state, in order. */
export const LIFECYCLE_STATES = ['draft', 'backtested', 'gated', 'dry_run', 'live', 'retired'] as const;

/** A lifecycle state of a strategy version. */
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/** The one forward step from each state (retiring is allowed from every state but `retired`). */
const NEXT: Readonly<Record<LifecycleState, LifecycleState | undefined>> = {
  draft: 'backtested',
  backtested: 'gated',
  gated: 'dry_run',
  dry_run: 'live',
  live: undefined,
  retired: undefined,
};

/** True for a known state name. */
export function isLifecycleState(s: string): s is LifecycleState {
  return (LIFECYCLE_STATES as readonly string[]).includes(s);
}

/** The state after `from` on the promotion path (undefined for `live` and `retired`). */
export function nextState(from: LifecycleState): LifecycleState | undefined {
  return NEXT[from];
}

/** Why a move from `from` to `to` is illegal, or undefined when it is legal. */
export function illegalTransition(from: LifecycleState, to: LifecycleState): string | undefined {
  if (from === 'retired') return 'the version is retired: store a new version to start again';
  if (to === 'retired') return undefined;
  if (NEXT[from] === to) return undefined;
  const next = NEXT[from];
  return next === undefined
    ? `a ${from} version can only be retired`
    : `a ${from} version moves to ${next} next, not to ${to} (no state is skipped)`;
}
