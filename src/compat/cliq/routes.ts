// Seed 003_1db27f8c093df582.txt (team chat, Chats API): every endpoint of the page, at its
// documented path below /compat/cliq. Each route translates, calls a service, presents.
import Type from 'typebox';
import { vendorScope } from '../../auth/scopes.ts';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { principalOf } from '../../http/auth.ts';
import { type Api, typed } from '../../http/routes/util.ts';
import { listConversations, peersOf } from '../../services/conversations.ts';
import { muteConversation, unmuteConversation } from '../../services/member-state.ts';
import { leaveConversation, listMembers } from '../../services/members.ts';
import { getMessage } from '../../services/messages.ts';
import { getPinnedMessage, pinMessage, unpinMessage } from '../../services/pins.ts';
import { presentDirectChat, presentSticky } from './present.ts';
import { parseCliqFields, parseCliqTime, parseMsguid } from './translate.ts';

const ChatParams = Type.Object({
  CHAT_ID: Type.String({
    pattern: '^[0-9]{1,19}$',
    format: 'parley-id',
    description: 'The chat id (a Parley conversation id)',
  }),
});
const scope = vendorScope;
const tags = ['compat: cliq'];

/** The vendor's error body, with the catalogue's status (errors.ts). */
const CliqError = Type.Object(
  { message: Type.String({ description: "The catalogue's fixed message for the status" }) },
  { description: "An error (Parley's own code is in the X-Parley-Error-Code header)" },
);
const errors = Object.fromEntries(
  [400, 401, 403, 404, 406, 429, 500].map((status) => [status, CliqError]),
) as Record<400 | 401 | 403 | 404 | 406 | 429 | 500, typeof CliqError>;
/** 204: no body (`type: null` is how @fastify/swagger writes a response without content). */
const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'Done (no body)' });
const Time = Type.String({ description: 'ISO 8601 with an offset' });
const DirectChat = Type.Object({
  name: Type.String(),
  creation_time: Time,
  creator_id: Type.String(),
  last_modified_time: Time,
  removed: Type.Boolean(),
  recipients_summary: Type.Array(Type.Object({ user_id: Type.String(), name: Type.String() })),
  chat_type: Type.Literal('dm'),
  chat_id: Type.String(),
  last_message_info: Type.Optional(
    Type.Object({
      sender_id: Type.String(),
      message_type: Type.String(),
      time: Time,
      text: Type.String(),
      sender_name: Type.String(),
    }),
  ),
  pinned: Type.Boolean(),
  participant_count: Type.Integer(),
});
const Sticky = Type.Object({
  expiry_time: Type.Integer({ description: 'Epoch ms, or -1 for never' }),
  creator: Type.Object({ name: Type.String(), id: Type.String() }),
  message: Type.Object({
    msg: Type.String(),
    sender: Type.String(),
    lmsgtime: Type.String(),
    msguid: Type.String(),
    time: Type.String(),
    dname: Type.String(),
  }),
  created_time: Type.Integer(),
  last_modified_time: Type.Integer(),
  chat_id: Type.String(),
});

export function cliqRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  // Retrieve all direct chats.
  r.get(
    '/api/v2/chats',
    {
      config: scope('ZohoCliq.Chats.READ'),
      schema: {
        tags,
        summary: 'Retrieve all direct chats',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          modified_before: Type.Optional(Type.String({ maxLength: 40 })),
          modified_after: Type.Optional(Type.String({ maxLength: 40 })),
          drafts: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Type.Object({ chats: Type.Array(DirectChat) }), ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const q = req.query;
      const { items } = await listConversations(ctx, p, {
        kind: 'direct',
        modifiedBefore: parseCliqTime(q.modified_before, 'modified_before'),
        modifiedAfter: parseCliqTime(q.modified_after, 'modified_after'),
        drafts: q.drafts === true ? true : undefined,
        limit: q.limit ?? 100,
      });
      const peers = await peersOf(
        ctx,
        p,
        items.map((v) => v.conversation.id),
      );
      return { chats: items.map((v) => presentDirectChat(v, peers.get(v.conversation.id) ?? [])) };
    },
  );

  // Retrieve the members of a chat.
  r.get(
    '/api/v2/chats/:CHAT_ID/members',
    {
      config: scope('ZohoCliq.Chats.READ'),
      schema: {
        tags,
        summary: 'Retrieve the members of a chat',
        params: ChatParams,
        querystring: Type.Object({ fields: Type.Optional(Type.String({ maxLength: 100 })) }),
        response: {
          200: Type.Object({
            members: Type.Array(
              Type.Record(Type.String(), Type.String(), {
                description: 'The fields asked for (user_id, email_id, name)',
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const fields = parseCliqFields(req.query.fields);
      const p = principalOf(req);
      const members: Record<string, string>[] = [];
      let cursor: string | undefined;
      do {
        const page = await listMembers(ctx, p, req.params.CHAT_ID, { limit: 100, cursor });
        for (const m of page.items) {
          const full = { user_id: m.member.actorId, email_id: m.email ?? '', name: m.name };
          members.push(Object.fromEntries(fields.map((f) => [f, full[f]])));
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return { members };
    },
  );

  // Mute a chat / Unmute a chat: 204 as the page says.
  r.post(
    '/api/v2/chats/:CHAT_ID/mute',
    {
      config: scope('ZohoCliq.Chats.UPDATE'),
      schema: { tags, summary: 'Mute a chat', params: ChatParams, response: { 204: NoContent, ...errors } },
    },
    async (req, reply) => {
      await muteConversation(ctx, principalOf(req), req.params.CHAT_ID);
      return reply.code(204).send();
    },
  );
  r.post(
    '/api/v2/chats/:CHAT_ID/unmute',
    {
      config: scope('ZohoCliq.Chats.UPDATE'),
      schema: { tags, summary: 'Unmute a chat', params: ChatParams, response: { 204: NoContent, ...errors } },
    },
    async (req, reply) => {
      await unmuteConversation(ctx, principalOf(req), req.params.CHAT_ID);
      return reply.code(204).send();
    },
  );

  // Pin a message.
  r.post(
    '/api/v2/chats/:CHAT_ID/stickymessage',
    {
      config: scope('ZohoCliq.Chats.CREATE'),
      schema: {
        tags,
        summary: 'Pin a message',
        params: ChatParams,
        body: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 64 }),
          expiry_time: Type.Optional(Type.Integer({ minimum: -1, maximum: 253_402_300_799_999 })),
          notify: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Type.Object({ data: Sticky }), ...errors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const { messageId, time } = parseMsguid(req.body.id);
      if (time !== null) {
        const m = await getMessage(ctx, p, req.params.CHAT_ID, messageId);
        if (m.createdAt !== time)
          throw new NotFoundError('message_not_found', `Message ${req.body.id} not found`);
      }
      const view = await pinMessage(ctx, p, req.params.CHAT_ID, {
        messageId,
        expiryTime: req.body.expiry_time,
        notify: req.body.notify,
      });
      return { data: presentSticky(view) };
    },
  );

  // Retrieve a pinned message.
  r.get(
    '/api/v2/chats/:CHAT_ID/stickymessage',
    {
      config: scope('ZohoCliq.Chats.READ'),
      schema: {
        tags,
        summary: 'Retrieve a pinned message',
        params: ChatParams,
        response: { 200: Type.Object({ type: Type.Literal('stickymessage'), data: Sticky }), ...errors },
      },
    },
    async (req) => ({
      type: 'stickymessage' as const,
      data: presentSticky(await getPinnedMessage(ctx, principalOf(req), req.params.CHAT_ID)),
    }),
  );

  // Unpin a message: 204.
  r.delete(
    '/api/v2/chats/:CHAT_ID/stickymessage',
    {
      config: scope('ZohoCliq.Chats.DELETE'),
      schema: {
        tags,
        summary: 'Unpin a message',
        params: ChatParams,
        response: { 204: NoContent, ...errors },
      },
    },
    async (req, reply) => {
      await unpinMessage(ctx, principalOf(req), req.params.CHAT_ID);
      return reply.code(204).send();
    },
  );

  // Leave a group chat: 204.
  r.post(
    '/api/v2/chats/:CHAT_ID/leave',
    {
      config: scope('ZohoCliq.Chats.UPDATE'),
      schema: {
        tags,
        summary: 'Leave a group chat',
        params: ChatParams,
        response: { 204: NoContent, ...errors },
      },
    },
    async (req, reply) => {
      await leaveConversation(ctx, principalOf(req), req.params.CHAT_ID);
      return reply.code(204).send();
    },
  );
}
