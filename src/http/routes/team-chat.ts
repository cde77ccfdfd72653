import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { ValidationError } from '../../domain/errors.ts';
import { presentMessage } from '../../domain/presenters.ts';
import { unsubscribe } from '../../services/digest.ts';
import { getConversationPresence, getPresence, setMyPresence } from '../../services/presence.ts';
import { getReactions, setReaction } from '../../services/reactions.ts';
import { getReceipts, seenBy } from '../../services/receipts.ts';
import {
  getMyNotifySettings,
  getTeamChatSettings,
  updateMyNotifySettings,
  updateTeamChatSettings,
} from '../../services/team-chat-settings.ts';
import { followThread, getThread, listMyThreads, readThread } from '../../services/threads.ts';
import { principalOf } from '../auth.ts';
import {
  presentNotifySettings,
  presentPresence,
  presentReactions,
  presentReceipts,
  presentTeamChatSettings,
  presentThreadMe,
} from '../present/team-chat.ts';
import { MessageIdParams, MessageSchema } from '../schemas/messages.ts';
import {
  EmojiParams,
  FollowBody,
  NotifySettingsSchema,
  PresenceListSchema,
  PresenceQuery,
  PresenceSchema,
  ReactionsSchema,
  ReceiptsSchema,
  SeenBySchema,
  SetPresenceBody,
  TeamChatSettingsSchema,
  ThreadMeSchema,
  UnsubscribedSchema,
  UnsubscribeQuery,
} from '../schemas/team-chat.ts';
import {
  ConversationIdParams,
  Cursor,
  commonErrors,
  Limit,
  Nullable,
  pageArgs,
  readErrors,
} from '../schemas.ts';
import { type Api, typed } from './util.ts';

/** Mentions, reactions, read receipts, presence, threads, digest settings (docs/api.md#team-chat). */
export function teamChatRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const reactions = ['reactions'];
  const threads = ['threads'];
  const receipts = ['read receipts'];
  const presence = ['presence'];
  const settings = ['team chat settings'];

  for (const [method, on] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    r[method](
      '/conversations/:id/messages/:messageId/reactions/:emoji',
      {
        config: { scope: 'messages:write' },
        schema: {
          tags: reactions,
          summary: on ? 'Add your reaction' : 'Remove your reaction',
          description:
            "Idempotent. The emoji (URL-encoded in the path) is one Unicode RGI emoji or a :shortcode:. Answers the message's reactions.",
          params: EmojiParams,
          response: { 200: ReactionsSchema, ...commonErrors },
        },
      },
      async (req) =>
        presentReactions(
          await setReaction(ctx, principalOf(req), req.params.id, req.params.messageId, req.params.emoji, on),
        ),
    );
  }

  r.get(
    '/conversations/:id/messages/:messageId/reactions',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags: reactions,
        summary: "A message's reactions",
        params: MessageIdParams,
        response: { 200: ReactionsSchema, ...readErrors },
      },
    },
    async (req) =>
      presentReactions(await getReactions(ctx, principalOf(req), req.params.id, req.params.messageId)),
  );

  r.get(
    '/conversations/:id/messages/:messageId/thread',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags: threads,
        summary: 'A thread: its root, replies oldest first, your thread state',
        description: 'messageId may be the root or any reply of the thread.',
        params: MessageIdParams,
        querystring: Type.Object(
          { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            root: MessageSchema,
            items: Type.Array(MessageSchema),
            next_cursor: Nullable(Type.String()),
            me: ThreadMeSchema,
          }),
          ...readErrors,
        },
      },
    },
    async (req) => {
      const t = await getThread(ctx, principalOf(req), req.params.id, req.params.messageId, {
        ...pageArgs(req.query),
      });
      return {
        root: presentMessage(t.root),
        items: t.replies.map(presentMessage),
        next_cursor: t.nextCursor,
        me: presentThreadMe(t.me),
      };
    },
  );

  r.post(
    '/conversations/:id/messages/:messageId/thread/read',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags: threads,
        summary: 'Mark the thread read',
        params: MessageIdParams,
        response: { 200: ThreadMeSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentThreadMe(await readThread(ctx, principalOf(req), req.params.id, req.params.messageId)),
  );

  r.put(
    '/conversations/:id/messages/:messageId/thread/follow',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags: threads,
        summary: 'Follow or unfollow a thread',
        params: MessageIdParams,
        body: FollowBody,
        response: { 200: ThreadMeSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentThreadMe(
        await followThread(ctx, principalOf(req), req.params.id, req.params.messageId, req.body.following),
      ),
  );

  r.get(
    '/conversations/:id/threads',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags: threads,
        summary: 'The threads you follow in a conversation, latest reply first',
        params: ConversationIdParams,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({ root: MessageSchema, unread_count: Type.Integer(), following: Type.Boolean() }),
            ),
          }),
          ...readErrors,
        },
      },
    },
    async (req) => ({
      items: (await listMyThreads(ctx, principalOf(req), req.params.id)).map((t) => ({
        root: presentMessage(t.root),
        unread_count: t.unread,
        following: t.following,
      })),
    }),
  );

  r.get(
    '/conversations/:id/receipts',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags: receipts,
        summary: "The other members' read positions",
        params: ConversationIdParams,
        response: { 200: ReceiptsSchema, ...readErrors },
      },
    },
    async (req) => presentReceipts(await getReceipts(ctx, principalOf(req), req.params.id)),
  );

  r.get(
    '/conversations/:id/messages/:messageId/seen-by',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags: receipts,
        summary: 'Who has read this message',
        params: MessageIdParams,
        response: { 200: SeenBySchema, ...readErrors },
      },
    },
    async (req) => {
      const s = await seenBy(ctx, principalOf(req), req.params.id, req.params.messageId);
      return { message_id: req.params.messageId, enabled: s.enabled, seen_by: s.actorIds };
    },
  );

  r.get(
    '/presence',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags: presence,
        summary: 'The presence of people you share a conversation with',
        description: 'Ids of people you share no conversation with are left out of the answer.',
        querystring: PresenceQuery,
        response: { 200: PresenceListSchema, ...readErrors },
      },
    },
    async (req) => {
      const ids = [...new Set(req.query.ids.split(','))];
      if (ids.some((id) => !/^[1-9][0-9]{0,18}$/.test(id) || BigInt(id) > 2n ** 63n - 1n))
        throw ValidationError.field('query.ids', 'must be Parley ids', 'invalid_id');
      return { items: (await getPresence(ctx, principalOf(req), ids)).map(presentPresence) };
    },
  );

  r.get(
    '/conversations/:id/presence',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags: presence,
        summary: "The presence of a conversation's members",
        params: ConversationIdParams,
        response: { 200: PresenceListSchema, ...readErrors },
      },
    },
    async (req) => ({
      items: (await getConversationPresence(ctx, principalOf(req), req.params.id)).map(presentPresence),
    }),
  );

  r.put(
    '/presence/me',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags: presence,
        summary: 'Set yourself away, or back online',
        description:
          'away lasts until you set online (at most 12 hours); with no stream socket you are offline anyway.',
        body: SetPresenceBody,
        response: { 200: PresenceSchema, ...commonErrors },
      },
    },
    async (req) => presentPresence(await setMyPresence(ctx, principalOf(req), req.body.status)),
  );

  r.get(
    '/team-chat/settings',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags: settings,
        summary: "The org's team-chat settings",
        response: { 200: TeamChatSettingsSchema, ...readErrors },
      },
    },
    async (req) => presentTeamChatSettings(await getTeamChatSettings(ctx, principalOf(req))),
  );

  r.patch(
    '/team-chat/settings',
    {
      config: { scope: 'admin' },
      schema: {
        tags: settings,
        summary: "Change the org's team-chat settings (owners and admins)",
        body: Type.Partial(TeamChatSettingsSchema, { additionalProperties: false, minProperties: 1 }),
        response: { 200: TeamChatSettingsSchema, ...commonErrors },
      },
    },
    async (req) => {
      const b = req.body;
      return presentTeamChatSettings(
        await updateTeamChatSettings(ctx, principalOf(req), {
          mentionAll: b.mention_all,
          readReceipts: b.read_receipts,
          readReceiptsMaxMembers: b.read_receipts_max_members,
          digestAfterMinutes: b.digest_after_minutes,
          publicUrl: b.public_url,
        }),
      );
    },
  );

  r.get(
    '/me/notifications',
    {
      config: { scope: 'conversations:read' },
      schema: {
        tags: settings,
        summary: 'Your digest mail setting',
        response: { 200: NotifySettingsSchema, ...readErrors },
      },
    },
    async (req) => presentNotifySettings(await getMyNotifySettings(ctx, principalOf(req))),
  );

  r.patch(
    '/me/notifications',
    {
      config: { scope: 'conversations:write' },
      schema: {
        tags: settings,
        summary: 'Change your digest mail setting',
        body: Type.Object(
          { digest_minutes: NotifySettingsSchema.properties.digest_minutes },
          {
            additionalProperties: false,
          },
        ),
        response: { 200: NotifySettingsSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentNotifySettings(await updateMyNotifySettings(ctx, principalOf(req), req.body.digest_minutes)),
  );

  for (const method of ['get', 'post'] as const) {
    r[method](
      '/notifications/unsubscribe',
      {
        config: { public: true },
        schema: {
          tags: settings,
          summary: 'Stop digest mail (the link in the mail; no sign-in)',
          description:
            'The signed token from the mail is the credential. Idempotent. POST serves one-click unsubscribe.',
          querystring: UnsubscribeQuery,
          response: { 200: UnsubscribedSchema, ...readErrors },
        },
      },
      async (req) => {
        await unsubscribe(ctx, req.query.token);
        return { unsubscribed: true };
      },
    );
  }
}
