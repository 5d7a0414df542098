/**
 * The dry run's judgement (DEPLOY-3): at least the policy's days of paper trading on live data under the `dry_run`
 * profile, and a replay of that period (the same run spec through the simulated venue) inside the tolerance.
 */
import type { DivergenceReport } from '../../backtest/divergence.js';

const DAY = 86_400_000;

/** What the dry run showed. */
export interface DryRunEvidence {
  /** When the version entered `dry_run` (epoch ms). */
  readonly startedAt: number;
  /** The clock's now (epoch ms). */
  readonly now: number;
  /** Market time covered by bars the dry-run deployment was served since it started, ms (0 when none). */
  readonly coveredMs: number;
  /** The replay's comparison, when there were bars to replay. */
  readonly divergence?: Pick<DivergenceReport, 'verdict' | 'differences'>;
}

const days = (ms: number) => (ms / DAY).toFixed(1);

/** Every reason the dry run does not allow going live yet (empty when it does). */
export function dryRunRefusals(e: DryRunEvidence, requiredDays: number): string[] {
  const out: string[] = [];
  const need = requiredDays * DAY;
  const elapsed = e.now - e.startedAt;
  if (elapsed < need) out.push(`the dry run has run ${days(elapsed)} of ${requiredDays} days`);
  else if (e.coveredMs < need)
    out.push(`the dry run was served ${days(e.coveredMs)} days of live bars, fewer than ${requiredDays}`);
  if (e.divergence === undefined) out.push('no replay of the dry run was possible (no recorded bars)');
  else if (e.divergence.verdict !== 'match') {
    const shown = e.divergence.differences.slice(0, 5);
    const more = e.divergence.differences.length - shown.length;
    out.push(
      `the dry run diverged from its replay beyond the tolerance: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
    );
  }
  return out;
}
