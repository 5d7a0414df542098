/** Compliance and settings routes: audit search, order story, secrets (names only), users, version. */
import { z } from 'zod';
import type { AuditRecord } from '../../store/audit-log.js';
import { actorOf, type ApiContext, type ZodApp } from './context.js';
import {
  auditQuery,
  auditRecordSchema,
  authErrors,
  controlResultSchema,
  createUserBody,
  errorSchema,
  orderIdParams,
  orderMatchesSchema,
  orderStorySchema,
  publicUserSchema,
  secretListSchema,
  secretNameParams,
  secretPutBody,
  versionSchema,
} from './schemas.js';

const vaultLocked = {
  error: 'vault_locked',
  message: 'the vault is locked: start the runtime with TRADEFORGE_PASSWORD or TRADEFORGE_MASTER_KEY',
};

function publicRecord(r: AuditRecord): z.infer<typeof auditRecordSchema> {
  return {
    seq: r.seq,
    time: r.time,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details: JSON.parse(r.details) as unknown,
    hash: r.hash,
  };
}

/** Registers the compliance and settings routes. */
export function adminRoutes(app: ZodApp, ctx: ApiContext): void {
  const { store, port } = ctx;

  app.get(
    '/api/audit',
    {
      schema: {
        tags: ['compliance'],
        summary: 'Search the audit log (newest first) by subject, action, actor and time',
        querystring: auditQuery,
        response: { 200: z.object({ records: z.array(auditRecordSchema), total: z.number() }), ...authErrors },
      },
    },
    async (req) => {
      const q = req.query;
      // Walk in pages, keeping only the newest `limit` matches: constant memory for any log size.
      const kept: AuditRecord[] = [];
      for await (const r of store.audit.iterate({
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      })) {
        if (q.subject !== undefined && r.subject !== q.subject) continue;
        if (q.action !== undefined && r.action !== q.action) continue;
        if (q.actor !== undefined && r.actor !== q.actor) continue;
        kept.push(r);
        if (kept.length > q.limit) kept.shift();
      }
      return { records: kept.reverse().map(publicRecord), total: await store.audit.count() };
    },
  );

  app.get(
    '/api/audit/verify',
    {
      config: { action: 'audit.export' },
      schema: {
        tags: ['compliance'],
        summary: 'Walk the hash chain (and HMACs when the vault is unlocked): the audit chain status',
        response: {
          200: z.object({
            ok: z.boolean(),
            checked: z.number(),
            hmacChecked: z.boolean(),
            firstBad: z.object({ seq: z.number(), problem: z.string() }).optional(),
          }),
          ...authErrors,
        },
      },
    },
    () => store.audit.verify(),
  );

  app.get(
    '/api/orders/:id/story',
    {
      schema: {
        tags: ['compliance'],
        summary:
          'The whole story of one order: signal, risk decisions, venue messages, fills (STORE-4). The id may be the client order id, the venue order id or a prefix of one; several matches answer 409 with the list.',
        params: orderIdParams,
        response: { 200: orderStorySchema, ...authErrors, 404: errorSchema, 409: orderMatchesSchema },
      },
    },
    async (req, reply) => {
      const found = await store.lookupOrder(req.params.id);
      if (found.kind === 'none')
        return reply.code(404).send({ error: 'not_found', message: `no order ${req.params.id}` });
      if (found.kind === 'ambiguous') {
        return reply.code(409).send({
          error: 'ambiguous',
          message: `${found.matches.length} orders match ${req.params.id}; give more of the id`,
          matches: found.matches.map((o) => ({
            clientOrderId: o.clientOrderId,
            ...(o.venueOrderId !== undefined ? { venueOrderId: o.venueOrderId } : {}),
            symbol: o.symbol,
            side: o.side,
            status: o.status,
            createdAt: o.createdAt,
          })),
        });
      }
      const s = found.story;
      return {
        orderId: s.orderId,
        ...(s.correlationId !== undefined ? { correlationId: s.correlationId } : {}),
        ...(s.order ? { order: { ...s.order } } : {}),
        ...(s.signal ? { signal: s.signal } : {}),
        timeline: s.timeline,
        fills: s.fills.map((f) => ({ ...f })),
        riskEvents: s.riskEvents.map((e) => ({ ...e })),
      };
    },
  );

  app.get(
    '/api/secrets',
    {
      config: { action: 'secrets.list' },
      schema: {
        tags: ['settings'],
        summary: 'Secret names and dates; values never leave the vault',
        response: { 200: secretListSchema, ...authErrors },
      },
    },
    async () => ({
      vault: ctx.vault ? ('unlocked' as const) : ('locked' as const),
      secrets: (await store.secrets.list()).map((s) => ({ name: s.name, updatedAt: s.updatedAt ?? null })),
    }),
  );

  app.put(
    '/api/secrets/:name',
    {
      config: { action: 'secrets.write' },
      schema: {
        tags: ['settings'],
        summary: 'Store or replace a secret (encrypted in the vault)',
        params: secretNameParams,
        body: secretPutBody,
        response: { 200: controlResultSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (req, reply) => {
      if (!ctx.vault) return reply.code(409).send(vaultLocked);
      await ctx.vault.set(req.params.name, req.body.value, actorOf(req.principal));
      return { ok: true, message: `secret ${req.params.name} stored` };
    },
  );

  app.delete(
    '/api/secrets/:name',
    {
      config: { action: 'secrets.write' },
      schema: {
        tags: ['settings'],
        summary: 'Delete a secret',
        params: secretNameParams,
        response: { 200: controlResultSchema, ...authErrors, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req, reply) => {
      if (!ctx.vault) return reply.code(409).send(vaultLocked);
      if (!(await ctx.vault.delete(req.params.name, actorOf(req.principal)))) {
        return reply.code(404).send({ error: 'not_found', message: `no secret named ${req.params.name}` });
      }
      return { ok: true, message: `secret ${req.params.name} deleted` };
    },
  );

  app.get(
    '/api/users',
    {
      config: { action: 'users.manage' },
      schema: {
        tags: ['settings'],
        summary: 'Users and roles (admin only)',
        response: { 200: z.object({ users: z.array(publicUserSchema) }), ...authErrors },
      },
    },
    async () => ({
      users: (await store.users.list()).map((u) => ({
        id: u.id,
        username: u.username,
        role: u.role,
        isOwner: u.isOwner,
        totpEnabled: u.totpEnabled,
      })),
    }),
  );

  app.post(
    '/api/users',
    {
      config: { action: 'users.manage' },
      schema: {
        tags: ['settings'],
        summary: 'Create a user with a role (admin only)',
        body: createUserBody,
        response: { 200: publicUserSchema, ...authErrors },
      },
    },
    (req) => ctx.auth.createUser(req.body.username, req.body.password, req.body.role, actorOf(req.principal)),
  );

  app.get(
    '/api/version',
    {
      schema: {
        tags: ['compliance'],
        summary: 'Engine version, git SHA and config hash (OPS-7)',
        response: { 200: versionSchema, ...authErrors },
      },
    },
    () => port.version(),
  );
}
