/**
 * The runtime's alert channels as settings that can be edited while it runs (UI-5): the config file's `alerts`
 * channels, overridden per kind by settings saved from the API (saved wins; a removal is saved too). Every change
 * is saved, rebuilds the channels the alert router sends to (an alert raised after it goes to the new channel),
 * and is audited. Secrets are named, never held here: the API writes their values to the vault.
 */
import type { Config } from '../../core/config.js';
import type { AlertChannel, AlertRouter } from '../../ops/index.js';
import {
  ALERT_CHANNEL_KINDS,
  ALERT_CHANNEL_SCHEMAS,
  type AlertChannelKind,
  type AlertChannelSettings,
  type ApiAlertChannel,
  type ApiAlertChannels,
  channelSecret,
} from '../../server/api/alert-port.js';
import type { Store } from '../../store/index.js';
import { audit } from '../reconcile.js';

/** The store key of the channel settings saved from the API. */
export const ALERT_CHANNELS_KEY = 'alerts.channels';

/** Settings saved from the API, per kind; `null` marks a channel removed (also one the config file names). */
export class SavedChannels {
  constructor(readonly byKind: { [K in AlertChannelKind]?: AlertChannelSettings[K] | null }) {}

  /** The channels in force: saved settings over the config file's, kind by kind. */
  effective(file: Config['alerts']): { [K in AlertChannelKind]?: AlertChannelSettings[K] } {
    const out: { [K in AlertChannelKind]?: AlertChannelSettings[K] } = {};
    for (const k of ALERT_CHANNEL_KINDS) {
      const v = k in this.byKind ? this.byKind[k] : file[k];
      if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
    }
    return out;
  }
}

/** Reads the saved settings, each checked by its config schema; a bad entry stops startup naming it. */
export async function loadSavedChannels(store: Store): Promise<SavedChannels> {
  const raw = (await store.kv.get<Record<string, unknown>>(ALERT_CHANNELS_KEY)) ?? {};
  const byKind: Record<string, unknown> = {};
  for (const k of ALERT_CHANNEL_KINDS) {
    if (!(k in raw)) continue;
    if (raw[k] === null) {
      byKind[k] = null;
      continue;
    }
    const r = ALERT_CHANNEL_SCHEMAS[k].safeParse(raw[k]);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new Error(`store ${ALERT_CHANNELS_KEY}.${k}.${i.path.join('.')}: ${i.message}`);
    }
    byKind[k] = r.data;
  }
  return new SavedChannels(byKind as SavedChannels['byKind']);
}

/** What the service needs. */
export interface AlertChannelsDeps {
  store: Store;
  file: Config['alerts'];
  saved: SavedChannels;
  /** Builds one channel (`first`: at startup, when the Telegram channel may share the control bot). */
  build: <K extends AlertChannelKind>(
    kind: K,
    settings: AlertChannelSettings[K],
    first: boolean,
  ) => Promise<{ channel: AlertChannel } | { off: string }>;
  /** Told why a configured channel is off. */
  onOff: (reason: string) => void;
}

/** The editable alert channels of a runtime (the API's `ApiAlertChannels`). */
export class AlertChannelsService implements ApiAlertChannels {
  private saved: SavedChannels;
  private router: AlertRouter | undefined;
  private active = new Set<AlertChannelKind>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: AlertChannelsDeps) {
    this.saved = d.saved;
  }

  /** Gives the service the router whose channels it replaces. */
  bindRouter(router: AlertRouter): void {
    this.router = router;
  }

  /** Builds every channel in force; the ones that cannot send (a missing secret) are reported and left out. */
  async buildAll(first = false): Promise<AlertChannel[]> {
    const out: AlertChannel[] = [];
    const active = new Set<AlertChannelKind>();
    const eff = this.saved.effective(this.d.file);
    for (const k of ALERT_CHANNEL_KINDS) {
      const settings = eff[k];
      if (settings === undefined) continue;
      const b = await this.d.build(k, settings, first);
      if ('channel' in b) {
        out.push(b.channel);
        active.add(k);
      } else this.d.onOff(b.off);
    }
    this.active = active;
    return out;
  }

  list(): ApiAlertChannel[] {
    const eff = this.saved.effective(this.d.file);
    const out: ApiAlertChannel[] = [];
    for (const k of ALERT_CHANNEL_KINDS) {
      const settings = eff[k];
      if (settings === undefined) continue;
      out.push({
        channel: k,
        settings,
        source: k in this.saved.byKind ? 'saved' : 'file',
        secret: channelSecret(k, settings),
        active: this.active.has(k),
      });
    }
    return out;
  }

  set<K extends AlertChannelKind>(kind: K, settings: AlertChannelSettings[K], actor: string): Promise<ApiAlertChannel> {
    return this.serial(async () => {
      await this.save({ ...this.saved.byKind, [kind]: settings }, actor, 'alerts.channel.set', kind, settings);
      return this.list().find((c) => c.channel === kind) as ApiAlertChannel;
    });
  }

  remove(kind: AlertChannelKind, actor: string): Promise<boolean> {
    return this.serial(async () => {
      if (this.saved.effective(this.d.file)[kind] === undefined) return false;
      await this.save({ ...this.saved.byKind, [kind]: null }, actor, 'alerts.channel.removed', kind, null);
      return true;
    });
  }

  async test(kind: AlertChannelKind, actor: string): Promise<{ ok: boolean; message: string }> {
    const settings = this.saved.effective(this.d.file)[kind];
    if (settings === undefined) return { ok: false, message: `no ${kind} channel is configured` };
    const b = await this.d.build(kind, settings, false);
    if ('off' in b) return { ok: false, message: b.off };
    let result: { ok: boolean; message: string };
    try {
      await b.channel.send({
        severity: 'info',
        title: 'Test alert',
        message: `A test of the ${kind} channel, sent by ${actor} from the tradeforge dashboard.`,
        source: 'api',
      });
      result = { ok: true, message: `test alert sent on ${kind}` };
    } catch (err) {
      const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      result = { ok: false, message: `${kind} refused the test alert: ${first}` };
    } finally {
      await b.channel.close?.();
    }
    await audit(this.d.store, {
      action: 'alerts.channel.tested',
      subject: `alerts:${kind}`,
      actor,
      time: Date.now(),
      details: result,
    });
    return result;
  }

  // Saved first, then the channels rebuilt and swapped: alerts raised after this go to the new set.
  private async save(
    byKind: SavedChannels['byKind'],
    actor: string,
    action: string,
    kind: AlertChannelKind,
    settings: unknown,
  ): Promise<void> {
    await this.d.store.kv.set(ALERT_CHANNELS_KEY, byKind);
    this.saved = new SavedChannels(byKind);
    const channels = await this.buildAll();
    await this.router?.replaceChannels(channels);
    await audit(this.d.store, { action, subject: `alerts:${kind}`, actor, time: Date.now(), details: { settings } });
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
