import type { AppContext } from '../../context.ts';
import {
  deleteConversations,
  listRecycleBin,
  purgeConversations,
  restoreConversations,
} from '../../services/recycle-bin.ts';
import { principalOf } from '../auth.ts';
import { presentBinItem, presentBulk } from '../present/support.ts';
import { presentPage } from '../present.ts';
import {
  BinItemSchema,
  BulkBody,
  BulkResult,
  DeleteConversationsBody,
  PageQuery,
} from '../schemas/support.ts';
import { commonErrors, page, pageArgs, readErrors } from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

const bulkIds = (ids: (string | number)[]) => ids.map((v, i) => bodyId(v, `body.ids.${i}`));

/** The native routes of the recycle bin: delete closed support chats, list, restore, purge (under /v1). */
export function recycleBinRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const tags = ['recycle bin'];

  r.post(
    '/conversations/delete',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags,
        summary: 'Move closed support chats to the recycle bin',
        description:
          'Per id: closed (ended or missed) support chats you may delete are moved; every other id is refused with a reason code (chat_not_closed, not_a_support_chat, conversation_not_found, ...). channel keeps only chats that came from that channel.',
        body: DeleteConversationsBody,
        response: { 200: BulkResult, ...commonErrors },
      },
    },
    async (req) =>
      presentBulk(
        await deleteConversations(ctx, principalOf(req), {
          ids: bulkIds(req.body.ids),
          channel: req.body.channel,
        }),
      ),
  );

  r.get(
    '/recycle-bin',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags,
        summary: 'The recycle bin, most recently deleted first (org owners and admins)',
        querystring: PageQuery,
        response: { 200: page(BinItemSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listRecycleBin(ctx, principalOf(req), {
        ...pageArgs(req.query),
      });
      return presentPage(result, presentBinItem);
    },
  );

  r.post(
    '/recycle-bin/restore',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags,
        summary: 'Restore conversations from the recycle bin (org owners and admins)',
        body: BulkBody,
        response: { 200: BulkResult, ...commonErrors },
      },
    },
    async (req) => presentBulk(await restoreConversations(ctx, principalOf(req), bulkIds(req.body.ids))),
  );

  r.post(
    '/recycle-bin/purge',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags,
        summary: 'Purge conversations from the recycle bin for good, now (org owners and admins)',
        description: 'Removes their messages, members, pin and events; only the audit records remain.',
        body: BulkBody,
        response: { 200: BulkResult, ...commonErrors },
      },
    },
    async (req) => presentBulk(await purgeConversations(ctx, principalOf(req), bulkIds(req.body.ids))),
  );
}
