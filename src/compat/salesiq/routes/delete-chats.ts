// Seed 000_dfc3c976cb58e514.txt (live-chat suite, "Delete Chat"):
// DELETE /api/v2/{screen_name}/conversations with {"ids": [...]}, header X-SIQ-Channel, scope Salesiq.conversations.Delete.

import { vendorScope } from '../../../auth/scopes.ts';
import type { AppContext } from '../../../context.ts';
import { principalOf } from '../../../http/auth.ts';
import { type Api, typed } from '../../../http/routes/util.ts';
import { deleteConversations } from '../../../services/recycle-bin.ts';
import { vendorUrl } from '../errors.ts';
import { envelope, presentDeleteResult } from '../present.ts';
import { ChannelHeaders, DeleteBody, DeleteResponse, ErrorResponse, ScreenNameParams } from '../schemas.ts';
import { toDeleteInput } from '../translate.ts';

/** Delete Chat: translate the ids and channel, move the chats to the recycle bin, present per-id results. */
export function deleteChatsRoute(app: Api, ctx: AppContext): void {
  typed(app).delete(
    '/api/v2/:screen_name/conversations',
    {
      config: vendorScope('Salesiq.conversations.Delete'),
      schema: {
        tags: ['compat: salesiq'],
        summary: 'Delete Chat: move closed chats to the recycle bin',
        description:
          'Closed (ended or missed) chats go to the recycle bin for the org retention (90 days by default), then are purged. Every other id is listed in failed with a reason.',
        params: ScreenNameParams,
        headers: ChannelHeaders,
        body: DeleteBody,
        response: { 200: DeleteResponse, '4xx': ErrorResponse },
      },
    },
    async (req) => {
      const input = toDeleteInput(req.body, req.headers['x-siq-channel']);
      const outcomes = await deleteConversations(ctx, principalOf(req), input);
      return envelope(vendorUrl(req), 'conversations', presentDeleteResult(outcomes));
    },
  );
}
