import type { Command } from 'commander';

/**
 * Registers the promotion commands (DEPLOY-1..4, docs/promotion.md): `deploy ID@vN --profile dry_run|live`,
 * `promote ID@vN` and `retire ID@vN`. Each move is audited with who and why; a refusal says why and is audited too.
 */
export function register(program: Command): void {
  program
    .command('deploy <ref>')
    .description(
      'move a stored version ID@vN onto a profile: dry_run (from gated: its dry run starts now) or live (from dry_run: ' +
        'after the dry run held for its days inside the tolerance; needs --confirm-live)',
    )
    .requiredOption('--profile <profile>', 'dry_run or live')
    .option('--confirm-live', 'confirm that this version may trade real money')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (ref: string, o: { profile: string; confirmLive?: boolean; reason?: string; config?: string }) => {
      const { ValidationError } = await import('../../core/errors.js');
      if (o.profile !== 'dry_run' && o.profile !== 'live')
        throw new ValidationError(`--profile must be dry_run or live, got "${o.profile}"`, 'profile');
      const { withPromotion } = await import('./strategy-gate.js');
      await withPromotion(o.config, async ({ promotion, actor }) => {
        const r =
          o.profile === 'dry_run'
            ? await promotion.startDryRun(actor, ref, o.reason)
            : await promotion.goLive(actor, ref, {
                confirm: o.confirmLive === true,
                ...(o.reason ? { reason: o.reason } : {}),
              });
        process.stdout.write(`${r.ref}: ${r.from} -> ${r.to}\n`);
      });
    });
  program
    .command('promote <ref>')
    .description(
      'move a stored version ID@vN to its next state: gated -> dry_run, dry_run -> live (needs --confirm-live); ' +
        'draft and backtested versions pass `strategy gate` first',
    )
    .option('--confirm-live', 'confirm that this version may trade real money (dry_run -> live)')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (ref: string, o: { confirmLive?: boolean; reason?: string; config?: string }) => {
      const { withPromotion } = await import('./strategy-gate.js');
      await withPromotion(o.config, async ({ promotion, actor }) => {
        const r = await promotion.promote(actor, ref, {
          confirm: o.confirmLive === true,
          ...(o.reason ? { reason: o.reason } : {}),
        });
        process.stdout.write(`${r.ref}: ${r.from} -> ${r.to}\n`);
      });
    });
  program
    .command('retire <ref>')
    .description(
      'retire a stored version ID@vN (from any state): the live profile no longer starts it; a running runtime keeps it until stopped',
    )
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (ref: string, o: { reason?: string; config?: string }) => {
      const { withPromotion } = await import('./strategy-gate.js');
      await withPromotion(o.config, async ({ promotion, actor }) => {
        const r = await promotion.retire(actor, ref, o.reason);
        process.stdout.write(`${r.ref}: ${r.from} -> ${r.to}\n`);
      });
    });
}
