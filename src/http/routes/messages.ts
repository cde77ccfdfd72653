import type { AppContext } from '../../context.ts';
import { ValidationError } from '../../domain/errors.ts';
import { presentMessage } from '../../domain/presenters.ts';
import {
  deleteMessage,
  editMessage,
  getMessage,
  listMessages,
  sendMessage,
} from '../../services/messages.ts';
import { principalOf } from '../auth.ts';
import { presentPage } from '../present.ts';
import {
  MessageEditBody,
  MessageHistoryQuery,
  MessageIdParams,
  MessageSchema,
  MessageSendBody,
  MessageSendHeaders,
} from '../schemas/messages.ts';
import { ConversationIdParams, commonErrors, page, readErrors } from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

const tags = ['messages'];

export function messageRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.post(
    '/conversations/:id/messages',
    {
      config: { scope: 'messages:write' },
      schema: {
        tags,
        summary: 'Send a message',
        description:
          'Send client_id (or an Idempotency-Key header): a retry with the same value returns the first message with 200 instead of sending twice.',
        params: ConversationIdParams,
        headers: MessageSendHeaders,
        body: MessageSendBody,
        response: { 200: MessageSchema, 201: MessageSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const headerKey = req.headers['idempotency-key'];
      if (headerKey && req.body.client_id && headerKey !== req.body.client_id) {
        throw ValidationError.field(
          'body.client_id',
          'differs from the Idempotency-Key header',
          'idempotency_key_mismatch',
        );
      }
      if (req.body.metadata && JSON.stringify(req.body.metadata).length > 8192) {
        throw ValidationError.field(
          'body.metadata',
          'must be at most 8192 bytes as JSON',
          'metadata_too_large',
        );
      }
      const { message, created } = await sendMessage(ctx, principalOf(req), req.params.id, {
        text: req.body.text,
        type: req.body.type,
        metadata: req.body.metadata,
        replyToId: req.body.reply_to === undefined ? undefined : bodyId(req.body.reply_to, 'body.reply_to'),
        clientId: req.body.client_id ?? headerKey,
        attachmentIds: req.body.attachments?.map((a, i) => bodyId(a, `body.attachments.${i}`)),
      });
      return reply.code(created ? 201 : 200).send(presentMessage(message));
    },
  );

  r.get(
    '/conversations/:id/messages',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags,
        summary: 'Read history',
        description:
          'Newest first; scroll back with before=<id> or next_cursor. With after=<id>, oldest first from that message (catching up).',
        params: ConversationIdParams,
        querystring: MessageHistoryQuery,
        response: { 200: page(MessageSchema), ...readErrors },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.cursor && (q.before || q.after)) {
        throw ValidationError.field(
          'query.cursor',
          'cannot be combined with before or after',
          'invalid_cursor',
        );
      }
      const result = await listMessages(ctx, principalOf(req), req.params.id, {
        limit: q.limit ?? 50,
        before: q.before,
        after: q.after,
        cursor: q.cursor,
      });
      return presentPage(result, presentMessage);
    },
  );

  r.get(
    '/conversations/:id/messages/:messageId',
    {
      config: { scope: 'messages:read' },
      schema: {
        tags,
        summary: 'Get one message',
        params: MessageIdParams,
        response: { 200: MessageSchema, ...readErrors },
      },
    },
    async (req) =>
      presentMessage(await getMessage(ctx, principalOf(req), req.params.id, req.params.messageId)),
  );

  r.patch(
    '/conversations/:id/messages/:messageId',
    {
      config: { scope: 'messages:write' },
      schema: {
        tags,
        summary: 'Edit your message',
        params: MessageIdParams,
        body: MessageEditBody,
        response: { 200: MessageSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentMessage(
        await editMessage(ctx, principalOf(req), req.params.id, req.params.messageId, req.body.text),
      ),
  );

  r.delete(
    '/conversations/:id/messages/:messageId',
    {
      config: { scope: 'messages:write' },
      schema: {
        tags,
        summary: 'Delete a message for everyone',
        params: MessageIdParams,
        response: { 200: MessageSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentMessage(await deleteMessage(ctx, principalOf(req), req.params.id, req.params.messageId)),
  );
}
