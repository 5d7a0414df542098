import { Api } from 'grammy';
import type { Severity } from '../severity.js';
import { type Alert, type AlertChannel, formatAlertText } from './alert.js';

/** Options of {@link TelegramChannel}. The token is passed in by the runtime, which reads it from the vault. */
export interface TelegramChannelOptions {
  token: string;
  chatIds: readonly (number | string)[];
  /** Bot API root; default `https://api.telegram.org` (tests point it at a local server). */
  apiRoot?: string;
  minSeverity?: Severity;
  /** Reuse an existing grammy Api (e.g. the control bot's). */
  api?: Api;
}

/** Sends alerts as plain-text Telegram messages to every configured chat through grammy's Bot API client. */
export class TelegramChannel implements AlertChannel {
  readonly name = 'telegram';
  readonly minSeverity: Severity;
  private readonly api: Api;
  private readonly chatIds: readonly (number | string)[];

  constructor(options: TelegramChannelOptions) {
    if (options.chatIds.length === 0) throw new RangeError('alerts.telegram.chatIds is empty: no chat to alert');
    this.minSeverity = options.minSeverity ?? 'info';
    this.chatIds = options.chatIds;
    this.api = options.api ?? new Api(options.token, options.apiRoot ? { apiRoot: options.apiRoot } : undefined);
  }

  async send(alert: Alert): Promise<void> {
    const text = formatAlertText(alert, 4096);
    const failures: string[] = [];
    // Every chat is tried even when one fails, so one blocked chat does not silence the others.
    for (const chatId of this.chatIds) {
      try {
        await this.api.sendMessage(chatId, text, { link_preview_options: { is_disabled: true } });
      } catch (err) {
        failures.push(`chat ${chatId}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (failures.length > 0) throw new Error(`telegram sendMessage failed for ${failures.join('; ')}`);
  }
}
