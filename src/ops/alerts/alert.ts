import type { Severity } from '../severity.js';

/** One alert as routed to channels. */
export interface Alert {
  severity: Severity;
  title: string;
  message: string;
  /** De-duplication key: alerts with the same key within `dedupSeconds` are sent once. Default: title + message. */
  key?: string;
  /** Epoch ms; the router fills it in when absent. */
  time?: number;
  /** Component or event that raised it (`breaker.tripped.v1`, `ops:watchdog` ...). */
  source?: string;
}

/** A delivery channel (Telegram, Discord, email ...). `send` throws when delivery failed. */
export interface AlertChannel {
  /** Unique channel name, used in stats and errors (`telegram`, `discord`, `email`). */
  readonly name: string;
  /** Alerts below this severity are not sent to this channel. */
  readonly minSeverity: Severity;
  send(alert: Alert): Promise<void>;
  /** Releases connections (SMTP pool ...). */
  close?(): void | Promise<void>;
}

const ICON: Readonly<Record<Severity, string>> = { info: 'ℹ️', warning: '⚠️', critical: '🚨' };

/** Plain-text rendering shared by the text channels: icon, severity, title, then the message. */
export function formatAlertText(alert: Alert, maxLength = 4000): string {
  const text = `${ICON[alert.severity]} ${alert.severity.toUpperCase()}: ${alert.title}\n${alert.message}`;
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
