import type { Command } from 'commander';
import type { QueueSettings } from '../scale/connection.js';

/** Flags every queue command takes. */
export interface QueueFlags {
  redis?: string;
  queuePrefix?: string;
  config?: string;
}

/** Adds `--redis`, `--queue-prefix` and `--config` to a queue command. */
export function addQueueFlags(cmd: Command): Command {
  return cmd
    .option('--redis <url>', 'Redis URL of the job queue (config queue.url, default redis://127.0.0.1:6379)')
    .option('--queue-prefix <p>', 'key prefix of the queue (config queue.prefix, default tradeforge)')
    .option('--config <file>', 'platform config file (JSON or YAML): queue.*, database.*');
}

/** The queue settings: flags over the platform config (file plus TRADEFORGE__QUEUE__* variables). */
export async function queueSettings(flags: QueueFlags, configFile?: string): Promise<QueueSettings> {
  const { loadConfig } = await import('../app/load-config.js');
  const cfg = loadConfig(configFile, process.env);
  return { url: flags.redis ?? cfg.queue.url, prefix: flags.queuePrefix ?? cfg.queue.prefix };
}
