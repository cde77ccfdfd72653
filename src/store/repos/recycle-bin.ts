import { sql } from 'kysely';
import type { ConversationKind, SupportChat, SupportState, VisitorChannel } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
import { deleteConversationEvents } from './events.ts';
import { deleteAnswersQuoting } from './idempotency.ts';
import { toSupportChat } from './rows.ts';

/** The recycle bin: moving conversations in and out, and purging them for good. */

export interface DeletionCandidate {
  id: string;
  kind: ConversationKind;
  state: SupportState | null;
  visitorId: string | null;
  ownerId: string | null;
  attenderId: string | null;
  channel: VisitorChannel | null;
  /** Whether the actor asking is a current member. */
  isMember: boolean;
}

/**
 * The conversations among `ids` that exist in the org and are not in the bin, with what the
 * bulk-delete access check needs, in one query (not one per id).
 */
export async function findDeletionCandidates(
  db: Db,
  orgId: string,
  actorId: string,
  ids: readonly string[],
): Promise<DeletionCandidate[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('conversation as c')
    .leftJoin('membership as m', (j) =>
      j.onRef('m.conversation_id', '=', 'c.id').on('m.actor_id', '=', actorId).on('m.left_at', 'is', null),
    )
    .select([
      'c.id',
      'c.kind',
      'c.state',
      'c.visitor_id',
      'c.owner_id',
      'c.attender_id',
      'c.channel',
      'm.actor_id as member_id',
    ])
    .where('c.org_id', '=', orgId)
    .where('c.id', 'in', ids)
    .where('c.deleted_at', 'is', null)
    .execute();
  const opt = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return rows.map((r) => ({
    id: String(r.id),
    kind: r.kind as ConversationKind,
    state: (r.state ?? null) as SupportState | null,
    visitorId: opt(r.visitor_id),
    ownerId: opt(r.owner_id),
    attenderId: opt(r.attender_id),
    channel: (r.channel ?? null) as VisitorChannel | null,
    isMember: r.member_id !== null && r.member_id !== undefined,
  }));
}

/**
 * Moves closed support chats to the bin by compare-and-set (not yet deleted, still closed), so a
 * concurrent delete of the same id counts once. Returns the chats moved.
 */
export async function moveToBin(
  db: Db,
  orgId: string,
  ids: readonly string[],
  v: { now: number; purgeAt: number; deletedBy: string },
): Promise<SupportChat[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('conversation')
    .set({ deleted_at: v.now, purge_at: v.purgeAt, deleted_by: v.deletedBy, updated_at: v.now })
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .where('kind', '=', 'support')
    .where('deleted_at', 'is', null)
    .where('state', 'in', ['ended', 'missed'])
    .returningAll()
    .execute();
  return rows.map(toSupportChat);
}

/** One page of the org's bin, most recently deleted first; chats already due for purging are gone. */
export async function listBin(
  db: Db,
  orgId: string,
  opts: { now: number; after?: { deletedAt: number; id: string } | undefined; limit: number },
): Promise<SupportChat[]> {
  let q = db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('deleted_at', 'is not', null)
    .where('purge_at', '>', opts.now);
  if (opts.after) {
    const a = opts.after;
    q = q.where((eb) =>
      eb.or([
        eb('deleted_at', '<', a.deletedAt),
        eb.and([eb('deleted_at', '=', a.deletedAt), eb('id', '<', a.id)]),
      ]),
    );
  }
  const rows = await q.orderBy('deleted_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  return rows.map(toSupportChat);
}

/** Takes conversations out of the bin, unless their purge is already due. Returns those restored. */
export async function restoreFromBin(
  db: Db,
  orgId: string,
  ids: readonly string[],
  now: number,
): Promise<SupportChat[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('conversation')
    .set({ deleted_at: null, purge_at: null, deleted_by: null, updated_at: now })
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .where('deleted_at', 'is not', null)
    .where('purge_at', '>', now)
    .returningAll()
    .execute();
  return rows.map(toSupportChat);
}

/**
 * Makes binned conversations due for purging now (an admin's "purge now"). From then on nothing
 * can restore them, so the purge may delete their rows over several transactions. Returns the ids.
 */
export async function markDueForPurge(
  db: Db,
  orgId: string,
  ids: readonly string[],
  now: number,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('conversation')
    .set({ purge_at: now })
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .where('deleted_at', 'is not', null)
    .where('purge_at', '>', now)
    .returning('id')
    .execute();
  return rows.map((r) => String(r.id));
}

/** Moves the purge time of an org's binned conversations to `deleted_at + retention` (a settings change). */
export async function reschedulePurges(db: Db, orgId: string, retention: number, now: number): Promise<void> {
  await db
    .updateTable('conversation')
    .set({ purge_at: sql`deleted_at + ${retention}` })
    .where('org_id', '=', orgId)
    .where('deleted_at', 'is not', null)
    .where('purge_at', '>', now)
    .execute();
}

/** Up to `limit` conversations due for purging (of one org, or of all), oldest due first. */
export async function findDuePurges(
  db: Db,
  now: number,
  limit: number,
  opts: { orgId?: string | undefined; ids?: readonly string[] | undefined } = {},
): Promise<string[]> {
  let q = db
    .selectFrom('conversation')
    .select('id')
    .where('deleted_at', 'is not', null)
    .where('purge_at', '<=', now);
  if (opts.orgId) q = q.where('org_id', '=', opts.orgId);
  if (opts.ids) {
    if (opts.ids.length === 0) return [];
    q = q.where('id', 'in', opts.ids);
  }
  const rows = await q.orderBy('purge_at').orderBy('id').limit(limit).execute();
  return rows.map((r) => String(r.id));
}

/** Deletes at most `limit` messages of the given (due) conversations; returns how many. */
export async function deleteMessagesBatch(
  db: Db,
  conversationIds: readonly string[],
  limit: number,
): Promise<number> {
  if (conversationIds.length === 0) return 0;
  const res = await db
    .deleteFrom('message')
    .where(
      'id',
      'in',
      db.selectFrom('message').select('id').where('conversation_id', 'in', conversationIds).limit(limit),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** The tables a purge deletes text from (PostgreSQL vacuums them afterwards). */
const PURGED_TABLES = [
  'message',
  'event',
  'webhook_delivery',
  'sticky_message',
  'membership',
  'conversation',
  'idempotency_key',
];

/**
 * After a purge has committed, removes what the database files still hold of the deleted rows,
 * as far as each database can (docs/security.md#erasure). SQLite (with secure_delete on, so the
 * deleted cells and freed pages were zeroed in place): checkpoints the write-ahead log and
 * truncates it, since its earlier frames still hold copies of the pages as they were; answers
 * false when a reader of another process kept it from finishing (the next purge tries again).
 * PostgreSQL: VACUUM of the purged tables (skipping tables another VACUUM holds), which frees
 * the dead tuples and their index entries; it cannot run in a transaction and scans the tables,
 * so callers run it off the request path.
 */
export async function eraseFreedSpace(db: Db, how: 'checkpoint' | 'vacuum'): Promise<boolean> {
  if (how === 'checkpoint') {
    const { rows } = await sql<{ busy: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
    return Number(rows[0]?.busy ?? 0) === 0;
  }
  await sql`VACUUM (SKIP_LOCKED) ${sql.join(PURGED_TABLES.map((t) => sql.table(t)))}`.execute(db);
  return true;
}

export interface PurgedConversation {
  id: string;
  orgId: string;
  kind: string;
  referenceId: string | null;
  deletedAt: number | null;
  deletedBy: string | null;
}

/**
 * In the caller's transaction: locks the due conversations among `ids` (skipping rows another
 * node is purging, when the database can), deletes everything that belongs to them (events,
 * webhook deliveries, pin, messages, members) and then the conversations. Returns what was purged, for the audit.
 */
export async function purgeDue(
  db: Db,
  ids: readonly string[],
  now: number,
  skipLocked: boolean,
): Promise<PurgedConversation[]> {
  if (ids.length === 0) return [];
  let q = db
    .selectFrom('conversation')
    .select(['id', 'org_id', 'kind', 'reference_id', 'deleted_at', 'deleted_by'])
    .where('id', 'in', ids)
    .where('deleted_at', 'is not', null)
    .where('purge_at', '<=', now);
  if (skipLocked) q = q.forUpdate().skipLocked();
  const locked = await q.execute();
  if (locked.length === 0) return [];
  const lockedIds = locked.map((r) => String(r.id));
  await deleteConversationEvents(db, lockedIds);
  // Webhook deliveries carry copies of the events' payloads: they go too.
  await db.deleteFrom('webhook_delivery').where('conversation_id', 'in', lockedIds).execute();
  await db.deleteFrom('sticky_message').where('conversation_id', 'in', lockedIds).execute();
  // Stored answers of idempotent requests (a sent message's JSON) carry copies of the text.
  await deleteAnswersQuoting(
    db,
    locked.map((r) => String(r.org_id)),
    lockedIds,
  );
  await db.deleteFrom('message').where('conversation_id', 'in', lockedIds).execute();
  await db.deleteFrom('membership').where('conversation_id', 'in', lockedIds).execute();
  await db.deleteFrom('conversation').where('id', 'in', lockedIds).execute();
  return locked.map((r) => ({
    id: String(r.id),
    orgId: String(r.org_id),
    kind: r.kind,
    referenceId: r.reference_id === null || r.reference_id === undefined ? null : String(r.reference_id),
    deletedAt: r.deleted_at === null || r.deleted_at === undefined ? null : Number(r.deleted_at),
    deletedBy: r.deleted_by === null || r.deleted_by === undefined ? null : String(r.deleted_by),
  }));
}
