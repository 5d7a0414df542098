/** Alert channels and the Telegram bot of a runtime (OPS-3, OPS-4), built from config and the vault's secrets. */
import type { Config } from '../../core/config.js';
import type { EventBus } from '../../core/events.js';
import {
  type Alert,
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
import type { Api } from 'grammy';
import { type AlertChannelKind, type AlertChannelSettings, channelSecret } from '../../server/api/alert-port.js';
import type { Store } from '../../store/index.js';
import { audit } from '../reconcile.js';
import { AlertChannelsService, loadSavedChannels } from './alert-channels.js';

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
  /** The channels' settings, editable from the API (saved values win over the config file's). */
  channels: AlertChannelsService;
  /** Unsubscribes from the bus and closes the transports (pending deliveries get a bounded chance). */
  close(): Promise<void>;
}

/** A built channel, or why it is off (a one-line reason naming the missing secret or setting). */
export type BuiltChannel = { channel: AlertChannel } | { off: string };

/**
 * Builds one channel from its settings and the vault. `telegramApi` is the control bot's Bot API client, shared
 * by the Telegram channel when given (one bot for alerts and control).
 */
export async function buildAlertChannel<K extends AlertChannelKind>(
  kind: K,
  settings: AlertChannelSettings[K],
  secret: SecretReader,
  vaultOpen: boolean,
  telegramApi?: Api,
): Promise<BuiltChannel> {
  const name = channelSecret(kind, settings);
  const missing = (what: string) =>
    vaultOpen
      ? `${what}: secret "${name}" is not in the vault (tradeforge secrets set ${name})`
      : `${what}: the vault is locked (set TRADEFORGE_MASTER_KEY or TRADEFORGE_PASSWORD) so secret "${name}" cannot be read`;
  if (kind === 'telegram') {
    const tg = settings as AlertChannelSettings['telegram'];
    const token = await secret(tg.tokenSecret);
    if (!token) return { off: missing('alerts.telegram is configured but Telegram alerts and control are off') };
    if (tg.chatIds.length === 0) {
      return {
        off: 'alerts.telegram.chatIds is empty: Telegram alerts and control are off (no chat to alert or obey)',
      };
    }
    return {
      channel: new TelegramChannel({
        token,
        chatIds: tg.chatIds,
        minSeverity: tg.minSeverity,
        ...(telegramApi ? { api: telegramApi } : tg.apiRoot ? { apiRoot: tg.apiRoot } : {}),
      }),
    };
  }
  if (kind === 'discord') {
    const dc = settings as AlertChannelSettings['discord'];
    const webhookUrl = await secret(dc.webhookSecret);
    if (!webhookUrl) return { off: missing('alerts.discord is configured but Discord alerts are off') };
    return { channel: new DiscordChannel({ webhookUrl, minSeverity: dc.minSeverity }) };
  }
  const em = settings as AlertChannelSettings['email'];
  // Without a user the SMTP server takes mail unauthenticated (a local relay): there is no password to read.
  const password = em.user !== undefined ? await secret(em.passwordSecret) : undefined;
  if (em.user !== undefined && password === undefined) {
    return { off: missing('alerts.email is configured but email alerts are off') };
  }
  return {
    channel: new EmailChannel({
      host: em.host,
      port: em.port,
      secure: em.secure,
      ...(em.user !== undefined ? { user: em.user, password } : {}),
      from: em.from,
      to: em.to,
      minSeverity: em.minSeverity,
    }),
  };
}

/** Builds the channels the config (and the settings saved from the API) name, and routes `alert.raised.v1` to them. */
export async function buildAlerting(d: AlertingDeps): Promise<Alerting> {
  const { config, bus, store, logs, secret } = d;
  const log = logs.child('runtime');
  const saved = await loadSavedChannels(store);
  // One bot for alerts and control (OPS-3/OPS-4): the alert channel shares the control bot's Bot API client.
  let telegramBot: TelegramControl | undefined;
  const tg = saved.effective(config.alerts).telegram;
  if (tg) {
    const token = await secret(tg.tokenSecret);
    if (token && tg.chatIds.length > 0) {
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
    }
  }
  const service = new AlertChannelsService({
    store,
    file: config.alerts,
    saved,
    build: (kind, settings, first) =>
      buildAlertChannel(
        kind,
        settings,
        secret,
        d.vaultOpen,
        first && kind === 'telegram' ? telegramBot?.bot.api : undefined,
      ),
    onOff: (reason) => log.warn(reason),
  });
  const channels = await service.buildAll(true);
  const router = new AlertRouter({
    channels,
    ratePerMinute: config.alerts.ratePerMinute,
    dedupSeconds: config.alerts.dedupSeconds,
    onError: (channel, err) => log.warn({ err, channel }, 'alert delivery failed'),
  });
  service.bindRouter(router);
  const off = subscribeAlerts(bus, (a: Alert) => {
    log.warn({ alert: a }, `alert: ${a.title}`);
    void router.notify(a);
  });
  return {
    router,
    telegramBot,
    channels: service,
    async close() {
      off();
      await Promise.race([router.close(), new Promise<void>((r) => setTimeout(r, 5_000).unref())]);
    },
  };
}
