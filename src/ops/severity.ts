/** Alert severity, lowest first. */
export type Severity = 'info' | 'warning' | 'critical';

const RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** True when `severity` is at least `min` (channel routing). */
export function atLeast(severity: Severity, min: Severity): boolean {
  return RANK[severity] >= RANK[min];
}

/** All severities, lowest first. */
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
