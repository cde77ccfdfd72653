import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { ForbiddenError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import { authenticateSession, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from '../services/oidc.ts';

/**
 * Console sessions over HTTP (services/oidc.ts): the cookies, and the CSRF rule for requests
 * authenticated by the session cookie instead of a bearer token.
 *
 * CSRF: a synchronizer token delivered as a double-submit cookie. Each session has a random
 * CSRF token, stored with the session and also set in the `parley_csrf` cookie (readable by the
 * console's script, SameSite=Lax). Every cookie-authenticated request other than GET, HEAD and
 * OPTIONS must send it back in `X-CSRF-Token`; it is compared, in constant time, with the
 * session's own (not with the cookie), so neither a forged cookie nor a cross-site form can
 * write. A cookie-authenticated WebSocket upgrade must come from this server's own origin (the
 * `Origin` header), since a browser sends cookies on cross-site upgrades. Bearer tokens are not
 * affected: a request with `Authorization` is authenticated by its token alone.
 */

/** One cookie's value from the Cookie header, or undefined. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() !== name) continue;
    const value = part.slice(i + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether the request's Origin is this server's own (scheme and host as the request reached us). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return false;
  return origin === `${request.protocol}://${request.host}`;
}

/**
 * The principal of a request that has no Authorization header but a session cookie, after the
 * CSRF check (`csrf_token_invalid` 403); undefined when there is no session cookie.
 */
export async function sessionPrincipal(
  ctx: AppContext,
  request: FastifyRequest,
  opts: { upgrade?: boolean } = {},
): Promise<Principal | undefined> {
  if (request.headers.authorization) return undefined;
  const sessionId = cookieOf(request, SESSION_COOKIE);
  if (!sessionId) return undefined;
  const { principal, csrfToken } = await authenticateSession(ctx, sessionId);
  if (opts.upgrade) {
    if (!sameOrigin(request))
      throw new ForbiddenError('cross_origin', 'A console session streams only from this server’s own pages');
  } else if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameToken(sent, csrfToken))
      throw new ForbiddenError(
        'csrf_token_invalid',
        'A write with the session cookie must send the session’s CSRF token in X-CSRF-Token (the parley_csrf cookie)',
      );
  }
  return principal;
}

function cookie(
  name: string,
  value: string,
  opts: { httpOnly: boolean; secure: boolean; maxAgeSec: number },
) {
  return [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    `Max-Age=${opts.maxAgeSec}`,
    'SameSite=Lax',
    ...(opts.httpOnly ? ['HttpOnly'] : []),
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}

/** Sets the session cookie (httpOnly) and the CSRF cookie (readable by the console). Secure over https. */
export function setSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  s: { sessionId: string; csrfToken: string; maxAgeSec: number },
): void {
  const secure = request.protocol === 'https';
  reply.header('set-cookie', [
    cookie(SESSION_COOKIE, s.sessionId, { httpOnly: true, secure, maxAgeSec: s.maxAgeSec }),
    cookie(CSRF_COOKIE, s.csrfToken, { httpOnly: false, secure, maxAgeSec: s.maxAgeSec }),
  ]);
}

export function clearSessionCookies(request: FastifyRequest, reply: FastifyReply): void {
  const secure = request.protocol === 'https';
  reply.header('set-cookie', [
    cookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAgeSec: 0 }),
    cookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAgeSec: 0 }),
  ]);
}
