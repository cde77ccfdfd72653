import type { FastifyInstance, FastifyRequest } from 'fastify';
import { extractBearer } from '../auth/bearer.ts';
import type { AppContext } from '../context.ts';
import { ForbiddenError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import type { Scope } from '../domain/scopes.ts';
import { authenticateToken } from '../services/tokens.ts';
import { bindRequestLog } from './request-id.ts';
import { sessionPrincipal } from './session.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The token scope this route needs; every authenticated route must name one. */
    scope?: Scope;
    /** Routes that need no credentials (health, docs). */
    public?: boolean;
    /** Routes any valid token may call whatever its scopes (`GET /v1/me`). */
    anyScope?: boolean;
  }
}

/** The authenticated principal of a request that passed the auth hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route reached without authentication');
  return request.principal;
}

/**
 * Authenticates every route of `app` with a bearer token and checks the scope named in the
 * route's config. A route without `config.scope` (and not explicitly `public` or `anyScope`)
 * fails at start-up, so no route can be added without a scope check.
 */
export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { scope?: Scope; public?: boolean; anyScope?: boolean };
    if (!config.scope && !config.public && !config.anyScope)
      throw new Error(`route ${route.method} ${route.url} declares no scope`);
  });
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config as { scope?: Scope; public?: boolean };
    if (config.public) return;
    // A bearer token; or, without one, the console's session cookie (CSRF-checked: session.ts).
    const principal =
      (await sessionPrincipal(ctx, request)) ??
      (await authenticateToken(ctx, extractBearer(request.headers.authorization)));
    request.principal = principal;
    bindRequestLog(request);
    if (config.scope && !principal.scopes.has(config.scope)) {
      throw new ForbiddenError('insufficient_scope', `This token lacks the ${config.scope} scope`, {
        required: config.scope,
      });
    }
  });
}
