import { iso } from '../../domain/presenters.ts';
import type { MemberField } from '../../services/members.ts';
import type { MemberWithActor } from '../../store/repos/conversations.ts';

/** A conversation's member as the native API shows it, optionally only some fields (http/schemas/members.ts). */

export function presentMember(m: MemberWithActor, fields?: MemberField[]): Partial<Record<MemberField, any>> {
  const full: Record<MemberField, unknown> = {
    id: m.member.actorId,
    name: m.name,
    email: m.email,
    kind: m.kind,
    role: m.member.role,
    external_id: m.externalId,
    joined_at: iso(m.member.joinedAt),
  };
  if (!fields) return full;
  return Object.fromEntries(fields.map((f) => [f, full[f]]));
}
