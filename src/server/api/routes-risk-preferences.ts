/**
 * Risk preferences (UI-5): the account limits in force, from the config file and saved, and their change while
 * running. Lowering or setting a limit tightens; raising or removing one loosens and needs `confirmLoosening: true`
 * (a 400 naming that field lists what would loosen). Changing needs `risk.change` (admins). Validated by the risk
 * config schema (`risk/preferences.ts`).
 */
import { z } from 'zod';
import { RISK_PREFERENCE_KEYS, riskPreferencesPatchSchema } from '../../risk/preferences.js';
import { actorOf, type ZodApp } from './context.js';
import type { ApiRiskPreferences } from './port.js';
import { authErrors, errorSchema } from './schemas.js';

const prefs = z.object(Object.fromEntries(RISK_PREFERENCE_KEYS.map((k) => [k, z.number().optional()])));
const viewSchema = z.object({ effective: prefs, file: prefs, saved: prefs });
const looseningSchema = z.object({ key: z.string(), from: z.number(), to: z.number().optional() });

/** The body of `PATCH /api/risk/preferences`: limits to set (`null` drops a saved one) and the confirmation. */
export const riskPreferencesBody = riskPreferencesPatchSchema.extend({
  /** Must be true when the change raises or removes a limit. */
  confirmLoosening: z.boolean().optional(),
});

const notAvailable = { error: 'not_available', message: 'this runtime has no editable risk preferences' };

const fmt = (l: z.infer<typeof looseningSchema>) => `${l.key} ${l.from} -> ${l.to ?? 'none'}`;

/** Registers `GET /api/risk/preferences` (read) and `PATCH /api/risk/preferences` (risk.change). */
export function riskPreferenceRoutes(app: ZodApp, prefsPort: ApiRiskPreferences | undefined): void {
  app.get(
    '/api/risk/preferences',
    {
      schema: {
        tags: ['risk'],
        summary: 'Editable risk limits: in force, from the config file, and saved from the API',
        response: { 200: viewSchema, ...authErrors, 501: errorSchema },
      },
    },
    async (_req, reply) => (prefsPort ? prefsPort.view() : reply.code(501).send(notAvailable)),
  );

  app.patch(
    '/api/risk/preferences',
    {
      config: { action: 'risk.change' },
      schema: {
        tags: ['risk'],
        summary:
          'Change risk limits at once (saved; they win over the config file). Raising or removing one needs confirmLoosening: true',
        body: riskPreferencesBody,
        response: {
          200: viewSchema.extend({ loosened: z.array(looseningSchema) }),
          ...authErrors,
          501: errorSchema,
        },
      },
    },
    async (req, reply) => {
      if (!prefsPort) return reply.code(501).send(notAvailable);
      const { confirmLoosening, ...patch } = req.body;
      const r = await prefsPort.apply(patch, confirmLoosening === true, actorOf(req.principal));
      if (!r.ok) {
        const message = `must be true to loosen: ${r.loosened.map(fmt).join(', ')}`;
        return reply.code(400).send({
          error: 'validation',
          message: `body.confirmLoosening: ${message}`,
          fields: [{ field: 'body.confirmLoosening', message }],
        });
      }
      return { ...r.view, loosened: r.loosened };
    },
  );
}
