/** /api/auth: login (lockout and TOTP from security/auth), refresh, logout, and who am I. */
import { z } from 'zod';
import { ACTIONS, can } from '../../security/permissions.js';
import type { ApiContext, ZodApp } from './context.js';
import { errorSchema, loginBody, meSchema, sessionSchema } from './schemas.js';
import { REFRESH_COOKIE } from './session.js';

/** Options of the login route. */
export interface LoginLimits {
  /** Login attempts per IP per minute (default 10). */
  loginPerMinute: number;
}

/** Registers the session routes. */
export function sessionRoutes(app: ZodApp, ctx: ApiContext, limits: LoginLimits): void {
  app.post(
    '/api/auth/login',
    {
      config: { public: true, rateLimit: { max: limits.loginPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Log in with username, password and (when enabled) a TOTP code; sets the session cookies',
        body: loginBody,
        response: { 200: sessionSchema, 400: errorSchema, 401: errorSchema, 423: errorSchema, 429: errorSchema },
      },
    },
    async (req, reply) => {
      const t = await ctx.auth.login({
        username: req.body.username,
        password: req.body.password,
        ...(req.body.totp !== undefined ? { totp: req.body.totp } : {}),
        ip: req.ip,
      });
      ctx.sessions.setCookies(reply, t);
      return {
        user: t.user,
        csrfToken: ctx.sessions.csrfToken(t.accessToken),
        accessExpiresAt: t.accessExpiresAt,
        ...(req.body.issueTokens ? { tokens: { accessToken: t.accessToken, refreshToken: t.refreshToken } } : {}),
      };
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Rotate the session: the refresh cookie (or body token) buys new tokens; reuse revokes the family',
        body: z.strictObject({ refreshToken: z.string().min(1).max(200).optional() }).optional(),
        response: { 200: sessionSchema, 400: errorSchema, 401: errorSchema },
      },
    },
    async (req, reply) => {
      const token = req.body?.refreshToken ?? req.cookies[REFRESH_COOKIE];
      if (!token) return reply.code(401).send({ error: 'unauthenticated', message: 'no refresh token' });
      const t = await ctx.auth.refresh(token);
      ctx.sessions.setCookies(reply, t);
      return {
        user: t.user,
        csrfToken: ctx.sessions.csrfToken(t.accessToken),
        accessExpiresAt: t.accessExpiresAt,
        ...(req.body?.refreshToken ? { tokens: { accessToken: t.accessToken, refreshToken: t.refreshToken } } : {}),
      };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'End the session family',
        response: { 200: z.object({ ok: z.boolean() }), 401: errorSchema, 403: errorSchema },
      },
    },
    async (req, reply) => {
      if (req.principal?.accessToken) await ctx.auth.logout(req.principal.accessToken);
      ctx.sessions.clearCookies(reply);
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The caller, its permissions and the CSRF token for state-changing requests',
        response: { 200: meSchema, 401: errorSchema },
      },
    },
    async (req) => {
      const p = req.principal;
      if (!p) throw new Error('unreachable: authenticated route without principal');
      return {
        user: { id: p.id, username: p.username, role: p.role, via: p.via },
        csrfToken: p.via === 'cookie' && p.accessToken ? ctx.sessions.csrfToken(p.accessToken) : null,
        permissions: ACTIONS.filter((a) => can(p.role, a)),
      };
    },
  );
}
