import Type from 'typebox';
import { RateGroup } from '../../domain/rate-limits.ts';
import { literals, Nullable, Timestamp } from '../schemas.ts';

/** Rate-limit policies and a caller's state in a group (presented by http/present/rate-limits.ts). */
export const PolicySchema = Type.Object({
  points: Type.Integer({ description: 'Requests allowed per window' }),
  duration_s: Type.Integer({ description: 'Window length in seconds' }),
  block_s: Type.Integer({ description: 'Lock-out after exceeding, in seconds (0: none)' }),
});
export const StateSchema = Type.Object({
  group: literals(RateGroup),
  policy: PolicySchema,
  remaining: Type.Integer(),
  reset_at: Nullable(Timestamp),
  limited: Type.Boolean(),
});
export const GroupParams = Type.Object({ group: literals(RateGroup) });
