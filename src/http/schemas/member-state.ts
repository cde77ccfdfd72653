import Type from 'typebox';
import { MemberRole } from '../../domain/model.ts';
import { IdInput, IdString, literals, MAX_EPOCH_MS, Nullable, Timestamp } from '../schemas.ts';

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

/* Request bodies of routes/member-state.ts. */

export const Empty = Type.Object({}, { additionalProperties: false });
export const MuteBody = Type.Object(
  {
    until: Type.Optional(
      Type.Integer({
        minimum: -1,
        maximum: MAX_EPOCH_MS,
        description: 'Epoch ms in the future, or -1 (default) for forever',
      }),
    ),
  },
  { additionalProperties: false },
);
export const ReadBody = Type.Object({ message_id: Type.Optional(IdInput) }, { additionalProperties: false });
export const DraftBody = Type.Object(
  { text: Type.String({ maxLength: 10_000 }) },
  { additionalProperties: false },
);
