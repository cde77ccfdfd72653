import { iso, presentConversationCore, presentMemberState } from '../../domain/presenters.ts';
import type { ConversationReadView, ConversationView } from '../../services/conversations.ts';

/** Conversations as the native API shows them (http/schemas/conversations.ts). */

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
