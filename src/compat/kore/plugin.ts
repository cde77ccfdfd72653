import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { assertAcceptsJson, dialectNotFoundHandler } from '../../http/content.ts';
import { rateLimitHook } from '../../http/rate-limit.ts';
import { getOrgBySlug } from '../../services/orgs.ts';
import type { DialectOptions } from '../cliq/plugin.ts';
import { authenticateApp, koreAppOf } from './auth.ts';
import { renderKoreError } from './errors.ts';
import { koreRoutes } from './routes.ts';

/**
 * The bot: `botId` is the org's slug and must be the org of the app. An unknown bot and another
 * org's both answer 404 "Bot not found", so the answer never confirms that another org exists.
 */
async function assertBot(ctx: AppContext, request: FastifyRequest): Promise<void> {
  const botId = (request.params as { botId?: unknown } | undefined)?.botId;
  if (typeof botId !== 'string') return;
  const org = await getOrgBySlug(ctx, botId);
  if (!org || org.id !== koreAppOf(request).orgId) throw new NotFoundError('bot_not_found', 'Bot not found');
}

/**
 * The bot platform dialect under /compat/kore (registered with that prefix, not wrapped in
 * fastify-plugin): a JWT in the `auth` header (HS256, the app's secret, claim `appId`), the bot
 * check, its own rate-limit group (`kore`, per app), and the vendor's `{"errors": [...]}` body for
 * every failure, unknown paths and wrong methods included.
 */
export async function korePlugin(app: FastifyInstance, opts: DialectOptions): Promise<void> {
  const { ctx } = opts;
  app.decorateRequest('koreApp', null);
  app.addHook('onRequest', async (request) => authenticateApp(ctx, request));
  app.addHook(
    'onRequest',
    rateLimitHook(ctx, 'kore', (req) =>
      req.koreApp ? { orgId: req.koreApp.orgId, key: `app:${req.koreApp.appId}` } : null,
    ),
  );
  app.addHook('onRequest', async (request) => assertAcceptsJson(request));
  app.addHook('preValidation', async (request) => assertBot(ctx, request));
  app.setErrorHandler(renderKoreError);
  app.setNotFoundHandler(
    dialectNotFoundHandler(opts.allowedMethods, renderKoreError, {
      notFound: 'Resource not found',
      methodNotAllowed: 'Method not allowed',
    }),
  );
  koreRoutes(app, ctx);
}
