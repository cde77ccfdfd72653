import { sql } from 'kysely';
import type { Db } from '../../context.ts';
import type { DomainEvent, EventType } from '../../domain/events.ts';
import { prepared, type Slots } from '../prepared.ts';

/**
 * Takes the next `count` sequence numbers of an org inside the caller's transaction. The
 * row update serializes concurrent writers of one org, so numbers follow commit order.
 */
const takeEventSeq = prepared((db, p: Slots<'orgId' | 'count'>) =>
  db
    .insertInto('org_event_seq')
    .values({ org_id: p.orgId, last_seq: p.count })
    .onConflict((oc) =>
      oc.column('org_id').doUpdateSet({ last_seq: sql`org_event_seq.last_seq + ${p.count}` }),
    )
    .returning('last_seq'),
);

export async function nextEventSeq(db: Db, orgId: string, count: number): Promise<number> {
  const [row] = await takeEventSeq.execute(db, { orgId, count });
  return Number(row!.last_seq) - count + 1;
}

const insertEventRow = prepared(
  (db, p: Slots<'orgId' | 'seq' | 'type' | 'conversationId' | 'recipients' | 'payload' | 'createdAt'>) =>
    db.insertInto('event').values({
      org_id: p.orgId,
      seq: p.seq,
      type: p.type,
      conversation_id: p.conversationId,
      recipients: p.recipients,
      payload: p.payload,
      created_at: p.createdAt,
    }),
);

export async function insertEvents(db: Db, events: DomainEvent[]): Promise<void> {
  for (const e of events) {
    await insertEventRow.execute(db, {
      orgId: e.orgId,
      seq: e.seq,
      type: e.type,
      conversationId: e.conversationId,
      recipients: JSON.stringify(e.recipients),
      payload: JSON.stringify(e.payload),
      createdAt: e.createdAt,
    });
  }
}

/** Events of an org after `afterSeq`, oldest first (catch-up). */
export async function listEventsAfter(
  db: Db,
  orgId: string,
  afterSeq: number,
  limit: number,
): Promise<DomainEvent[]> {
  const rows = await db
    .selectFrom('event')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

/** The events of an org with seq in [fromSeq, toSeq], oldest first. */
export async function listEventsBetween(
  db: Db,
  orgId: string,
  fromSeq: number,
  toSeq: number,
): Promise<DomainEvent[]> {
  const rows = await db
    .selectFrom('event')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('seq', '>=', fromSeq)
    .where('seq', '<=', toSeq)
    .orderBy('seq')
    .execute();
  return rows.map(toEvent);
}

/** The last sequence number an org has handed out (0 when none). */
export async function findLastEventSeq(db: Db, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('org_event_seq')
    .select('last_seq')
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return row ? Number(row.last_seq) : 0;
}

/** The last sequence number of each of these orgs (orgs that never had an event are absent). */
export async function findLastEventSeqs(db: Db, orgIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < orgIds.length; i += 500) {
    const rows = await db
      .selectFrom('org_event_seq')
      .select(['org_id', 'last_seq'])
      .where('org_id', 'in', orgIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(String(r.org_id), Number(r.last_seq));
  }
  return out;
}

/** The oldest event still kept for an org, or undefined when none is. */
export async function findOldestEventSeq(db: Db, orgId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('event')
    .select((eb) => eb.fn.min('seq').as('min'))
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return row?.min == null ? undefined : Number(row.min);
}

/** Drops events older than `before` (epoch ms); returns how many. */
export async function deleteEventsBefore(db: Db, before: number): Promise<number> {
  const res = await db.deleteFrom('event').where('created_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Removes every event that concerns a conversation (used when it is purged). */
export async function deleteConversationEvents(db: Db, conversationId: string): Promise<number> {
  const res = await db.deleteFrom('event').where('conversation_id', '=', conversationId).executeTakeFirst();
  return Number(res.numDeletedRows);
}

function toEvent(r: {
  org_id: unknown;
  seq: unknown;
  type: string;
  conversation_id: unknown;
  recipients: string;
  payload: string;
  created_at: unknown;
}): DomainEvent {
  return {
    orgId: String(r.org_id),
    seq: Number(r.seq),
    type: r.type as EventType,
    conversationId: r.conversation_id === null ? null : String(r.conversation_id),
    recipients: JSON.parse(r.recipients) as string[],
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    createdAt: Number(r.created_at),
  };
}
