/** What the runtime offers the API for its alert channels: their settings, edits that apply at once, a test send. */
import type { z } from 'zod';
import { discordAlertSchema, emailAlertSchema, telegramAlertSchema } from '../../core/config.js';

/** The channel kinds the alerting module sends to (`ops/alerts`). */
export const ALERT_CHANNEL_KINDS = ['telegram', 'discord', 'email'] as const;

/** One channel kind. */
export type AlertChannelKind = (typeof ALERT_CHANNEL_KINDS)[number];

/** A channel's settings as the config file writes them (secrets by vault name only). */
export type AlertChannelSettings = {
  telegram: z.infer<typeof telegramAlertSchema>;
  discord: z.infer<typeof discordAlertSchema>;
  email: z.infer<typeof emailAlertSchema>;
};

/** The config file's schema of each kind's settings (one home for their validation). */
export const ALERT_CHANNEL_SCHEMAS = {
  telegram: telegramAlertSchema,
  discord: discordAlertSchema,
  email: emailAlertSchema,
} as const;

/** The vault secret a channel's settings name. */
export function channelSecret<K extends AlertChannelKind>(kind: K, settings: AlertChannelSettings[K]): string {
  if (kind === 'telegram') return (settings as AlertChannelSettings['telegram']).tokenSecret;
  if (kind === 'discord') return (settings as AlertChannelSettings['discord']).webhookSecret;
  return (settings as AlertChannelSettings['email']).passwordSecret;
}

/** One configured channel: its settings and whether they come from the config file or were saved from the API. */
export interface ApiAlertChannel<K extends AlertChannelKind = AlertChannelKind> {
  channel: K;
  settings: AlertChannelSettings[K];
  source: 'file' | 'saved';
  /** The vault secret it needs. */
  secret: string;
  /** Whether it is sending: its secret was found (or it needs none) when the channels were last built. */
  active: boolean;
}

/** The runtime's editable alert channels. */
export interface ApiAlertChannels {
  /** The channels in force. */
  list(): ApiAlertChannel[];
  /** Sets (adds or replaces) a channel's settings, saved, and rebuilds the channels alerts go to. */
  set<K extends AlertChannelKind>(kind: K, settings: AlertChannelSettings[K], actor: string): Promise<ApiAlertChannel>;
  /** Removes a channel (also one from the config file, until set again); false when there was none. */
  remove(kind: AlertChannelKind, actor: string): Promise<boolean>;
  /** Sends a test alert on one channel now (no rate limit or dedup); the channel's error in one line when it fails. */
  test(kind: AlertChannelKind, actor: string): Promise<{ ok: boolean; message: string }>;
}
