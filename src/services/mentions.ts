import type { AppContext, Db } from '../context.ts';
import type { Conversation, Message, MessageMentions } from '../domain/model.ts';
import { allowsMentionAll, parseMentions, teamChatSettingsFrom } from '../domain/team-chat.ts';
import { findOrgSettings } from '../store/repos/orgs.ts';
import {
  ALL_ACTOR,
  currentMemberIds,
  insertMentions,
  mentionCounts,
  replaceMentions,
} from '../store/repos/team-chat.ts';
import type { Tx } from './tx.ts';

/**
 * Mentions (docs/api.md#mentions): `<@ID>` for a member, `@all` for every member of a group or
 * channel when the org allows it. Resolved in the send's transaction against the current
 * members; a text without `@` costs nothing (no query).
 */
export async function resolveMentions(
  db: Db,
  conversation: Conversation,
  text: string | null,
): Promise<MessageMentions | null> {
  const parsed = parseMentions(text);
  if (parsed.ids.length === 0 && !parsed.all) return null;
  const ids = await currentMemberIds(db, conversation.id, parsed.ids);
  let all = false;
  if (parsed.all && allowsMentionAll(conversation.kind)) {
    all = teamChatSettingsFrom(await findOrgSettings(db, conversation.orgId)).mentionAll;
  }
  if (ids.length === 0 && !all) return null;
  // Keep the order of the text.
  const valid = new Set(ids);
  return { ids: parsed.ids.filter((id) => valid.has(id)), all };
}

/**
 * Stores a sent message's mentions (one row per mentioned user, one for `@all`) and notifies
 * the mentioned: `mention.created`, sent whether or not they muted the conversation.
 */
export async function recordMentions(tx: Tx, m: Message, ordinal: number): Promise<void> {
  const mentions = m.mentions;
  if (!mentions) return;
  const rows = mentions.all ? [ALL_ACTOR, ...mentions.ids] : mentions.ids;
  await insertMentions(tx.db, m, ordinal, rows);
  notifyMentions(tx, m, mentions);
}

/** `mention.created` to the mentioned (every member for `@all`), the sender left out. */
function notifyMentions(tx: Tx, m: Message, mentions: MessageMentions): void {
  const payload = {
    conversation_id: m.conversationId,
    message_id: m.id,
    sender_id: m.senderId,
    all: mentions.all,
  };
  const others = mentions.ids.filter((id) => id !== m.senderId);
  if (mentions.all) {
    tx.emit(m.orgId, [
      {
        type: 'mention.created',
        conversationId: m.conversationId,
        recipients: [],
        audience: 'members',
        payload,
      },
    ]);
  } else if (others.length > 0) {
    tx.emit(m.orgId, [
      { type: 'mention.created', conversationId: m.conversationId, recipients: others, payload },
    ]);
  }
}

/**
 * An edit re-resolves the mentions against the current members (as a send does): the message's
 * list and mention rows are replaced (a removed mention stops counting), and only the newly
 * mentioned get `mention.created` (someone mentioned before and still mentioned is not notified
 * twice). Returns the message with its new mentions, for the `message.edited` event.
 */
export async function reresolveMentions(
  tx: Tx,
  conversation: Conversation,
  before: Message,
  edited: Message,
): Promise<Message> {
  const mentions = await resolveMentions(tx.db, conversation, edited.text);
  const old = before.mentions ?? null;
  const same =
    (old?.all ?? false) === (mentions?.all ?? false) &&
    (old?.ids ?? []).join(',') === (mentions?.ids ?? []).join(',');
  if (same) return { ...edited, mentions };
  await replaceMentions(tx.db, edited, mentions);
  if (mentions) {
    const had = new Set(old?.ids ?? []);
    const added = { ids: mentions.ids.filter((id) => !had.has(id)), all: mentions.all && !old?.all };
    if (added.ids.length > 0 || added.all) notifyMentions(tx, edited, added);
  }
  return { ...edited, mentions };
}

/** Conversation views with the caller's mention counts (one query for the page). */
export async function withMentionCounts<T extends { conversation: { id: string }; mentionCount?: number }>(
  ctx: AppContext,
  actorId: string,
  views: T[],
): Promise<T[]> {
  const counts = await mentionCounts(
    ctx.db,
    actorId,
    views.map((v) => v.conversation.id),
  );
  return views.map((v) => ({ ...v, mentionCount: counts.get(v.conversation.id) ?? 0 }));
}
