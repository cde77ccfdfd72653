import { type Expression, type SqlBool, sql } from 'kysely';
import type { Message, ReactionSummary } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
import { toMessage } from './rows.ts';

/**
 * Team chat rows (migration 2026-12-05T01-00-team-chat): mentions, reactions, thread counters
 * and thread read positions, receipts (from read positions), digest bookkeeping.
 */

/** The `actor_id` of an `@all` mention row. */
export const ALL_ACTOR = '0';

/** Which of `ids` are current members of the conversation. */
export async function currentMemberIds(
  db: Db,
  conversationId: string,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('membership')
    .select('actor_id')
    .where('conversation_id', '=', conversationId)
    .where('actor_id', 'in', ids)
    .where('left_at', 'is', null)
    .execute();
  return rows.map((r) => String(r.actor_id));
}

export async function insertMentions(
  db: Db,
  m: Message,
  ordinal: number,
  actorIds: readonly string[],
): Promise<void> {
  if (actorIds.length === 0) return;
  await db
    .insertInto('mention')
    .values(
      actorIds.map((a) => ({
        message_id: m.id,
        actor_id: a,
        conversation_id: m.conversationId,
        org_id: m.orgId,
        sender_id: m.senderId,
        ordinal,
      })),
    )
    .execute();
}

/**
 * SQL: whether member row `m` (aliased `m`, with `m.actor_id`, `m.read_ordinal`) has a mention
 * after its read position in conversation `c` (for the list's `has_mentions` filter).
 */
export function hasMentionsExpr(): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from mention mn where mn.conversation_id = m.conversation_id
    and mn.actor_id in (m.actor_id, 0) and mn.ordinal > m.read_ordinal and mn.sender_id <> m.actor_id)`;
}

/** Each conversation's messages mentioning the actor after their read position (absent: 0). */
export async function mentionCounts(
  db: Db,
  actorId: string,
  conversationIds: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (conversationIds.length === 0) return out;
  const rows = await db
    .selectFrom('mention as mn')
    .innerJoin('membership as m', (j) =>
      j.onRef('m.conversation_id', '=', 'mn.conversation_id').on('m.actor_id', '=', actorId),
    )
    // A message that mentions you by id and with @all is one mention of you (two rows).
    .select(['mn.conversation_id', sql<number>`count(distinct mn.message_id)`.as('n')])
    .where('mn.conversation_id', 'in', conversationIds)
    .where('mn.actor_id', 'in', [actorId, ALL_ACTOR])
    .where('mn.sender_id', '<>', actorId)
    .whereRef('mn.ordinal', '>', 'm.read_ordinal')
    .groupBy('mn.conversation_id')
    .execute();
  for (const r of rows) out.set(String(r.conversation_id), Number(r.n));
  return out;
}

/** A message deleted for everyone mentions nobody any more, has no reactions, and no thread followers. */
export async function deleteTeamChatRowsOf(db: Db, messageId: string): Promise<void> {
  await db.deleteFrom('mention').where('message_id', '=', messageId).execute();
  await db.deleteFrom('reaction').where('message_id', '=', messageId).execute();
}

// Reactions

/** Adds a reaction; false when the actor had it already. */
export async function insertReaction(
  db: Db,
  r: { messageId: string; actorId: string; emoji: string; conversationId: string; orgId: string; at: number },
): Promise<boolean> {
  const res = await db
    .insertInto('reaction')
    .values({
      message_id: r.messageId,
      actor_id: r.actorId,
      emoji: r.emoji,
      conversation_id: r.conversationId,
      org_id: r.orgId,
      created_at: r.at,
    })
    .onConflict((oc) => oc.columns(['message_id', 'emoji', 'actor_id']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Removes a reaction; false when the actor did not have it. */
export async function deleteReaction(
  db: Db,
  messageId: string,
  actorId: string,
  emoji: string,
): Promise<boolean> {
  const res = await db
    .deleteFrom('reaction')
    .where('message_id', '=', messageId)
    .where('emoji', '=', emoji)
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** How many distinct emoji a message has (a cap against abuse). */
export async function countEmojiOf(db: Db, messageId: string): Promise<number> {
  const row = await db
    .selectFrom('reaction')
    .select(sql<number>`count(distinct emoji)`.as('n'))
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Who reacted with what on each message, emoji by first use, reactors by time (at most 50 named per emoji). */
export async function reactionsOf(
  db: Db,
  messageIds: readonly string[],
): Promise<Map<string, ReactionSummary[]>> {
  const out = new Map<string, ReactionSummary[]>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .selectFrom('reaction')
    .select(['message_id', 'emoji', 'actor_id', 'created_at'])
    .where('message_id', 'in', messageIds)
    .orderBy('message_id')
    .orderBy('created_at')
    .orderBy('actor_id')
    .execute();
  for (const r of rows) {
    const id = String(r.message_id);
    const list = out.get(id) ?? [];
    out.set(id, list);
    let s = list.find((x) => x.emoji === r.emoji);
    if (!s) {
      s = { emoji: r.emoji, count: 0, actorIds: [] };
      list.push(s);
    }
    s.count++;
    if (s.actorIds.length < 50) s.actorIds.push(String(r.actor_id));
  }
  return out;
}

// Threads

/** A reply in thread `rootId`: the root's counter and last reply time move; returns the new count. */
export async function bumpThread(db: Db, rootId: string, at: number): Promise<number> {
  const row = await db
    .updateTable('message')
    .set({ reply_count: sql`reply_count + 1`, last_reply_at: at })
    .where('id', '=', rootId)
    .returning('reply_count')
    .executeTakeFirstOrThrow();
  return Number(row.reply_count);
}

/**
 * Makes the actor a participant of the thread (following it), or sets whether they follow.
 * `readCount`: the replies they have now read (a replier: all, their own included); null keeps
 * a participant's read position (a newcomer starts with nothing read).
 */
export async function joinThread(
  db: Db,
  t: { rootId: string; conversationId: string; orgId: string },
  actorId: string,
  readCount: number | null,
  following = true,
): Promise<void> {
  const follow = following ? 1 : 0;
  await db
    .insertInto('thread_member')
    .values({
      message_id: t.rootId,
      actor_id: actorId,
      conversation_id: t.conversationId,
      org_id: t.orgId,
      read_count: readCount ?? 0,
      following: follow,
    })
    .onConflict((oc) =>
      oc
        .columns(['message_id', 'actor_id'])
        .doUpdateSet(
          readCount === null ? { following: follow } : { following: follow, read_count: readCount },
        ),
    )
    .execute();
}

/** Marks the thread read up to `count` replies (never backwards); creates no participant. */
export async function markThreadRead(db: Db, rootId: string, actorId: string, count: number): Promise<void> {
  await db
    .updateTable('thread_member')
    .set({ read_count: count })
    .where('message_id', '=', rootId)
    .where('actor_id', '=', actorId)
    .where('read_count', '<', count)
    .execute();
}

export interface ThreadState {
  rootId: string;
  following: boolean;
  readCount: number;
}

export async function findThreadState(
  db: Db,
  rootId: string,
  actorId: string,
): Promise<ThreadState | undefined> {
  const row = await db
    .selectFrom('thread_member')
    .select(['message_id', 'following', 'read_count'])
    .where('message_id', '=', rootId)
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  return row
    ? { rootId: String(row.message_id), following: row.following === 1, readCount: Number(row.read_count) }
    : undefined;
}

/** The actor's followed threads in a conversation, with their unread replies. */
export async function threadsOf(
  db: Db,
  conversationId: string,
  actorId: string,
): Promise<{ root: Message; unread: number; following: boolean }[]> {
  const rows = await db
    .selectFrom('thread_member as t')
    .innerJoin('message as r', 'r.id', 't.message_id')
    .selectAll('r')
    .select(['t.read_count as t_read_count', 't.following as t_following'])
    .where('t.conversation_id', '=', conversationId)
    .where('t.actor_id', '=', actorId)
    .where('t.following', '=', 1)
    .orderBy('r.last_reply_at', 'desc')
    .limit(200)
    .execute();
  return rows.map((r) => {
    const root = toMessage(r);
    return {
      root,
      unread: Math.max(0, (root.replyCount ?? 0) - Number(r.t_read_count)),
      following: r.t_following === 1,
    };
  });
}

/** A page of a thread's replies, oldest first, after reply id `afterId`. */
export async function listReplies(db: Db, rootId: string, afterId: string | undefined, limit: number) {
  let q = db.selectFrom('message').selectAll().where('thread_id', '=', rootId);
  if (afterId) q = q.where('id', '>', afterId);
  const rows = await q.orderBy('id', 'asc').limit(limit).execute();
  return rows.map(toMessage);
}

// Read receipts

/** The current members' read positions (ordinals) with their read message ids. */
export async function readPositions(
  db: Db,
  conversationId: string,
): Promise<{ actorId: string; readOrdinal: number; readMessageId: string | null }[]> {
  const rows = await db
    .selectFrom('membership')
    .select(['actor_id', 'read_ordinal', 'read_message_id'])
    .where('conversation_id', '=', conversationId)
    .where('left_at', 'is', null)
    .execute();
  return rows.map((r) => ({
    actorId: String(r.actor_id),
    readOrdinal: Number(r.read_ordinal),
    readMessageId: r.read_message_id === null ? null : String(r.read_message_id),
  }));
}

export async function ordinalOf(db: Db, messageId: string): Promise<number> {
  const row = await db.selectFrom('message').select('ordinal').where('id', '=', messageId).executeTakeFirst();
  return Number(row?.ordinal ?? 0);
}

// Edits and deletes (services/mentions.ts, services/threads.ts)

/** An edit re-resolved the message's mentions: the message's list and its mention rows change. */
export async function replaceMentions(
  db: Db,
  m: Message,
  mentions: { ids: string[]; all: boolean } | null,
): Promise<void> {
  await db
    .updateTable('message')
    .set({ mentions: mentions ? JSON.stringify(mentions) : null })
    .where('id', '=', m.id)
    .execute();
  await db.deleteFrom('mention').where('message_id', '=', m.id).execute();
  if (!mentions) return;
  await insertMentions(
    db,
    m,
    await ordinalOf(db, m.id),
    mentions.all ? [ALL_ACTOR, ...mentions.ids] : mentions.ids,
  );
}

/**
 * A reply of thread `rootId` was deleted for everyone (its row is already a tombstone): the
 * root counts one reply less and its last reply is the newest one left; read positions at or
 * past the deleted reply's place move back one, so unread stays what it was.
 */
export async function unbumpThread(
  db: Db,
  rootId: string,
  replyId: string,
): Promise<{ replyCount: number; lastReplyAt: number | null }> {
  const before = await db
    .selectFrom('message')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('thread_id', '=', rootId)
    .where('deleted_at', 'is', null)
    .where('id', '<', replyId)
    .executeTakeFirst();
  const place = Number(before?.n ?? 0) + 1;
  const last = await db
    .selectFrom('message')
    .select('created_at')
    .where('thread_id', '=', rootId)
    .where('deleted_at', 'is', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const lastReplyAt = last ? Number(last.created_at) : null;
  const row = await db
    .updateTable('message')
    .set({
      reply_count: sql`case when reply_count > 0 then reply_count - 1 else 0 end`,
      last_reply_at: lastReplyAt,
    })
    .where('id', '=', rootId)
    .returning('reply_count')
    .executeTakeFirst();
  await db
    .updateTable('thread_member')
    .set({ read_count: sql`read_count - 1` })
    .where('message_id', '=', rootId)
    .where('read_count', '>=', place)
    .execute();
  return { replyCount: Number(row?.reply_count ?? 0), lastReplyAt };
}
