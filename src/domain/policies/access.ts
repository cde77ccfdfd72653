import type { Actor, ConversationKind } from '../model.ts';
import type { Principal } from '../principal.ts';

/** Owners, admins and operators: the people who answer visitors (the org's support staff). */
export function isStaffActor(a: Actor): boolean {
  return a.kind === 'user' && (a.role === 'owner' || a.role === 'admin' || a.role === 'operator');
}

/** Whether the principal is staff (see isStaffActor). */
export function isStaff(p: Principal): boolean {
  return isStaffActor(p.actor);
}

/**
 * The owner-access rule: who reads a conversation without being one of its members.
 *
 * - Team conversations (direct, group, channel) are private to their current members. Org
 *   owners and admins get no implicit access to them: not on the REST reads, the dialects, the
 *   stream or search. (They manage the org, people and tokens, not other people's chats.)
 * - Support chats belong to the org's support desk: the org's staff (owners, admins and
 *   operators; see isStaff) read every support chat of the org, member or not, on every read
 *   path (`/v1/support/chats/{id}`, `GET /v1/conversations/{id}`, its messages and its pin),
 *   and so does the chat's own visitor. Writing into a chat (sending, pinning) still takes
 *   membership, which staff get by picking it up or having it transferred to them.
 *
 * Deleted conversations are invisible to everyone whatever this says (domain/visibility.ts).
 */
export function canReadWithoutMembership(
  p: Principal,
  c: { orgId: string; kind: ConversationKind; visitorId?: string | null | undefined },
): boolean {
  if (c.orgId !== p.orgId) return false;
  if (c.kind !== 'support') return false;
  if (isStaff(p)) return true;
  return p.actor.kind === 'visitor' && c.visitorId != null && p.actor.id === c.visitorId;
}

/** Whether `p` may read the conversation: a current member, or by canReadWithoutMembership. */
export function canReadConversation(
  p: Principal,
  c: { orgId: string; kind: ConversationKind; visitorId?: string | null | undefined },
  isMember: boolean,
): boolean {
  return isMember || canReadWithoutMembership(p, c);
}
