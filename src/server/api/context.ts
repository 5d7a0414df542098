/** What the API's route modules share. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AuthService } from '../../security/auth.js';
import type { Action } from '../../security/permissions.js';
import type { Vault } from '../../security/vault.js';
import type { Store } from '../../store/store.js';
import type { ApiPort } from './port.js';
import type { ApiPrincipal, SessionGate } from './session.js';
import type { StreamHub } from './stream.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a session (login, refresh, docs, the dashboard's files). */
    public?: boolean;
    /** The permission a route needs; absent means `read`. */
    action?: Action;
  }
  interface FastifyRequest {
    /** The authenticated caller (set before validation, so a 401 precedes a 400). */
    principal?: ApiPrincipal;
  }
}

/** Dependencies of the route modules. */
export interface ApiContext {
  port: ApiPort;
  auth: AuthService;
  store: Store;
  /** The unlocked vault, when there is one (secrets and TOTP need it). */
  vault?: Vault;
  sessions: SessionGate;
  hub: StreamHub;
}

/** The API's fastify instance with zod schemas. */
export type ZodApp = ReturnType<typeof zodApp>;

/** The instance typed by the zod provider. */
export function zodApp(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}

/** The actor recorded in the audit log for an API caller. */
export function actorOf(p: ApiPrincipal | undefined): string {
  return p ? `api:${p.username}` : 'api:anonymous';
}
