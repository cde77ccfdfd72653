import type { AppContext } from '../../context.ts';
import { registerAuth } from '../auth.ts';
import { assertAcceptsJson } from '../content.ts';
import { registerIdempotency } from '../idempotency.ts';
import { rateLimitHook } from '../rate-limit.ts';
import { appRoutes } from './apps.ts';
import { attachmentRoutes } from './attachments.ts';
import { auditRoutes } from './audit.ts';
import { conversationRoutes } from './conversations.ts';
import { deletionJobRoutes } from './deletion-jobs.ts';
import { departmentHoursRoutes } from './department-hours.ts';
import { departmentRoutes } from './departments.ts';
import { memberStateRoutes } from './member-state.ts';
import { memberRoutes } from './members.ts';
import { messageRoutes } from './messages.ts';
import { oidcSettingsRoutes } from './oidc.ts';
import { peopleRoutes } from './people.ts';
import { pinRoutes } from './pins.ts';
import { rateLimitRoutes } from './rate-limits.ts';
import { recycleBinRoutes } from './recycle-bin.ts';
import { searchRoutes } from './search.ts';
import { supportChatRoutes } from './support-chats.ts';
import { teamChatRoutes } from './team-chat.ts';
import type { Api } from './util.ts';
import { webhookRoutes } from './webhooks.ts';
import { widgetRoutes } from './widgets.ts';

/**
 * The native API under /v1: its hooks in the order they run (authentication, the rate limit of
 * the caller, idempotency keys, content negotiation, empty bodies as {}), then every resource's
 * routes.
 */
export async function registerNativeApi(app: Api, ctx: AppContext): Promise<void> {
  await app.register(
    async (v1) => {
      registerAuth(v1, ctx);
      v1.addHook(
        'onRequest',
        rateLimitHook(ctx, 'native', (req) =>
          req.principal ? { orgId: req.principal.orgId, key: req.principal.actor.id } : null,
        ),
      );
      registerIdempotency(v1, ctx);
      v1.addHook('onRequest', async (request) => assertAcceptsJson(request));
      // A POST/PUT/PATCH without a body is validated as an empty object, so a missing
      // required field is named ("body.text is required") instead of "body must be object".
      v1.addHook('preValidation', async (request) => {
        if (request.body === undefined && request.method !== 'GET' && request.method !== 'DELETE')
          request.body = {};
      });
      conversationRoutes(v1, ctx);
      memberRoutes(v1, ctx);
      messageRoutes(v1, ctx);
      memberStateRoutes(v1, ctx);
      pinRoutes(v1, ctx);
      peopleRoutes(v1, ctx);
      departmentRoutes(v1, ctx);
      supportChatRoutes(v1, ctx);
      recycleBinRoutes(v1, ctx);
      auditRoutes(v1, ctx);
      departmentHoursRoutes(v1, ctx);
      appRoutes(v1, ctx);
      rateLimitRoutes(v1, ctx);
      deletionJobRoutes(v1, ctx);
      webhookRoutes(v1, ctx);
      searchRoutes(v1, ctx);
      oidcSettingsRoutes(v1, ctx);
      widgetRoutes(v1, ctx);
      teamChatRoutes(v1, ctx);
      attachmentRoutes(v1, ctx);
    },
    { prefix: '/v1' },
  );
}
