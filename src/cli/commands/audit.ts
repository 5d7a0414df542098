import type { Command } from 'commander';
import { echoValue, ValidationError } from '../../core/errors.js';
import { MATCHES_LISTED } from '../../store/order-story.js';
import { EXIT_USAGE } from '../cli-error.js';

function parseTime(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(t))
    throw new ValidationError(`${flag}: "${text}" is not a date (use 2026-01-31, an ISO time or epoch ms)`, flag);
  return t;
}

/** `tradeforge audit verify|export|order`: check, export and query the tamper-evident audit log. */
export function register(program: Command): void {
  const audit = program
    .command('audit')
    .description('tamper-evident audit log: verify the chain, export, order stories');
  audit
    .command('verify')
    .description(
      'walk the hash chain and check every HMAC (unlock: TRADEFORGE_MASTER_KEY(_FILE) or TRADEFORGE_PASSWORD(_FILE)) and the checkpoint file; exit 0 intact, 1 broken or unprovable, 2 nothing to check (no key, or an empty chain)',
    )
    .option('--hash-only', 'check the hash chain without HMACs (a re-chained log passes this: an explicit choice)')
    .option('--checkpoint <file>', 'checkpoint file to prove against (default: config audit.checkpointFile)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string; hashOnly?: boolean; checkpoint?: string }) => {
      const { existsSync } = await import('node:fs');
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { hasUnlockMaterial, unlockFromEnv, Vault, vaultExists } = await import('../../security/vault.js');
      const { verifyCheckpointFile } = await import('../../store/audit-checkpoint.js');
      const { store, config } = await openConfiguredStore({ configFile: opts.config });
      const broken = (seq: number | string, problem: string) => {
        process.stdout.write(`audit chain BROKEN at record ${seq}: ${problem}\n`);
        process.exitCode = 1;
      };
      try {
        const material = hasUnlockMaterial(process.env);
        if (!material && !opts.hashOnly) {
          throw new ValidationError(
            'audit verify needs the audit key: set TRADEFORGE_MASTER_KEY(_FILE) or TRADEFORGE_PASSWORD(_FILE), or pass --hash-only to check the hash chain alone',
            'unlock',
          );
        }
        const hasVault = await vaultExists(store);
        if (material && !opts.hashOnly && !hasVault) {
          // Never fall back to a hash-only check here: a deleted vault record and a re-chained log would pass it.
          broken(
            0,
            'unlock material is set but the vault record (vault_meta) is missing, so no HMAC can be checked: the vault was deleted',
          );
          return;
        }
        const unlock = opts.hashOnly ? undefined : unlockFromEnv(process.env);
        const vault = unlock && hasVault ? await Vault.unlock(store, unlock) : undefined;
        const keys = vault?.auditKeyring();
        const r = await store.audit.verify(keys, { hashOnly: opts.hashOnly === true });
        if (!r.ok) {
          broken(r.firstBad?.seq ?? 0, r.firstBad?.problem ?? 'unknown problem');
          return;
        }
        const file = opts.checkpoint ?? config.audit.checkpointFile;
        let cpNote = '';
        if (file) {
          if (!existsSync(file)) {
            if (opts.checkpoint) throw new ValidationError(`--checkpoint: file ${file} not found`, '--checkpoint');
            cpNote = `; no checkpoints yet in ${file}`;
          } else {
            const c = await verifyCheckpointFile(store.audit, file, keys);
            if (!c.ok) {
              broken('(checkpoint)', c.problem ?? 'checkpoint mismatch');
              return;
            }
            cpNote = `; ${c.checkpoints} checkpoint(s) in ${file} confirmed`;
          }
        }
        if (r.checked === 0) {
          // An empty chain proves nothing: a fresh store, or a log deleted whole. Say so; never "OK".
          process.stdout.write(`audit chain EMPTY: 0 records, nothing to verify${cpNote}\n`);
          process.exitCode = 2;
          return;
        }
        process.stdout.write(
          `audit chain OK: ${r.checked} records verified (${r.hmacChecked ? 'hash chain and HMAC' : 'hash chain only, as chosen with --hash-only'}${cpNote})\n`,
        );
      } finally {
        await store.close();
      }
    });
  audit
    .command('checkpoint')
    .description(
      'sign the chain head and append it to a file outside TRADEFORGE_HOME (default: config audit.checkpointFile); run it from cron',
    )
    .option('-o, --out <file>', 'checkpoint file (appended)')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { out?: string; config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { unlockVaultForCli } = await import('../../security/cli-unlock.js');
      const { takeCheckpoint, appendCheckpointFile } = await import('../../store/audit-checkpoint.js');
      const { store, config, home } = await openConfiguredStore({ configFile: opts.config });
      try {
        const file = opts.out ?? config.audit.checkpointFile;
        if (!file) {
          throw new ValidationError('name the checkpoint file: --out FILE or config audit.checkpointFile', '--out');
        }
        await unlockVaultForCli(store, process.env);
        const cp = await takeCheckpoint(store.audit, 'cli');
        if (!cp) {
          process.stdout.write('audit log is empty: nothing to checkpoint\n');
          return;
        }
        const { appendOnly } = appendCheckpointFile(file, cp, home.root);
        process.stdout.write(
          `checkpoint of record ${cp.seq} (epoch ${cp.epoch}) appended to ${file}${appendOnly ? ' (file made append-only)' : ''}\n`,
        );
      } finally {
        await store.close();
      }
    });
  audit
    .command('export')
    .description('write audit records as JSON lines (stdout, or --out FILE)')
    .option('--from <time>', 'first time included (date, ISO time or epoch ms)')
    .option('--to <time>', 'end time, excluded')
    .option('-o, --out <file>', 'write to this file (atomically) instead of stdout')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { from?: string; to?: string; out?: string; config?: string }) => {
      const from = parseTime(opts.from, '--from');
      const to = parseTime(opts.to, '--to');
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const lines: string[] = [];
        let n = 0;
        const out = opts.out;
        for await (const r of store.audit.iterate({ from, to })) {
          const line = `${JSON.stringify({ ...r, isoTime: new Date(r.time).toISOString(), details: JSON.parse(r.details) })}\n`;
          if (out) lines.push(line);
          else process.stdout.write(line);
          n++;
        }
        if (out) {
          const { writeAll, writeFileAtomic } = await import('../../data/atomic-file.js');
          const bytes = Buffer.from(lines.join(''));
          writeFileAtomic(out, (fd) => writeAll(fd, bytes));
          process.stderr.write(`${n} records written to ${out}\n`);
        }
      } finally {
        await store.close();
      }
    });
  audit
    .command('order <orderId>')
    .description(
      "reconstruct one order's story: signal, risk decision, venue messages, fills; the order is named by its client order id, venue order id or a prefix of one (several matches are listed)",
    )
    .option('--json', 'print the story as JSON')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (orderId: string, opts: { json?: boolean; config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const found = await store.lookupOrder(orderId);
        if (found.kind === 'none') {
          throw new ValidationError(`no order or audit record for order ${echoValue(orderId)}`, 'orderId');
        }
        if (found.kind === 'ambiguous') {
          const more = found.matches.length > MATCHES_LISTED;
          process.stderr.write(
            `${more ? `more than ${MATCHES_LISTED}` : found.matches.length} orders match ${echoValue(orderId)}; give more of the id:\n`,
          );
          for (const o of found.matches.slice(0, MATCHES_LISTED)) {
            process.stderr.write(
              `  ${o.clientOrderId}  venue ${o.venueOrderId ?? '-'}  ${new Date(o.createdAt).toISOString()}  ${o.side} ${o.quantity} ${o.symbol} ${o.type}  ${o.status}\n`,
            );
          }
          process.exitCode = EXIT_USAGE;
          return;
        }
        const story = found.story;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(story, null, 2)}\n`);
          return;
        }
        const o = story.order;
        process.stdout.write(
          `order ${story.orderId}${story.correlationId ? ` (correlation ${story.correlationId})` : ''}\n`,
        );
        if (o) {
          process.stdout.write(
            `  ${o.side} ${o.quantity} ${o.symbol} ${o.type}${o.price !== undefined ? ` @ ${o.price}` : ''} — ${o.status}, filled ${o.filledQuantity} @ ${o.averageFillPrice}\n`,
          );
        }
        if (story.signal) process.stdout.write(`  signal: ${JSON.stringify(story.signal)}\n`);
        process.stdout.write('timeline:\n');
        for (const s of story.timeline) {
          process.stdout.write(
            `  #${s.seq} ${new Date(s.time).toISOString()} ${s.action} by ${s.actor} ${JSON.stringify(s.details)}\n`,
          );
        }
        process.stdout.write(`fills: ${story.fills.length}\n`);
        for (const f of story.fills) {
          process.stdout.write(`  ${new Date(f.time).toISOString()} ${f.id} ${f.quantity} @ ${f.price} fee ${f.fee}\n`);
        }
      } finally {
        await store.close();
      }
    });
}
