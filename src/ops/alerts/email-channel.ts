import nodemailer from 'nodemailer';
import type { Severity } from '../severity.js';
import { type Alert, type AlertChannel, formatAlertText } from './alert.js';

/** Options of {@link EmailChannel} (config `alerts.email`, with the password read from the vault by the runtime). */
export interface EmailChannelOptions {
  host: string;
  port: number;
  /** Implicit TLS (port 465); otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  user?: string;
  password?: string;
  from: string;
  to: readonly string[];
  minSeverity?: Severity;
  /** Refuse to send without STARTTLS (recommended for remote servers). */
  requireTLS?: boolean;
  /** Extra TLS options (e.g. a private CA). */
  tls?: { rejectUnauthorized?: boolean; servername?: string };
  timeoutMs?: number;
}

/** Sends alerts by SMTP (nodemailer), one mail per alert to all recipients. */
export class EmailChannel implements AlertChannel {
  readonly name = 'email';
  readonly minSeverity: Severity;
  private readonly transport: nodemailer.Transporter;

  constructor(private readonly options: EmailChannelOptions) {
    if (options.to.length === 0) throw new RangeError('alerts.email.to is empty: no recipient to alert');
    this.minSeverity = options.minSeverity ?? 'critical';
    const timeout = options.timeoutMs ?? 15_000;
    this.transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure ?? false,
      requireTLS: options.requireTLS ?? false,
      auth: options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : undefined,
      tls: options.tls,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(alert: Alert): Promise<void> {
    await this.transport.sendMail({
      from: this.options.from,
      to: [...this.options.to],
      subject: `[tradeforge] ${alert.severity.toUpperCase()}: ${alert.title}`,
      text: `${formatAlertText(alert, 100_000)}\n\n${new Date(alert.time ?? Date.now()).toISOString()}${
        alert.source ? ` · ${alert.source}` : ''
      }\n`,
      headers: alert.severity === 'critical' ? { 'X-Priority': '1 (Highest)', Importance: 'high' } : undefined,
    });
  }

  close(): void {
    this.transport.close();
  }
}
