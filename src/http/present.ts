import type { Actor } from '../domain/model.ts';
import { iso, optIso, presentMemberState, presentMessage } from '../domain/presenters.ts';
import type { ConversationView } from '../services/conversations.ts';
import type { MemberField } from '../services/members.ts';
import type { PinView } from '../services/pins.ts';
import type { MemberWithActor } from '../store/repos/conversations.ts';
import type { TokenRow } from '../store/repos/tokens.ts';

/** Domain objects -> native API JSON (snake_case, ISO times, ids as strings). */
export { presentMemberState, presentMessage };

export function presentConversation(v: ConversationView, now: number) {
  const c = v.conversation;
  const me = presentMemberState(v.me, now);
  const lm = v.lastMessage;
  return {
    id: c.id,
    kind: c.kind,
    title: c.title,
    creator_id: c.creatorId,
    participant_count: c.memberCount,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
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
    unread_count: me.unread_count,
    mention_count: v.mentionCount ?? 0,
    muted: me.muted,
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
