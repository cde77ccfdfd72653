import Type from 'typebox';
import { MemberRole } from '../../domain/model.ts';
import { IdString, literals, Nullable, Timestamp } from '../schemas.ts';

/** A member's own state in a conversation (presented by domain/presenters.ts presentMemberState). */

export const MemberStateSchema = Type.Object({
  role: literals(MemberRole),
  joined_at: Timestamp,
  muted: Type.Boolean(),
  muted_until: Nullable(Type.Integer({ description: 'Epoch ms; -1 when muted until unmuted' })),
  read_message_id: Nullable(IdString),
  unread_count: Type.Integer(),
  draft: Nullable(Type.String()),
  hidden: Type.Boolean(),
  pinned: Type.Boolean(),
});
