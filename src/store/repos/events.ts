import { PostgresAdapter, sql } from 'kysely';
import { carriedMessageId, type DomainEvent, type EventType } from '../../domain/events.ts';
import { prepared, type Slots } from '../prepared.ts';
import type { Db } from '../schema.ts';

/**
 * The event log and its positions.
 *
 * Every stored event has a position (`seq`) in ONE log for the whole store. Positions only
 * grow, are never reused, and need no lock that writers share, so writers of one org (and of
 * many nodes) commit in parallel. Readers (catch-up, the gateways' tail) read only below a
 * *horizon*: a position under which no transaction can still add an event. Reading up to the
 * horizon and remembering the last position read is then exact: nothing missed, nothing read
 * twice, even when a transaction holding a lower position commits after one holding a higher.
 *
 * - PostgreSQL: an event's position is its transaction's id (`pg_current_xact_id()`, 64-bit,
 *   assigned at the transaction's first write) shifted left 16 bits, plus the event's index in
 *   the transaction. The horizon is the snapshot's xmin shifted the same way: every
 *   transaction with a smaller id has committed or aborted (PostgreSQL's own visibility rule,
 *   as outbox readers use it). No sequence, no counter row: the only cost is that a long
 *   write transaction holds the horizon (and so live delivery) until it ends, which is why
 *   deletion jobs and purges work in short chunks. Positions stay below 2^53 (exact in JSON)
 *   for 2^37 transactions: 4 years at a sustained 1,000 write transactions a second.
 * - SQLite: `INTEGER PRIMARY KEY AUTOINCREMENT`. There is one writer at a time, so position
 *   order is commit order and everything committed is below the horizon; AUTOINCREMENT never
 *   hands a number out twice, even after the newest rows are purged.
 *
 * Chosen over Synapse's multi-writer stream ids (each writer's in-flight positions, published
 * and merged across nodes: needs liveness tracking of every node) and over per-conversation
 * orders merged per org (positions a client cannot hold as one number).
 */

/** Events one transaction may record: the index takes the low 16 bits of the position (PostgreSQL). */
export const MAX_EVENTS_PER_TRANSACTION = 1 << 16;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

/** The horizon on PostgreSQL: positions below it are settled (committed or never will be). */
const PG_HORIZON = sql<number>`(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16)`;

type EventSlots = Slots<
  | 'orgId'
  | 'index'
  | 'type'
  | 'conversationId'
  | 'recipients'
  | 'toMembers'
  | 'payload'
  | 'createdAt'
  | 'messageId'
>;
const eventValues = (p: EventSlots) => ({
  org_id: p.orgId,
  type: p.type,
  conversation_id: p.conversationId,
  recipients: p.recipients,
  to_members: p.toMembers,
  payload: p.payload,
  created_at: p.createdAt,
  message_id: p.messageId,
});

const insertPg = prepared((db, p: EventSlots) =>
  db
    .insertInto('event')
    .values({ seq: sql<number>`(pg_current_xact_id()::text::bigint << 16) + ${p.index}`, ...eventValues(p) })
    .returning('seq'),
);
const insertSqlite = prepared((db, p: EventSlots) =>
  db.insertInto('event').values(eventValues(p)).returning('seq'),
);

export type UnnumberedEvent = Omit<DomainEvent, 'seq'>;

/**
 * The message an event carries (indexed for redaction, repos/redaction.ts). The index is
 * (conversation_id, message_id), so an event that carries a message must name its conversation.
 */
function messageIdOf(e: UnnumberedEvent): string | null {
  const id = carriedMessageId(e.payload);
  if (id !== null && e.conversationId === null)
    throw new Error(`${e.type}: an event that carries a message names its conversation`);
  return id;
}

/**
 * Stores events in the caller's transaction and gives them their positions. `firstIndex` is
 * how many events the transaction stored before these (the low bits on PostgreSQL).
 */
export async function insertEvents(
  db: Db,
  events: readonly UnnumberedEvent[],
  firstIndex: number,
): Promise<DomainEvent[]> {
  if (firstIndex + events.length > MAX_EVENTS_PER_TRANSACTION)
    throw new Error(`one transaction may record at most ${MAX_EVENTS_PER_TRANSACTION} events`);
  const insert = isPostgres(db) ? insertPg : insertSqlite;
  const out: DomainEvent[] = [];
  for (const [i, e] of events.entries()) {
    const [row] = await insert.execute(db, {
      orgId: e.orgId,
      index: firstIndex + i,
      type: e.type,
      conversationId: e.conversationId,
      recipients: JSON.stringify(e.recipients),
      toMembers: e.audience === 'members' ? 1 : 0,
      payload: JSON.stringify(e.payload),
      createdAt: e.createdAt,
      messageId: messageIdOf(e),
    });
    out.push({ ...e, seq: Number(row!.seq) });
  }
  return out;
}

/** Bounds a read of the log at the horizon (PostgreSQL) or at `below` (a caller's bound), whichever is lower. */
function belowHorizon<Q extends { where: (...a: any[]) => Q }>(db: Db, q: Q, below: number | undefined): Q {
  let out = q;
  if (isPostgres(db)) out = out.where('seq', '<', PG_HORIZON);
  if (below !== undefined) out = out.where('seq', '<', below);
  return out;
}

/**
 * The positions and orgs of the settled events after `afterSeq` (below `below` when given),
 * oldest first: the gateways' tail read, index-only.
 */
export async function listEventTail(
  db: Db,
  afterSeq: number,
  limit: number,
  below?: number,
): Promise<{ seq: number; orgId: string }[]> {
  const q = db.selectFrom('event').select(['seq', 'org_id']).where('seq', '>', afterSeq);
  const rows = await belowHorizon(db, q, below).orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ seq: Number(r.seq), orgId: String(r.org_id) }));
}

/** The events at these positions, oldest first. */
export async function listEventsAt(db: Db, seqs: readonly number[]): Promise<DomainEvent[]> {
  if (seqs.length === 0) return [];
  const rows = await db.selectFrom('event').selectAll().where('seq', 'in', seqs).orderBy('seq').execute();
  return rows.map(toEvent);
}

/** An org's settled events after `afterSeq`, oldest first (catch-up). */
export async function listEventsAfter(
  db: Db,
  orgId: string,
  afterSeq: number,
  limit: number,
): Promise<DomainEvent[]> {
  const q = db.selectFrom('event').selectAll().where('org_id', '=', orgId).where('seq', '>', afterSeq);
  const rows = await belowHorizon(db, q, undefined).orderBy('seq').limit(limit).execute();
  return rows.map(toEvent);
}

/**
 * The last settled position handed out (0 when none): the highest stored below the horizon,
 * or a higher one whose events were since removed.
 */
export async function findLastEventSeq(db: Db): Promise<number> {
  const q = db.selectFrom('event').select('seq');
  const [top, log] = await Promise.all([
    belowHorizon(db, q, undefined).orderBy('seq', 'desc').limit(1).executeTakeFirst(),
    db.selectFrom('event_log').select('removed_max').where('id', '=', 1).executeTakeFirst(),
  ]);
  return Math.max(Number(top?.seq ?? 0), Number(log?.removed_max ?? 0));
}

/** The newest position stored, settled or not (0 when none). */
export async function findNewestEventSeq(db: Db): Promise<number> {
  const row = await db.selectFrom('event').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** The horizon now: every position below it is settled (all of them on SQLite). */
export async function findEventHorizon(db: Db): Promise<number> {
  if (!isPostgres(db)) return Number.MAX_SAFE_INTEGER;
  const { rows } = await sql<{ h: string | number }>`select ${PG_HORIZON} as h`.execute(db);
  return Number(rows[0]!.h);
}

/**
 * The conversations among `conversationIds` that `actorId` belongs to, with when they joined and
 * left (catch-up of events addressed to a conversation's members).
 */
export async function findMembershipSpans(
  db: Db,
  actorId: string,
  conversationIds: readonly string[],
): Promise<Map<string, { joinedAt: number; leftAt: number | null }>> {
  const out = new Map<string, { joinedAt: number; leftAt: number | null }>();
  if (conversationIds.length === 0) return out;
  const rows = await db
    .selectFrom('membership')
    .select(['conversation_id', 'joined_at', 'left_at'])
    .where('actor_id', '=', actorId)
    .where('conversation_id', 'in', conversationIds)
    .execute();
  for (const r of rows)
    out.set(String(r.conversation_id), {
      joinedAt: Number(r.joined_at),
      leftAt: r.left_at === null ? null : Number(r.left_at),
    });
  return out;
}

/** Positions up to this one may have been dropped by retention (0 when none were). */
export async function findDroppedUpto(db: Db): Promise<number> {
  const row = await db.selectFrom('event_log').select('dropped_upto').where('id', '=', 1).executeTakeFirst();
  return Number(row?.dropped_upto ?? 0);
}

async function noteRemoved(db: Db, maxSeq: number | null, dropped: boolean): Promise<void> {
  if (maxSeq === null) return;
  const greatest = (col: 'dropped_upto' | 'removed_max') =>
    sql<number>`case when ${sql.ref(col)} > ${maxSeq} then ${sql.ref(col)} else ${maxSeq} end`;
  await db
    .updateTable('event_log')
    .set(
      dropped
        ? { dropped_upto: greatest('dropped_upto'), removed_max: greatest('removed_max') }
        : { removed_max: greatest('removed_max') },
    )
    .where('id', '=', 1)
    .execute();
}

async function maxSeqWhere(
  db: Db,
  filter: (q: ReturnType<typeof selectMax>) => ReturnType<typeof selectMax>,
): Promise<number | null> {
  const row = await filter(selectMax(db)).executeTakeFirst();
  return row?.max == null ? null : Number(row.max);
}
const selectMax = (db: Db) => db.selectFrom('event').select((eb) => eb.fn.max('seq').as('max'));

/**
 * Drops events created before `before` (epoch ms); returns how many. Clients whose `since`
 * is below the highest dropped position must resync.
 *
 * No index on `created_at` (every event would pay an entry for it): the sweep walks the log by
 * position from the oldest event, and the first event at or after `before` in that order
 * bounds it. Positions grow with time (on PostgreSQL a transaction's id, taken at its first
 * write; on SQLite the commit order), so this reads what it deletes and one row more. An event
 * below the bound that is younger than `before` (its transaction took its position earlier and
 * its time later) stays, and an older one above the bound waits for a later sweep: the log
 * keeps at least the retention, never less.
 */
export async function deleteEventsBefore(db: Db, before: number): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const bound = await tx
      .selectFrom('event')
      .select('seq')
      .where('created_at', '>=', before)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    const upTo = bound === undefined ? null : Number(bound.seq);
    const max = await maxSeqWhere(tx, (q) => {
      const old = q.where('created_at', '<', before);
      return upTo === null ? old : old.where('seq', '<', upTo);
    });
    if (max === null) return 0;
    let del = tx.deleteFrom('event').where('created_at', '<', before);
    if (upTo !== null) del = del.where('seq', '<', upTo);
    const res = await del.executeTakeFirst();
    await noteRemoved(tx, max, true);
    return Number(res.numDeletedRows);
  });
}

/** Removes every event of these conversations (they are purged); in the caller's transaction. */
export async function deleteConversationEvents(db: Db, conversationIds: readonly string[]): Promise<number> {
  if (conversationIds.length === 0) return 0;
  const max = await maxSeqWhere(db, (q) => q.where('conversation_id', 'in', conversationIds));
  if (max === null) return 0;
  const res = await db.deleteFrom('event').where('conversation_id', 'in', conversationIds).executeTakeFirst();
  await noteRemoved(db, max, false);
  return Number(res.numDeletedRows);
}

function toEvent(r: {
  org_id: unknown;
  seq: unknown;
  type: string;
  conversation_id: unknown;
  recipients: string;
  to_members?: unknown;
  payload: string;
  created_at: unknown;
}): DomainEvent {
  return {
    ...(Number(r.to_members) === 1 ? { audience: 'members' as const } : {}),
    orgId: String(r.org_id),
    seq: Number(r.seq),
    type: r.type as EventType,
    conversationId: r.conversation_id === null ? null : String(r.conversation_id),
    recipients: JSON.parse(r.recipients) as string[],
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    createdAt: Number(r.created_at),
  };
}

/** Removes every event of an org (it is being erased, services/instance-admin.ts); in the caller's transaction. */
export async function deleteOrgEvents(db: Db, orgId: string): Promise<number> {
  const max = await maxSeqWhere(db, (q) => q.where('org_id', '=', orgId));
  if (max === null) return 0;
  const res = await db.deleteFrom('event').where('org_id', '=', orgId).executeTakeFirst();
  await noteRemoved(db, max, false);
  return Number(res.numDeletedRows);
}
