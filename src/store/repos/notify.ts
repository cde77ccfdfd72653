import { sql } from 'kysely';
import type { Db } from '../schema.ts';

/** Per-user notification state (`actor_notify`) and the offline digest's reads and marks. */

export async function findNotifySettings(
  db: Db,
  actorId: string,
): Promise<{ digestMinutes: number | null } | undefined> {
  const row = await db
    .selectFrom('actor_notify')
    .select(['digest_minutes'])
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  return row ? { digestMinutes: row.digest_minutes === null ? null : Number(row.digest_minutes) } : undefined;
}

type NotifyColumns = { digest_minutes: number | null } | { digest_sent_at: number };

/** Sets one column of the actor's row, making the row when it is missing. */
async function upsertNotify(db: Db, orgId: string, actorId: string, set: NotifyColumns): Promise<void> {
  await db
    .insertInto('actor_notify')
    .values({ actor_id: actorId, org_id: orgId, digest_minutes: null, digest_sent_at: null, ...set })
    .onConflict((oc) => oc.column('actor_id').doUpdateSet(set))
    .execute();
}

export function upsertDigestMinutes(
  db: Db,
  orgId: string,
  actorId: string,
  minutes: number | null,
): Promise<void> {
  return upsertNotify(db, orgId, actorId, { digest_minutes: minutes });
}

export interface DigestCandidate {
  actorId: string;
  orgId: string;
  email: string;
  name: string;
  createdAt: number;
  digestMinutes: number | null;
  conversationId: string;
  kind: string;
  title: string | null;
  messageCount: number;
  /** Unread messages not yet in a digest. */
  unreadNew: number;
  /** Mentions after the read position not yet in a digest. */
  mentionsNew: number;
  lastActivityAt: number;
}

/**
 * Memberships with something for a digest: a direct chat with unread messages, or any
 * conversation with a mention of the member (or `@all`), after both the member's read position
 * and what an earlier digest covered (`digest_ordinal`). Users with an address only.
 */
export async function findDigestCandidates(db: Db, limit: number): Promise<DigestCandidate[]> {
  const covered = sql`case when m.read_ordinal > m.digest_ordinal then m.read_ordinal else m.digest_ordinal end`;
  const mentions = sql<number>`(select count(*) from mention mn where mn.conversation_id = m.conversation_id
    and mn.actor_id in (m.actor_id, 0) and mn.sender_id <> m.actor_id and mn.ordinal > ${covered})`;
  const rows = await db
    .selectFrom('membership as m')
    .innerJoin('conversation as c', 'c.id', 'm.conversation_id')
    .innerJoin('actor as a', 'a.id', 'm.actor_id')
    .leftJoin('actor_notify as n', 'n.actor_id', 'm.actor_id')
    .select([
      'm.actor_id',
      'm.org_id',
      'a.email',
      'a.name',
      'a.created_at',
      'n.digest_minutes',
      'm.conversation_id',
      'c.kind',
      'c.title',
      'c.message_count',
      'c.last_activity_at',
      sql<number>`c.message_count - m.read_ordinal - m.unread_excluded`.as('unread'),
      sql<number>`c.message_count - ${covered}`.as('unread_new'),
      mentions.as('mentions_new'),
    ])
    .where('m.left_at', 'is', null)
    .where('c.deleted_at', 'is', null)
    .where('a.kind', '=', 'user')
    .where('a.active', '=', 1)
    .where('a.email', 'is not', null)
    .where(sql<boolean>`c.message_count > ${covered}`)
    .where(sql<boolean>`c.message_count - m.read_ordinal - m.unread_excluded > 0`)
    .where((eb) => eb.or([eb('c.kind', '=', 'direct'), eb(mentions, '>', 0)]))
    .where((eb) => eb.or([eb('n.digest_minutes', 'is', null), eb('n.digest_minutes', '>', 0)]))
    .orderBy('m.actor_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    actorId: String(r.actor_id),
    orgId: String(r.org_id),
    email: r.email as string,
    name: r.name,
    createdAt: Number(r.created_at),
    digestMinutes: r.digest_minutes === null ? null : Number(r.digest_minutes),
    conversationId: String(r.conversation_id),
    kind: r.kind,
    title: r.title,
    messageCount: Number(r.message_count),
    unreadNew: Math.min(Number(r.unread), Number(r.unread_new)),
    mentionsNew: Number(r.mentions_new),
    lastActivityAt: Number(r.last_activity_at),
  }));
}

/**
 * Marks a conversation covered by a digest up to `ordinal`; false when another node (or an
 * earlier run) covered it already, so the same unread is never mailed twice.
 */
export async function markDigested(
  db: Db,
  conversationId: string,
  actorId: string,
  ordinal: number,
): Promise<boolean> {
  const res = await db
    .updateTable('membership')
    .set({ digest_ordinal: ordinal })
    .where('conversation_id', '=', conversationId)
    .where('actor_id', '=', actorId)
    .where('digest_ordinal', '<', ordinal)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export function recordDigestSent(db: Db, orgId: string, actorId: string, at: number): Promise<void> {
  return upsertNotify(db, orgId, actorId, { digest_sent_at: at });
}

/** Unsubscribes: digest off for this user (idempotent). */
export async function disableDigest(db: Db, orgId: string, actorId: string): Promise<void> {
  await upsertDigestMinutes(db, orgId, actorId, 0);
}
