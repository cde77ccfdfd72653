import Type from 'typebox';
import { Cursor, IdInput, IdString, Limit, Nullable, Timestamp } from '../schemas.ts';
import { AttachmentRefSchema } from './attachments.ts';

/** Messages: their JSON shape (presented by domain/presenters.ts presentMessage), text and path params. */

export const Text = Type.String({ minLength: 1, maxLength: 10_000 });

export const MessageIdParams = Type.Object({ id: IdString, messageId: IdString });

export const MessageSchema = Type.Object({
  id: IdString,
  conversation_id: IdString,
  sender_id: IdString,
  type: Type.String(),
  text: Nullable(Type.String()),
  metadata: Nullable(Type.Record(Type.String(), Type.Unknown())),
  reply_to_id: Nullable(IdString),
  client_id: Nullable(Type.String()),
  created_at: Timestamp,
  edited_at: Nullable(Timestamp),
  deleted: Type.Boolean(),
  deleted_at: Nullable(Timestamp),
  // Team chat (docs/api.md#mentions, #reactions, #threads).
  mentions: Type.Array(IdString, { description: 'Members mentioned with <@id>' }),
  mentions_all: Type.Boolean({ description: 'Whether @all mentioned every member' }),
  thread_id: Nullable(IdString),
  reply_count: Type.Integer({ description: 'Of a thread root: its replies' }),
  last_reply_at: Nullable(Timestamp),
  reactions: Type.Optional(
    Type.Array(Type.Object({ emoji: Type.String(), count: Type.Integer(), actor_ids: Type.Array(IdString) })),
  ),
  attachments: Type.Array(AttachmentRefSchema, { description: 'Empty when the message has none' }),
});

/* Request headers, bodies and queries of routes/messages.ts. */

export const ClientId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' });
export const MessageSendHeaders = Type.Object({ 'idempotency-key': Type.Optional(ClientId) });
export const MessageSendBody = Type.Object(
  {
    text: Text,
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_]*$' })),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 32 }),
    ),
    reply_to: Type.Optional(IdInput),
    client_id: Type.Optional(ClientId),
    attachments: Type.Optional(
      Type.Array(IdInput, {
        maxItems: 10,
        description: 'Upload ids (POST /v1/conversations/{id}/attachments) to attach',
      }),
    ),
  },
  { additionalProperties: false },
);
export const MessageHistoryQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    before: Type.Optional(IdString),
    after: Type.Optional(IdString),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export const MessageEditBody = Type.Object({ text: Text }, { additionalProperties: false });
