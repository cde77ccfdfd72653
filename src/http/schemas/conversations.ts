import Type from 'typebox';
import { ConversationKind } from '../../domain/model.ts';
import { IdString, literals, Nullable, Timestamp } from '../schemas.ts';
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
