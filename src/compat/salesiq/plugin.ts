import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { principalOf, registerAuth } from '../../http/auth.ts';
import { assertAcceptsJson, dialectNotFoundHandler } from '../../http/content.ts';
import { rateLimitHook } from '../../http/rate-limit.ts';
import { getOrgBySlug } from '../../services/orgs.ts';
import { renderSalesiqError } from './errors.ts';
import { deleteChatsRoute } from './routes/delete-chats.ts';
import { pickUpChatRoute } from './routes/pick-up-chat.ts';

export interface SalesiqOptions {
  ctx: AppContext;
  /** The methods the app serves at a path ([] when none), for 405 vs 404. */
  allowedMethods(url: string): string[];
}

/**
 * The caller's portal: `screen_name` is the org's slug, and it must be the org of the token.
 * An unknown screen name and another org's both answer the vendor's "Invalid portal" (404).
 */
async function assertPortal(ctx: AppContext, request: FastifyRequest): Promise<void> {
  const screenName = (request.params as { screen_name?: unknown } | undefined)?.screen_name;
  if (typeof screenName !== 'string') return;
  const org = await getOrgBySlug(ctx, screenName);
  if (!org || org.id !== principalOf(request).orgId)
    throw new NotFoundError('portal_not_found', 'Invalid portal or wrong screen name.');
}

/**
 * The live-chat dialect under /compat/salesiq (registered with that prefix, not wrapped in
 * fastify-plugin, so everything set here stays inside it): `Authorization: Zoho-oauthtoken
 * <token>` or `Bearer <token>` with the vendor's scope names mapped onto native scopes, the
 * portal check, and the vendor's error body for every failure, unknown paths and wrong methods
 * included. Bodies go through the app's JSON parser, which keeps large integer ids exact.
 */
export async function salesiqPlugin(app: FastifyInstance, opts: SalesiqOptions): Promise<void> {
  const { ctx } = opts;
  registerAuth(app, ctx);
  app.addHook('onRequest', async (request) => assertPortal(ctx, request));
  app.addHook('onRequest', async (request) => assertAcceptsJson(request));
  app.addHook(
    'onRequest',
    rateLimitHook(ctx, 'salesiq', (req) =>
      req.principal ? { orgId: req.principal.orgId, key: req.principal.actor.id } : null,
    ),
  );
  app.setErrorHandler(renderSalesiqError);
  app.setNotFoundHandler(
    dialectNotFoundHandler(opts.allowedMethods, renderSalesiqError, {
      notFound: 'Invalid URL',
      methodNotAllowed: 'Invalid Request Type.',
    }),
  );
  pickUpChatRoute(app, ctx);
  deleteChatsRoute(app, ctx);
}
