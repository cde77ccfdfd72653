import Type from 'typebox';
import { ActorKind, UserRole, VisitorChannel } from '../../domain/model.ts';
import { IdInput, IdString, listQuery, literals, MAX_EPOCH_MS, Nullable, Timestamp } from '../schemas.ts';
import { ScopeNames } from '../scope-names.ts';

/** People (users, visitors, bots) and their tokens (presented by http/present/people.ts). */

export const ActorSchema = Type.Object({
  id: IdString,
  kind: literals(ActorKind),
  role: Nullable(literals(UserRole)),
  name: Type.String(),
  email: Nullable(Type.String()),
  external_id: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  country: Nullable(Type.String()),
  channel: Nullable(literals(VisitorChannel)),
  active: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const TokenSchema = Type.Object({
  id: IdString,
  actor_id: IdString,
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  created_at: Timestamp,
  expires_at: Nullable(Timestamp),
  revoked_at: Nullable(Timestamp),
});

/* Request bodies and queries, and the other answers, of routes/people.ts. */

export const Short = (max: number) => Type.String({ minLength: 1, maxLength: max });
export const ActorFields = {
  name: Short(200),
  role: Type.Optional(literals(UserRole)),
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  external_id: Type.Optional(Nullable(Short(128))),
  phone: Type.Optional(Nullable(Short(32))),
  ip: Type.Optional(Nullable(Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })]))),
  country: Type.Optional(Nullable(Short(64))),
  channel: Type.Optional(Nullable(literals(VisitorChannel))),
};
export const ActorFieldsSchema = Type.Object(ActorFields);
export const ActorIdParams = Type.Object({ id: IdString });
export const MeSchema = Type.Object({
  actor: ActorSchema,
  org_id: IdString,
  scopes: Type.Array(Type.String()),
});
export const ActorCreateBody = Type.Object(
  { kind: literals(ActorKind), ...ActorFields },
  { additionalProperties: false },
);
export const ActorListQuery = listQuery({
  kind: Type.Optional(literals(ActorKind)),
  include_inactive: Type.Optional(Type.Boolean()),
});
export const ActorUpdateBody = Type.Object(
  { ...ActorFields, name: Type.Optional(Short(200)) },
  { additionalProperties: false, minProperties: 1 },
);
export const TokenListSchema = Type.Object({ items: Type.Array(TokenSchema) });
export const TokenCreateBody = Type.Object(
  {
    name: Short(100),
    scopes: ScopeNames,
    actor_id: Type.Optional(IdInput),
    expires_at: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EPOCH_MS, description: 'Epoch ms' })),
  },
  { additionalProperties: false },
);
export const TokenCreatedSchema = Type.Object({ token: Type.String(), record: TokenSchema });
