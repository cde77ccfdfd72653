import Type from 'typebox';
import { ActorKind, UserRole, VisitorChannel } from '../../domain/model.ts';
import { IdString, literals, Nullable, Timestamp } from '../schemas.ts';

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
