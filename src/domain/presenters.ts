import type { AttachmentRef, Conversation, MemberState, Message } from './model.ts';
import { isMuted } from './model.ts';
import { presentTeamChatFields } from './team-chat.ts';

/**
 * The native API's JSON for the objects that also travel in events (the realtime stream and
 * webhooks carry the same shapes as the REST answers). Pure; src/http/present.ts re-exports.
 */
/** Epoch ms as ISO 8601 UTC, the native API's time format. */
export const iso = (ms: number): string => new Date(ms).toISOString();
/** The same, with null (or absent) staying null. */
export const optIso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : iso(ms);

/**
 * The part of a conversation that is the same for everyone: what events carry (each recipient
 * has their own member state) and what the API's conversation object starts with.
 */
export function presentConversationCore(c: Conversation) {
  return {
    id: c.id,
    kind: c.kind,
    title: c.title,
    creator_id: c.creatorId,
    participant_count: c.memberCount,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
  };
}

export function presentMessage(m: Message) {
  return {
    id: m.id,
    conversation_id: m.conversationId,
    sender_id: m.senderId,
    type: m.type,
    text: m.text,
    metadata: m.metadata,
    reply_to_id: m.replyToId,
    client_id: m.clientId,
    created_at: iso(m.createdAt),
    edited_at: optIso(m.editedAt),
    deleted: m.deletedAt !== null,
    deleted_at: optIso(m.deletedAt),
    ...presentTeamChatFields(m),
    attachments: (m.attachments ?? []).map(presentAttachmentRef),
  };
}

/** An attachment inside a message; the URLs need the bearer token (or see GET /v1/attachments/{id}/link). */
export function presentAttachmentRef(a: AttachmentRef) {
  return {
    id: a.id,
    name: a.name,
    content_type: a.contentType,
    size: a.size,
    width: a.width,
    height: a.height,
    url: `/v1/attachments/${a.id}/content`,
    preview_url: a.preview ? `/v1/attachments/${a.id}/content?variant=preview` : null,
  };
}

export function presentMemberState(s: MemberState, now: number) {
  const muted = isMuted(s, now);
  return {
    role: s.role,
    joined_at: iso(s.joinedAt),
    muted,
    muted_until: muted ? s.mutedUntil : null,
    read_message_id: s.readMessageId,
    unread_count: s.unreadCount,
    draft: s.draft,
    hidden: s.hidden,
    pinned: s.pinned,
  };
}
