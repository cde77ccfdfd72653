// Seed 001_959c4c532cfae43c.txt (live-chat suite, "Pick up Chat"):
// POST /api/v2/{screen_name}/conversations/{conversation_id}/pickup, scope SalesIQ.conversations.UPDATE.

import { vendorScope } from '../../../auth/scopes.ts';
import type { AppContext } from '../../../context.ts';
import { principalOf } from '../../../http/auth.ts';
import { type Api, typed } from '../../../http/routes/util.ts';
import { pickUpChat } from '../../../services/support.ts';
import { vendorUrl } from '../errors.ts';
import { envelope, presentConversation } from '../present.ts';
import { ConversationParams, ErrorResponse, PickupResponse } from '../schemas.ts';

/** Pick up Chat: the race-free pickup service, presented as the vendor's conversation object. */
export function pickUpChatRoute(app: Api, ctx: AppContext): void {
  typed(app).post(
    '/api/v2/:screen_name/conversations/:conversation_id/pickup',
    {
      config: vendorScope('SalesIQ.conversations.UPDATE'),
      schema: {
        tags: ['compat: salesiq'],
        summary: 'Pick up Chat: pick up an incoming (waiting) chat',
        description:
          'Exactly one of concurrent pickups wins; the others get 409 (code 1409, reason chat_not_waiting) naming the owner.',
        params: ConversationParams,
        response: { 200: PickupResponse, '4xx': ErrorResponse },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const view = await pickUpChat(ctx, p, req.params.conversation_id);
      return envelope(vendorUrl(req), 'conversations', presentConversation(view, p.orgId));
    },
  );
}
