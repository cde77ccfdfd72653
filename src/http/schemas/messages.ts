import Type from 'typebox';
import { IdString, Nullable, Timestamp } from '../schemas.ts';
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
