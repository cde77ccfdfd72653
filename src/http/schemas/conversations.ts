import Type from 'typebox';
import { ConversationKind } from '../../domain/model.ts';
import { IdInput, IdString, listQuery, literals, Nullable, Timestamp } from '../schemas.ts';
import { MemberStateSchema } from './member-state.ts';

/** Conversations: their JSON shape (presented by http/present/conversations.ts) and title. */

export const Title = Type.String({ minLength: 1, maxLength: 200 });

export const ConversationSchema = Type.Object({
  id: IdString,
  kind: literals(ConversationKind),
  title: Nullable(Type.String()),
  creator_id: IdString,
  participant_count: Type.Integer(),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_activity_at: Timestamp,
  last_message: Nullable(
    Type.Object({
      id: IdString,
      sender_id: IdString,
      sender_name: Nullable(Type.String()),
      type: Type.String(),
      text: Nullable(Type.String()),
      created_at: Timestamp,
      deleted: Type.Boolean(),
    }),
  ),
  unread_count: Type.Integer(),
  mention_count: Type.Integer({ description: 'Mentions of you (<@id> or @all) after your read position' }),
  muted: Type.Boolean(),
  me: Nullable(MemberStateSchema),
});

/* Request bodies and queries of routes/conversations.ts. */

export const QueryBool = Type.Boolean({ description: 'true or false' });
export const ConversationCreateBody = Type.Object(
  {
    kind: literals(['direct', 'group', 'channel'] as const),
    title: Type.Optional(Title),
    member_ids: Type.Array(IdInput, { maxItems: 100, default: [] }),
  },
  { additionalProperties: false },
);
export const ConversationListQuery = listQuery({
  kind: Type.Optional(literals(ConversationKind)),
  modified_before: Type.Optional(Type.String({ description: 'ISO 8601 or epoch ms: last activity before' })),
  modified_after: Type.Optional(Type.String({ description: 'ISO 8601 or epoch ms: last activity after' })),
  drafts: Type.Optional(QueryBool),
  muted: Type.Optional(QueryBool),
  hidden: Type.Optional(QueryBool),
  pinned: Type.Optional(QueryBool),
  has_mentions: Type.Optional(QueryBool),
});
export const ConversationRenameBody = Type.Object({ title: Title }, { additionalProperties: false });
