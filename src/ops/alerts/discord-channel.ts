import type { Severity } from '../severity.js';
import type { Alert, AlertChannel } from './alert.js';

/** Options of {@link DiscordChannel}. The webhook URL is a secret: the runtime passes it from the vault. */
export interface DiscordChannelOptions {
  webhookUrl: string;
  minSeverity?: Severity;
  /** Display name of the webhook's messages. */
  username?: string;
  /** Request timeout; default 10 s. */
  timeoutMs?: number;
}

const COLOR: Readonly<Record<Severity, number>> = { info: 0x3498db, warning: 0xf1c40f, critical: 0xe74c3c };

/** Posts alerts to a Discord webhook as one embed (title, description, colour by severity). */
export class DiscordChannel implements AlertChannel {
  readonly name = 'discord';
  readonly minSeverity: Severity;

  constructor(private readonly options: DiscordChannelOptions) {
    this.minSeverity = options.minSeverity ?? 'warning';
    if (!/^https?:\/\//.test(options.webhookUrl)) throw new RangeError('discord webhook URL must be an http(s) URL');
  }

  async send(alert: Alert): Promise<void> {
    const body = {
      username: this.options.username ?? 'tradeforge',
      embeds: [
        {
          title: `${alert.severity.toUpperCase()}: ${alert.title}`.slice(0, 256),
          description: alert.message.slice(0, 4096),
          color: COLOR[alert.severity],
          timestamp: new Date(alert.time ?? Date.now()).toISOString(),
          footer: alert.source ? { text: alert.source.slice(0, 2048) } : undefined,
        },
      ],
      allowed_mentions: { parse: [] },
    };
    const res = await fetch(this.options.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    if (!res.ok) {
      const detail = (await res.text().catch(() => '')).slice(0, 200);
      // The URL is never put in the error: it is the secret.
      throw new Error(`discord webhook answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`);
    }
    await res.body?.cancel();
  }
}
