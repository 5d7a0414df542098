import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';

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
      'walk the hash chain (and HMACs when the vault can be unlocked from the environment); exit 1 when broken',
    )
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (opts: { config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { tryUnlockFromEnv } = await import('../../security/cli-unlock.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const vault = await tryUnlockFromEnv(store, process.env);
        const r = await store.audit.verify(vault?.auditKey());
        if (r.ok) {
          process.stdout.write(
            `audit chain OK: ${r.checked} records verified (${r.hmacChecked ? 'hash chain and HMAC' : 'hash chain only; set TRADEFORGE_MASTER_KEY or TRADEFORGE_PASSWORD to check HMACs'})\n`,
          );
        } else {
          process.stdout.write(`audit chain BROKEN at record ${r.firstBad?.seq}: ${r.firstBad?.problem}\n`);
          process.exitCode = 1;
        }
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
    .description("reconstruct one order's story: signal, risk decision, venue messages, fills")
    .option('--json', 'print the story as JSON')
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .action(async (orderId: string, opts: { json?: boolean; config?: string }) => {
      const { openConfiguredStore } = await import('../../app/open-store.js');
      const { store } = await openConfiguredStore({ configFile: opts.config });
      try {
        const story = await store.orderStory(orderId);
        if (!story) throw new ValidationError(`no order or audit record for order "${orderId}"`, 'orderId');
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
