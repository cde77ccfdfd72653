import Type from 'typebox';
import { ActorKind, MemberRole } from '../../domain/model.ts';
import { IdInput, IdString, listQuery, literals, Nullable, Timestamp } from '../schemas.ts';

/** Members of a conversation: their JSON shape, every field optional for the `fields` projection (http/present/members.ts). */

export const MemberIdParams = Type.Object({ id: IdString, actorId: IdString });

export const MemberSchema = Type.Object({
  id: Type.Optional(IdString),
  name: Type.Optional(Type.String()),
  email: Type.Optional(Nullable(Type.String())),
  kind: Type.Optional(literals(ActorKind)),
  role: Type.Optional(literals(MemberRole)),
  external_id: Type.Optional(Nullable(Type.String())),
  joined_at: Type.Optional(Timestamp),
});

/* Request bodies and queries of routes/members.ts. */

export const MemberListQuery = listQuery({ fields: Type.Optional(Type.String({ maxLength: 200 })) });
export const MembersAddBody = Type.Object(
  { actor_ids: Type.Array(IdInput, { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);
