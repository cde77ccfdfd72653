import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { registerAuth } from '../../http/auth.ts';
import { assertAcceptsJson, dialectNotFoundHandler } from '../../http/content.ts';
import { rateLimitHook } from '../../http/rate-limit.ts';
import { renderCliqError } from './errors.ts';
import { cliqRoutes } from './routes.ts';

export interface DialectOptions {
  ctx: AppContext;
  /** The methods the app serves at a path ([] when none), for 405 vs 404. */
  allowedMethods(url: string): string[];
}

/**
 * The team-chat dialect under /compat/cliq (registered with that prefix, not wrapped in
 * fastify-plugin, so everything here stays inside it): bearer or Zoho-oauthtoken auth with
 * the vendor's scopes, the vendor's rate-limit policy (20 a minute per user, then a 10-minute
 * lock, per org overridable), and the vendor's `{"message"}` errors for every failure,
 * unknown paths and wrong methods included.
 */
export async function cliqPlugin(app: FastifyInstance, opts: DialectOptions): Promise<void> {
  const { ctx } = opts;
  registerAuth(app, ctx);
  app.addHook('onRequest', async (request) => assertAcceptsJson(request));
  app.addHook(
    'onRequest',
    rateLimitHook(ctx, 'cliq', (req) =>
      req.principal ? { orgId: req.principal.orgId, key: req.principal.actor.id } : null,
    ),
  );
  app.setErrorHandler(renderCliqError);
  // The response schemas describe the vendor's bodies in OpenAPI (and are checked by the API
  // tests); they do not shape what is sent: the presenters do, as before.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setNotFoundHandler(
    dialectNotFoundHandler(opts.allowedMethods, renderCliqError, {
      notFound: 'No such route',
      methodNotAllowed: 'Method not allowed',
    }),
  );
  cliqRoutes(app, ctx);
}
