import type { Db } from '../schema.ts';

/** Who shares a conversation with whom (presence's audience and visibility). */

/** At most this many peers are told of one actor's presence change. */
const MAX_PEERS = 5_000;

/** The current members of conversations (not in the recycle bin) that `actorId` is currently in. */
function sharing(db: Db, orgId: string, actorId: string) {
  return db
    .selectFrom('membership as a')
    .innerJoin('membership as b', 'b.conversation_id', 'a.conversation_id')
    .innerJoin('conversation as c', 'c.id', 'a.conversation_id')
    .select('b.actor_id')
    .distinct()
    .where('a.actor_id', '=', actorId)
    .where('a.org_id', '=', orgId)
    .where('a.left_at', 'is', null)
    .where('b.left_at', 'is', null)
    .where('c.deleted_at', 'is', null);
}

/** The actors (other than `actorId`) who are current members of a conversation with them. */
export async function findPeers(db: Db, orgId: string, actorId: string): Promise<string[]> {
  const rows = await sharing(db, orgId, actorId)
    .where('b.actor_id', '<>', actorId)
    .limit(MAX_PEERS)
    .execute();
  return rows.map((r) => String(r.actor_id));
}

/** Which of `others` share a current conversation with `actorId`. */
export async function sharesConversationWith(
  db: Db,
  orgId: string,
  actorId: string,
  others: readonly string[],
): Promise<Set<string>> {
  if (others.length === 0) return new Set();
  const rows = await sharing(db, orgId, actorId).where('b.actor_id', 'in', others).execute();
  return new Set(rows.map((r) => String(r.actor_id)));
}
