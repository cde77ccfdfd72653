import type { ConversationView } from '../../services/conversations.ts';
import type { PinView } from '../../services/pins.ts';

/** Domain objects -> the team-chat vendor's shapes (seed 003). Pure. */

/** ISO 8601 with an explicit offset and no milliseconds, as the vendor writes times ("...T03:37:28-07:00"). */
export function cliqTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** A message's msguid as the vendor's responses show it: `<time>%20<number>`. */
export function presentMsguid(createdAt: number, id: string): string {
  return `${createdAt}%20${id}`;
}

export function presentDirectChat(v: ConversationView, peers: { id: string; name: string }[]) {
  const c = v.conversation;
  const lm = v.lastMessage;
  return {
    name: peers.map((p) => p.name).join(', '),
    creation_time: cliqTime(c.createdAt),
    creator_id: c.creatorId,
    last_modified_time: cliqTime(c.lastActivityAt),
    removed: false,
    recipients_summary: peers.map((p) => ({ user_id: p.id, name: p.name })),
    chat_type: 'dm' as const,
    chat_id: c.id,
    ...(lm && lm.deletedAt === null
      ? {
          last_message_info: {
            sender_id: lm.senderId,
            message_type: lm.type,
            time: cliqTime(lm.createdAt),
            text: lm.text ?? '',
            sender_name: v.lastSenderName ?? '',
          },
        }
      : {}),
    pinned: v.me.pinned,
    participant_count: c.memberCount,
  };
}

export function presentSticky(v: PinView) {
  const m = v.message;
  return {
    expiry_time: v.pin.expiresAt ?? -1,
    creator: { name: v.creatorName, id: v.pin.creatorId },
    message: {
      msg: m.text ?? '',
      sender: m.senderId,
      lmsgtime: String(m.editedAt ?? m.createdAt),
      msguid: presentMsguid(m.createdAt, m.id),
      time: String(m.createdAt),
      dname: v.senderName,
    },
    created_time: v.pin.createdAt,
    last_modified_time: v.pin.createdAt,
    chat_id: v.pin.conversationId,
  };
}
