import type { Command } from 'commander';
import { addQueueFlags, type QueueFlags, queueSettings } from '../queue-flags.js';

/** Registers `tradeforge queue status|cancel`: the scale-out job queue at a glance, and cancelling a sweep. */
export function register(program: Command): void {
  const queue = program.command('queue').description('the scale-out job queue: status, cancel a sweep');
  addQueueFlags(
    queue
      .command('status')
      .description('jobs waiting, active, failed, and throughput per worker')
      .option('--json', 'print the status as JSON'),
  ).action(async (o: QueueFlags & { json?: boolean }) => {
    const settings = await queueSettings(o, o.config);
    const { queueStatus } = await import('../../scale/status.js');
    const s = await queueStatus(settings);
    if (o.json) {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return;
    }
    const lines = [
      `queue ${settings.prefix}: ${s.waiting} waiting, ${s.active} active, ${s.delayed} delayed, ${s.failed} failed, ${s.completed} completed`,
    ];
    if (s.workers.length === 0) lines.push('no workers');
    for (const w of s.workers) {
      lines.push(
        `  ${w.id.padEnd(28)} ${w.connected ? 'connected   ' : 'disconnected'} ${String(w.completed).padStart(6)} done ` +
          `${String(w.failedAttempts).padStart(4)} failed attempts  ${w.perMinute === null ? '-' : w.perMinute.toFixed(1)} jobs/min`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });
  addQueueFlags(
    queue.command('cancel').description('remove the waiting jobs of a sweep (running ones finish)').argument('<sweep>'),
  ).action(async (sweep: string, o: QueueFlags) => {
    const settings = await queueSettings(o, o.config);
    const { cancelSweepJobs } = await import('../../scale/status.js');
    const n = await cancelSweepJobs(settings, sweep);
    process.stdout.write(`sweep ${sweep}: ${n} waiting job${n === 1 ? '' : 's'} removed\n`);
  });
}
