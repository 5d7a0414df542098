/** Alert channels and the Telegram bot of a runtime (OPS-3, OPS-4), built from config and the vault's secrets. */
import type { Config } from '../../core/config.js';
import type { EventBus } from '../../core/events.js';
import {
  AlertRouter,
  type AlertChannel,
  type ControlApi,
  DiscordChannel,
  EmailChannel,
  type OpsLogger,
  subscribeAlerts,
  TelegramChannel,
  TelegramControl,
} from '../../ops/index.js';
import type { Store } from '../../store/index.js';
import { audit } from '../reconcile.js';

/** Reads a vault secret; undefined when the vault is locked or has no such secret. */
export type SecretReader = (name: string) => Promise<string | undefined>;

/** What buildAlerting needs. */
export interface AlertingDeps {
  config: Config;
  bus: EventBus;
  store: Store;
  logs: OpsLogger;
  secret: SecretReader;
  /** Whether a vault is unlocked (for the warning that names the missing secret or the locked vault). */
  vaultOpen: boolean;
  /** The control API, bound once the runtime has built it (the bot exists before it). */
  control: ControlApi;
}

/** The alert router (every alert is also logged) and the Telegram control bot when configured. */
export interface Alerting {
  router: AlertRouter;
  telegramBot: TelegramControl | undefined;
  /** Unsubscribes from the bus and closes the transports (pending deliveries get a bounded chance). */
  close(): Promise<void>;
}

/** Builds the channels the config names and the vault can unlock, and routes `alert.raised.v1` to them. */
export async function buildAlerting(d: AlertingDeps): Promise<Alerting> {
  const { config, bus, store, logs, secret } = d;
  const log = logs.child('runtime');
  const channels: AlertChannel[] = [];
  const missing = (what: string, name: string) =>
    d.vaultOpen
      ? `${what}: secret "${name}" is not in the vault (tradeforge secrets set ${name})`
      : `${what}: the vault is locked (set TRADEFORGE_MASTER_KEY or TRADEFORGE_PASSWORD) so secret "${name}" cannot be read`;
  // One bot for alerts and control (OPS-3/OPS-4): the alert channel shares the control bot's Bot API client.
  let telegramBot: TelegramControl | undefined;
  const tg = config.alerts.telegram;
  if (tg) {
    const token = await secret(tg.tokenSecret);
    if (!token)
      log.warn(missing('alerts.telegram is configured but Telegram alerts and control are off', tg.tokenSecret));
    else if (tg.chatIds.length === 0) {
      log.warn('alerts.telegram.chatIds is empty: Telegram alerts and control are off (no chat to alert or obey)');
    } else {
      telegramBot = new TelegramControl({
        token,
        allowedChatIds: tg.chatIds,
        control: d.control,
        bus,
        ...(tg.apiRoot ? { apiRoot: tg.apiRoot } : {}),
        audit: (e) =>
          audit(store, {
            action: 'telegram.command',
            subject: 'runtime',
            details: e,
            time: Date.now(),
            actor: 'telegram',
          }),
        logger: logs.child('ops:telegram'),
      });
      channels.push(
        new TelegramChannel({ token, chatIds: tg.chatIds, minSeverity: tg.minSeverity, api: telegramBot.bot.api }),
      );
    }
  }
  const dc = config.alerts.discord;
  if (dc) {
    const webhookUrl = await secret(dc.webhookSecret);
    if (webhookUrl) channels.push(new DiscordChannel({ webhookUrl, minSeverity: dc.minSeverity }));
    else log.warn(missing('alerts.discord is configured but Discord alerts are off', dc.webhookSecret));
  }
  const em = config.alerts.email;
  if (em) {
    // Without a user the SMTP server takes mail unauthenticated (a local relay): there is no password to read.
    const password = em.user !== undefined ? await secret(em.passwordSecret) : undefined;
    if (em.user !== undefined && password === undefined) {
      log.warn(missing('alerts.email is configured but email alerts are off', em.passwordSecret));
    } else {
      channels.push(
        new EmailChannel({
          host: em.host,
          port: em.port,
          secure: em.secure,
          ...(em.user !== undefined ? { user: em.user, password } : {}),
          from: em.from,
          to: em.to,
          minSeverity: em.minSeverity,
        }),
      );
    }
  }
  const router = new AlertRouter({
    channels,
    ratePerMinute: config.alerts.ratePerMinute,
    dedupSeconds: config.alerts.dedupSeconds,
    onError: (channel, err) => log.warn({ err, channel }, 'alert delivery failed'),
  });
  const off = subscribeAlerts(bus, (a) => {
    log.warn({ alert: a }, `alert: ${a.title}`);
    void router.notify(a);
  });
  return {
    router,
    telegramBot,
    async close() {
      off();
      await Promise.race([router.close(), new Promise<void>((r) => setTimeout(r, 5_000).unref())]);
    },
  };
}
