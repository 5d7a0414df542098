/**
 * Alert channel settings (admins: they name secrets and recipients). `GET` lists the channels in force, the lowest
 * severity each sends, where it sends to and whether its secret is in the vault. With a runtime that offers
 * `alertChannels` they can be set, removed and test-sent from the API (saved; they win over the config file's
 * `alerts` section, docs/operations.md); a secret value sent with the settings goes into the vault under the name
 * the settings give, and is never sent back.
 */
import { z } from 'zod';
import type { Config } from '../../core/config.js';
import type { Store } from '../../store/store.js';
import {
  ALERT_CHANNEL_KINDS,
  ALERT_CHANNEL_SCHEMAS,
  type AlertChannelKind,
  type AlertChannelSettings,
  type ApiAlertChannels,
  channelSecret,
} from './alert-port.js';
import { actorOf, type ApiContext, type ZodApp } from './context.js';
import { authErrors, controlResultSchema, errorSchema } from './schemas.js';

/** One configured channel. */
export const alertChannelSchema = z.object({
  channel: z.enum(ALERT_CHANNEL_KINDS),
  minSeverity: z.enum(['info', 'warning', 'critical']),
  /** Where it sends: chat ids, "webhook", or e-mail addresses. */
  target: z.string(),
  /** The vault secret it needs, and whether the vault has it. */
  secret: z.string(),
  secretSet: z.boolean(),
  /** The settings as the config file writes them (secrets by name), and where they come from. */
  settings: z.record(z.string(), z.unknown()),
  source: z.enum(['file', 'saved']),
  /** Whether the runtime sends on it (null: no runtime to ask). */
  active: z.boolean().nullable(),
});

const kindParams = z.strictObject({ kind: z.enum(ALERT_CHANNEL_KINDS) });

/** The body of `PUT /api/alerts/channels/:kind`. */
export const alertChannelBody = z.strictObject({
  /** The channel's settings, checked by the config file's schema for `alerts.<kind>`. */
  settings: z.record(z.string(), z.unknown()),
  /** The secret's value (bot token, webhook URL, SMTP password), stored in the vault; never sent back. */
  secretValue: z.string().min(1).max(4096).optional(),
});

function targetOf(kind: AlertChannelKind, settings: AlertChannelSettings[AlertChannelKind]): string {
  if (kind === 'telegram') return `${(settings as AlertChannelSettings['telegram']).chatIds.length} chat id(s)`;
  if (kind === 'discord') return 'webhook';
  return (settings as AlertChannelSettings['email']).to.join(', ');
}

const notEditable = {
  error: 'not_available',
  message: 'this server has no running runtime to apply alert channels to; edit the config file',
};

/** Registers the alert channel routes (list: secrets.list; set, remove, test: secrets.write). */
export function alertRoutes(
  app: ZodApp,
  ctx: Pick<ApiContext, 'store' | 'vault'>,
  alerts: Config['alerts'] | undefined,
  editable: ApiAlertChannels | undefined,
): void {
  const store: Store = ctx.store;
  const listed = () => {
    if (editable) return editable.list();
    return ALERT_CHANNEL_KINDS.flatMap((k) => {
      const settings = alerts?.[k];
      return settings
        ? [{ channel: k, settings, source: 'file' as const, secret: channelSecret(k, settings), active: null }]
        : [];
    });
  };

  app.get(
    '/api/alerts/channels',
    {
      config: { action: 'secrets.list' },
      schema: {
        tags: ['settings'],
        summary: 'Alert channels in force: settings, recipients, whether their secret is in the vault, and where set',
        response: {
          200: z.object({
            channels: z.array(alertChannelSchema),
            ratePerMinute: z.number().nullable(),
            dedupSeconds: z.number().nullable(),
            editable: z.boolean(),
          }),
          ...authErrors,
        },
      },
    },
    async () => {
      const names = new Set((await store.secrets.list()).map((s) => s.name));
      return {
        channels: listed().map((c) => ({
          channel: c.channel,
          minSeverity: c.settings.minSeverity,
          target: targetOf(c.channel, c.settings),
          secret: c.secret,
          secretSet: names.has(c.secret),
          settings: c.settings as Record<string, unknown>,
          source: c.source,
          active: c.active,
        })),
        ratePerMinute: alerts?.ratePerMinute ?? null,
        dedupSeconds: alerts?.dedupSeconds ?? null,
        editable: editable !== undefined,
      };
    },
  );

  app.put(
    '/api/alerts/channels/:kind',
    {
      config: { action: 'secrets.write' },
      schema: {
        tags: ['settings'],
        summary:
          'Set a channel (telegram, discord, email): its settings as in the config file, optionally its secret value for the vault; applies at once',
        params: kindParams,
        body: alertChannelBody,
        response: { 200: alertChannelSchema, ...authErrors, 409: errorSchema, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!editable) return reply.code(501).send(notEditable);
      const kind = req.params.kind;
      const parsed = ALERT_CHANNEL_SCHEMAS[kind].safeParse(req.body.settings);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => ({
          field: ['body.settings', ...i.path.map(String)].join('.'),
          message:
            i.code === 'unrecognized_keys'
              ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`
              : i.message,
        }));
        return reply.code(400).send({
          error: 'validation',
          message: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
          fields,
        });
      }
      const settings = parsed.data as AlertChannelSettings[typeof kind];
      const actor = actorOf(req.principal);
      if (req.body.secretValue !== undefined) {
        if (!ctx.vault) {
          return reply
            .code(409)
            .send({ error: 'vault_locked', message: 'the vault is locked: the secret cannot be stored' });
        }
        await ctx.vault.set(channelSecret(kind, settings), req.body.secretValue, actor);
      }
      const c = await editable.set(kind, settings, actor);
      const names = new Set((await store.secrets.list()).map((s) => s.name));
      return {
        channel: c.channel,
        minSeverity: c.settings.minSeverity,
        target: targetOf(c.channel, c.settings),
        secret: c.secret,
        secretSet: names.has(c.secret),
        settings: c.settings as Record<string, unknown>,
        source: c.source,
        active: c.active,
      };
    },
  );

  app.delete(
    '/api/alerts/channels/:kind',
    {
      config: { action: 'secrets.write' },
      schema: {
        tags: ['settings'],
        summary: 'Remove a channel (also one from the config file, until set again); its secret stays in the vault',
        params: kindParams,
        response: { 200: controlResultSchema, ...authErrors, 404: errorSchema, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!editable) return reply.code(501).send(notEditable);
      const kind = req.params.kind;
      if (!(await editable.remove(kind, actorOf(req.principal)))) {
        return reply.code(404).send({ error: 'not_found', message: `no ${kind} channel is configured` });
      }
      return { ok: true, message: `${kind} channel removed` };
    },
  );

  app.post(
    '/api/alerts/channels/:kind/test',
    {
      config: { action: 'secrets.write' },
      schema: {
        tags: ['settings'],
        summary: 'Send a test alert on one channel now; the channel’s refusal in one line',
        params: kindParams,
        response: { 200: controlResultSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (req, reply) => {
      if (!editable) return reply.code(501).send(notEditable);
      return editable.test(req.params.kind, actorOf(req.principal));
    },
  );
}
