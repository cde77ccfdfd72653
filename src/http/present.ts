import type { Actor } from '../domain/model.ts';
import {
  iso,
  optIso,
  presentConversationCore,
  presentMemberState,
  presentMessage,
} from '../domain/presenters.ts';
import type { ConversationReadView, ConversationView } from '../services/conversations.ts';
import type { MemberField } from '../services/members.ts';
import type { PinView } from '../services/pins.ts';
import type { MemberWithActor } from '../store/repos/conversations.ts';
import type { TokenRow } from '../store/repos/tokens.ts';

/** Domain objects -> native API JSON (snake_case, ISO times, ids as strings). */
export { presentMemberState, presentMessage };

/** A page a service read, in the native list shape (`items`, `next_cursor`), each item presented. */
export function presentPage<T, J>(
  result: { items: readonly T[]; nextCursor: string | null },
  present: (item: T) => J,
): { items: J[]; next_cursor: string | null } {
  return { items: result.items.map((item) => present(item)), next_cursor: result.nextCursor };
}

export function presentConversation(v: ConversationView | ConversationReadView, now: number) {
  const c = v.conversation;
  const me = v.me ? presentMemberState(v.me, now) : null;
  const lm = v.lastMessage;
  return {
    ...presentConversationCore(c),
    last_activity_at: iso(c.lastActivityAt),
    last_message: lm
      ? {
          id: lm.id,
          sender_id: lm.senderId,
          sender_name: v.lastSenderName,
          type: lm.type,
          text: lm.text,
          created_at: iso(lm.createdAt),
          deleted: lm.deletedAt !== null,
        }
      : null,
    unread_count: me?.unread_count ?? 0,
    mention_count: v.mentionCount ?? 0,
    muted: me?.muted ?? false,
    me,
  };
}

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

export function presentPin(v: PinView) {
  return {
    conversation_id: v.pin.conversationId,
    message: presentMessage(v.message),
    sender_name: v.senderName,
    creator: { id: v.pin.creatorId, name: v.creatorName },
    created_at: iso(v.pin.createdAt),
    expiry_time: v.pin.expiresAt ?? -1,
    notify: v.pin.notify,
  };
}

export function presentActor(a: Actor) {
  return {
    id: a.id,
    kind: a.kind,
    role: a.role,
    name: a.name,
    email: a.email,
    external_id: a.externalId,
    phone: a.phone,
    ip: a.ip,
    country: a.country,
    channel: a.channel,
    active: a.active,
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
  };
}

export function presentToken(t: TokenRow) {
  return {
    id: t.id,
    actor_id: t.actorId,
    name: t.name,
    scopes: t.scopes,
    created_at: iso(t.createdAt),
    expires_at: optIso(t.expiresAt),
    revoked_at: optIso(t.revokedAt),
  };
}
