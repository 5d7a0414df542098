/** Who is calling: session cookies (browser), session bearer tokens (scripts) or the CLI token; CSRF for cookies. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { AuthService, SessionTokens } from '../../security/auth.js';
import type { Role } from '../../store/repositories/auth.js';
import { CLI_TOKEN_PREFIX, cliTokenMatches } from './cli-token.js';

/** Session cookie (access token): HttpOnly, SameSite=Strict. */
export const ACCESS_COOKIE = 'tf_access';
/** Refresh cookie, sent only to /api/auth. */
export const REFRESH_COOKIE = 'tf_refresh';
/** Header carrying the CSRF token on state-changing requests authenticated by cookie. */
export const CSRF_HEADER = 'x-csrf-token';

/** The authenticated caller of an API request. */
export interface ApiPrincipal {
  id: string;
  username: string;
  role: Role;
  via: 'cookie' | 'bearer' | 'cli-token';
  /** The session's access token (cookie and bearer callers). */
  accessToken?: string;
}

/** Options of {@link SessionGate}. */
export interface SessionGateOptions {
  auth: AuthService;
  /** The CLI token the runtime wrote to run/api-token; absent: no CLI access. */
  cliToken?: string;
  /** Set the Secure flag on cookies (serve over HTTPS). */
  secureCookies: boolean;
}

/** Resolves principals, issues cookies and checks CSRF tokens. */
export class SessionGate {
  /** Per-process key of the CSRF tokens (a restart asks the dashboard to fetch a new one from /api/auth/me). */
  private readonly csrfKey = randomBytes(32);

  constructor(private readonly opts: SessionGateOptions) {}

  /** The caller of a request; undefined when it carries no credentials; throws AuthError for bad ones. */
  async principal(req: FastifyRequest): Promise<ApiPrincipal | undefined> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new AuthError('the Authorization header must be "Bearer <token>"', 'BAD_TOKEN');
      const token = m[1];
      if (token.startsWith(CLI_TOKEN_PREFIX)) {
        if (this.opts.cliToken && cliTokenMatches(this.opts.cliToken, token)) {
          return { id: 'cli', username: 'cli', role: 'admin', via: 'cli-token' };
        }
        throw new AuthError('invalid CLI token (the runtime writes a new one on every start)', 'BAD_TOKEN');
      }
      const p = await this.opts.auth.authenticate(token);
      return { id: p.id, username: p.username, role: p.role, via: 'bearer', accessToken: token };
    }
    const cookie = req.cookies[ACCESS_COOKIE];
    if (!cookie) return undefined;
    const p = await this.opts.auth.authenticate(cookie);
    return { id: p.id, username: p.username, role: p.role, via: 'cookie', accessToken: cookie };
  }

  /** The CSRF token bound to a session's access token. */
  csrfToken(accessToken: string): string {
    return createHmac('sha256', this.csrfKey).update(accessToken).digest('base64url');
  }

  /** True when the request carries the CSRF token of its cookie session. */
  csrfValid(req: FastifyRequest, accessToken: string): boolean {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string') return false;
    const want = Buffer.from(this.csrfToken(accessToken));
    const got = Buffer.from(sent);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /** Sets the session cookies after a login or refresh. */
  setCookies(reply: FastifyReply, t: SessionTokens): void {
    const base = { httpOnly: true, sameSite: 'strict' as const, secure: this.opts.secureCookies };
    reply.setCookie(ACCESS_COOKIE, t.accessToken, { ...base, path: '/', expires: new Date(t.accessExpiresAt) });
    reply.setCookie(REFRESH_COOKIE, t.refreshToken, {
      ...base,
      path: '/api/auth',
      expires: new Date(t.refreshExpiresAt),
    });
  }

  /** Clears the session cookies. */
  clearCookies(reply: FastifyReply): void {
    reply.clearCookie(ACCESS_COOKIE, { path: '/' });
    reply.clearCookie(REFRESH_COOKIE, { path: '/api/auth' });
  }
}
