/**
 * Alert channel settings (admins: they name secrets and recipients): the channels the config sets up, the lowest
 * severity each sends, where it sends to, and whether its secret is in the vault. Read-only: channels are
 * configured in the config file's `alerts` section (docs/ops.md).
 */
import { z } from 'zod';
import type { Config } from '../../core/config.js';
import type { Store } from '../../store/store.js';
import type { ZodApp } from './context.js';
import { authErrors } from './schemas.js';

/** One configured channel. */
export const alertChannelSchema = z.object({
  channel: z.enum(['telegram', 'discord', 'email']),
  minSeverity: z.enum(['info', 'warning', 'critical']),
  /** Where it sends: chat ids, "webhook", or e-mail addresses. */
  target: z.string(),
  /** The vault secret it needs, and whether the vault has it. */
  secret: z.string(),
  secretSet: z.boolean(),
});

/** Registers `GET /api/alerts/channels` (secrets.list permission). */
export function alertRoutes(app: ZodApp, store: Store, alerts: Config['alerts'] | undefined): void {
  app.get(
    '/api/alerts/channels',
    {
      config: { action: 'secrets.list' },
      schema: {
        tags: ['settings'],
        summary: 'Alert channels from the config: severity, recipients, and whether their secret is in the vault',
        response: {
          200: z.object({
            channels: z.array(alertChannelSchema),
            ratePerMinute: z.number().nullable(),
            dedupSeconds: z.number().nullable(),
          }),
          ...authErrors,
        },
      },
    },
    async () => {
      const names = new Set((await store.secrets.list()).map((s) => s.name));
      const channels: z.infer<typeof alertChannelSchema>[] = [];
      if (alerts?.telegram) {
        const t = alerts.telegram;
        channels.push({
          channel: 'telegram',
          minSeverity: t.minSeverity,
          target: `${t.chatIds.length} chat id(s)`,
          secret: t.tokenSecret,
          secretSet: names.has(t.tokenSecret),
        });
      }
      if (alerts?.discord) {
        const d = alerts.discord;
        channels.push({
          channel: 'discord',
          minSeverity: d.minSeverity,
          target: 'webhook',
          secret: d.webhookSecret,
          secretSet: names.has(d.webhookSecret),
        });
      }
      if (alerts?.email) {
        const e = alerts.email;
        channels.push({
          channel: 'email',
          minSeverity: e.minSeverity,
          target: e.to.join(', '),
          secret: e.passwordSecret,
          secretSet: names.has(e.passwordSecret),
        });
      }
      return {
        channels,
        ratePerMinute: alerts?.ratePerMinute ?? null,
        dedupSeconds: alerts?.dedupSeconds ?? null,
      };
    },
  );
}
