import type { AppContext } from '../../context.ts';
import {
  createConversation,
  getConversation,
  listConversations,
  renameConversation,
} from '../../services/conversations.ts';
import { principalOf } from '../auth.ts';
import { presentConversation } from '../present/conversations.ts';
import { presentPage } from '../present.ts';
import {
  ConversationCreateBody,
  ConversationListQuery,
  ConversationRenameBody,
  ConversationSchema,
} from '../schemas/conversations.ts';
import {
  ConversationIdParams,
  commonErrors,
  IdempotencyHeaders,
  page,
  pageArgs,
  readErrors,
} from '../schemas.ts';
import { type Api, bodyId, parseTime, typed } from './util.ts';

const tags = ['conversations'];

export function conversationRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.post(
    '/conversations',
    {
      config: { scope: 'conversations:write', idempotent: true },
      schema: {
        tags,
        headers: IdempotencyHeaders,
        summary: 'Create a direct chat, group or channel',
        description:
          'A direct chat names exactly one other actor in member_ids; asking for a direct chat that exists returns it with 200.',
        body: ConversationCreateBody,
        response: { 200: ConversationSchema, 201: ConversationSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { view, created } = await createConversation(ctx, p, {
        kind: req.body.kind,
        title: req.body.title,
        memberIds: req.body.member_ids.map((v, i) => bodyId(v, `body.member_ids.${i}`)),
      });
      return reply.code(created ? 201 : 200).send(presentConversation(view, ctx.clock.now()));
    },
  );

  r.get(
    '/conversations',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags,
        summary: "List the caller's conversations, most recent activity first",
        querystring: ConversationListQuery,
        response: { 200: page(ConversationSchema), ...readErrors },
      },
    },
    async (req) => {
      const q = req.query;
      const result = await listConversations(ctx, principalOf(req), {
        kind: q.kind,
        modifiedBefore: parseTime(q.modified_before, 'query.modified_before'),
        modifiedAfter: parseTime(q.modified_after, 'query.modified_after'),
        drafts: q.drafts,
        muted: q.muted,
        hidden: q.hidden,
        pinned: q.pinned,
        hasMentions: q.has_mentions,
        ...pageArgs(q),
      });
      const now = ctx.clock.now();
      return presentPage(result, (v) => presentConversation(v, now));
    },
  );

  r.get(
    '/conversations/:id',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags,
        summary: 'Get a conversation',
        params: ConversationIdParams,
        response: { 200: ConversationSchema, ...readErrors },
      },
    },
    async (req) =>
      presentConversation(await getConversation(ctx, principalOf(req), req.params.id), ctx.clock.now()),
  );

  r.patch(
    '/conversations/:id',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags,
        summary: 'Change the title of a group or channel',
        params: ConversationIdParams,
        body: ConversationRenameBody,
        response: { 200: ConversationSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentConversation(
        await renameConversation(ctx, principalOf(req), req.params.id, req.body.title),
        ctx.clock.now(),
      ),
  );
}
