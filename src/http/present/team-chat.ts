import type { ReactionSummary } from '../../domain/model.ts';
import { optIso } from '../../domain/presenters.ts';
import type { TeamChatSettings } from '../../domain/team-chat.ts';
import { teamChatSettingsJson } from '../../domain/team-chat.ts';
import type { PresenceView } from '../../services/presence.ts';
import type { Receipts } from '../../services/receipts.ts';
import type { MyNotifySettings } from '../../services/team-chat-settings.ts';
import type { ThreadMe } from '../../services/threads.ts';

/** Team chat's JSON (routes/team-chat.ts). */

export function presentReactions(v: { messageId: string; reactions: ReactionSummary[] }) {
  return {
    message_id: v.messageId,
    reactions: v.reactions.map((r) => ({ emoji: r.emoji, count: r.count, actor_ids: r.actorIds })),
  };
}

export function presentThreadMe(me: ThreadMe) {
  return { following: me.following, read_count: me.readCount, unread_count: me.unreadCount };
}

export function presentReceipts(r: Receipts) {
  return {
    enabled: r.enabled,
    reads: r.reads.map((x) => ({ actor_id: x.actorId, read_message_id: x.readMessageId })),
  };
}

export function presentPresence(p: PresenceView) {
  return { actor_id: p.actorId, status: p.status, last_active_at: optIso(p.lastActiveAt) };
}

export const presentTeamChatSettings = (s: TeamChatSettings) => teamChatSettingsJson(s);

export function presentNotifySettings(s: MyNotifySettings) {
  return { digest_minutes: s.digestMinutes, effective_digest_minutes: s.effectiveDigestMinutes };
}
