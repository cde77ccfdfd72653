import type { Db } from '../schema.ts';

export interface Peer {
  conversationId: string;
  actorId: string;
  name: string;
  email: string | null;
}

/** The current members of several conversations with their names, in one query. */
export async function findCurrentMembersOf(db: Db, conversationIds: readonly string[]): Promise<Peer[]> {
  if (conversationIds.length === 0) return [];
  const rows = await db
    .selectFrom('membership as m')
    .innerJoin('actor as a', 'a.id', 'm.actor_id')
    .select(['m.conversation_id', 'm.actor_id', 'a.name', 'a.email'])
    .where('m.conversation_id', 'in', conversationIds)
    .where('m.left_at', 'is', null)
    .orderBy('m.conversation_id')
    .orderBy('m.joined_at')
    .execute();
  return rows.map((r) => ({
    conversationId: String(r.conversation_id),
    actorId: String(r.actor_id),
    name: r.name,
    email: r.email,
  }));
}
