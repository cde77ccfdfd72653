import { type SelectQueryBuilder, sql } from 'kysely';
import type { DeletionJob, DeletionJobStatus, DeletionSelector } from '../../domain/deletion-jobs.ts';
import type { ConversationKind, SupportState } from '../../domain/model.ts';
import type { Database, Db, DeletionJobTable } from '../schema.ts';

/** Deletion jobs: their rows, the runner's claim, and the conversations a job selects. */

const optNum = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toSelector(json: string): DeletionSelector {
  const s = JSON.parse(json) as Record<string, unknown>;
  if (s.kind === 'conversations')
    return { kind: 'conversations', conversationIds: (s.conversation_ids as unknown[]).map(String) };
  if (s.kind === 'org') return { kind: 'org' };
  if (s.kind === 'customer')
    return {
      kind: 'customer',
      customerId: String(s.customer_id),
      actorId: String(s.actor_id),
      startDate: String(s.start_date),
      endDate: String(s.end_date),
    };
  throw new Error(`unknown deletion selector kind ${String(s.kind)}`);
}

function selectorJson(s: DeletionSelector): string {
  return JSON.stringify(
    s.kind === 'conversations'
      ? { kind: s.kind, conversation_ids: s.conversationIds }
      : s.kind === 'org'
        ? { kind: s.kind }
        : {
            kind: s.kind,
            customer_id: s.customerId,
            actor_id: s.actorId,
            start_date: s.startDate,
            end_date: s.endDate,
          },
  );
}

/** Row -> job. Throws when the stored selector cannot be read (the runner fails such a job). */
export function toDeletionJob(r: DeletionJobTable): DeletionJob {
  return {
    id: r.id,
    orgId: String(r.org_id),
    requestedBy: r.requested_by === null ? null : String(r.requested_by),
    requestedByApp: optNum(r.requested_by_app),
    selector: toSelector(r.selector),
    dryRun: Number(r.dry_run) === 1,
    status: r.status as DeletionJobStatus,
    notBefore: Number(r.not_before),
    submittedAt: Number(r.submitted_at),
    startedAt: optNum(r.started_at),
    finishedAt: optNum(r.finished_at),
    conversationsTotal: optNum(r.conversations_total),
    counts: {
      conversationsDeleted: Number(r.conversations_deleted),
      messagesDeleted: Number(r.messages_deleted),
      conversationsSkipped: Number(r.conversations_skipped),
    },
    error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
    attempts: Number(r.attempts),
  };
}

/** Inserts a new job. */
export async function insertDeletionJob(db: Db, j: DeletionJob): Promise<void> {
  await db
    .insertInto('deletion_job')
    .values({
      id: j.id,
      org_id: j.orgId,
      requested_by: j.requestedBy,
      requested_by_app: j.requestedByApp,
      selector: selectorJson(j.selector),
      dry_run: j.dryRun ? 1 : 0,
      status: j.status,
      not_before: j.notBefore,
      submitted_at: j.submittedAt,
      started_at: null,
      finished_at: null,
      conversations_total: null,
      conversations_deleted: 0,
      messages_deleted: 0,
      conversations_skipped: 0,
      cursor: null,
      chunk: null,
      claimed_by: null,
      heartbeat_at: null,
      attempts: 0,
      error_code: null,
      error_message: null,
    })
    .execute();
}

/** A job of the org, as stored (or undefined). */
export async function findDeletionJobRow(
  db: Db,
  orgId: string,
  id: string,
): Promise<DeletionJobTable | undefined> {
  return db
    .selectFrom('deletion_job')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** A job by id, whatever its org (the runner's view). */
export async function findDeletionJobById(db: Db, id: string): Promise<DeletionJobTable | undefined> {
  return db.selectFrom('deletion_job').selectAll().where('id', '=', id).executeTakeFirst();
}

/** One page of the org's jobs, newest first (keyset on submitted time and id). */
export async function listDeletionJobRows(
  db: Db,
  orgId: string,
  opts: {
    status?: DeletionJobStatus | undefined;
    before?: { submittedAt: number; id: string } | undefined;
    limit: number;
  },
): Promise<DeletionJobTable[]> {
  let q = db.selectFrom('deletion_job').selectAll().where('org_id', '=', orgId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.before) {
    const b = opts.before;
    q = q.where((eb) =>
      eb.or([
        eb('submitted_at', '<', b.submittedAt),
        eb.and([eb('submitted_at', '=', b.submittedAt), eb('id', '<', b.id)]),
      ]),
    );
  }
  return q.orderBy('submitted_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
}

/** Cancels a job that is still queued (compare-and-set); returns the row, or undefined when it was not queued. */
export async function cancelQueuedJob(
  db: Db,
  orgId: string,
  id: string,
  now: number,
): Promise<DeletionJobTable | undefined> {
  return db
    .updateTable('deletion_job')
    .set({ status: 'cancelled', finished_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .returningAll()
    .executeTakeFirst();
}

/**
 * Moves the start of the org's jobs that wait for its window (its window changed): queued ones,
 * and running ones no runner holds (paused when the window closed). Dry runs ignore the window.
 */
export async function rescheduleWaitingJobs(db: Db, orgId: string, notBefore: number): Promise<void> {
  await db
    .updateTable('deletion_job')
    .set({ not_before: notBefore })
    .where('org_id', '=', orgId)
    .where('dry_run', '=', 0)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'queued'),
        eb.and([eb('status', '=', 'running'), eb('claimed_by', 'is', null)]),
      ]),
    )
    .execute();
}

/**
 * In the caller's transaction: up to `limit` jobs a runner may take now, oldest first: queued
 * ones, and running ones nobody holds (released, heartbeat older than `staleBefore`, or held by
 * a dead earlier process of this node: `claimed_by` starts with `nodePrefix` but is not `me`).
 * Rows another node is claiming are skipped when the database can (`skipLocked`).
 */
export async function findClaimableJobs(
  db: Db,
  opts: {
    now: number;
    staleBefore: number;
    nodePrefix: string;
    me: string;
    limit: number;
    skipLocked: boolean;
  },
): Promise<DeletionJobTable[]> {
  let q = db
    .selectFrom('deletion_job')
    .selectAll()
    .where('not_before', '<=', opts.now)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'queued'),
        eb.and([
          eb('status', '=', 'running'),
          eb.or([
            eb('claimed_by', 'is', null),
            eb('heartbeat_at', '<', opts.staleBefore),
            eb.and([eb('claimed_by', 'like', `${opts.nodePrefix}%`), eb('claimed_by', '!=', opts.me)]),
          ]),
        ]),
      ]),
    )
    .orderBy('submitted_at')
    .orderBy('id')
    .limit(opts.limit);
  if (opts.skipLocked) q = q.forUpdate().skipLocked();
  return q.execute();
}

/**
 * Takes a job for `me` by compare-and-set on the claim it was seen with: queued becomes
 * running (started now). Returns the row, or undefined when another runner took it first.
 */
export async function claimJob(
  db: Db,
  row: Pick<DeletionJobTable, 'id' | 'status' | 'claimed_by'>,
  me: string,
  now: number,
): Promise<DeletionJobTable | undefined> {
  let q = db
    .updateTable('deletion_job')
    .set({
      status: 'running',
      claimed_by: me,
      heartbeat_at: now,
      started_at: sql`coalesce(started_at, ${now})`,
    })
    .where('id', '=', row.id)
    .where('status', '=', row.status);
  q =
    row.claimed_by === null ? q.where('claimed_by', 'is', null) : q.where('claimed_by', '=', row.claimed_by);
  return q.returningAll().executeTakeFirst();
}

export interface ProgressChange {
  conversationsTotal?: number;
  addConversationsDeleted?: number;
  addMessagesDeleted?: number;
  addConversationsSkipped?: number;
  cursor?: string | null;
  chunk?: readonly string[] | null;
  attempts?: number;
}

/**
 * Records progress (and the heartbeat) of a job `me` holds, in the caller's transaction;
 * false when `me` no longer holds it, so the caller rolls its work back.
 */
export async function recordJobProgress(
  db: Db,
  id: string,
  me: string,
  now: number,
  c: ProgressChange,
): Promise<boolean> {
  const values: Record<string, unknown> = { heartbeat_at: now };
  if (c.conversationsTotal !== undefined) values.conversations_total = c.conversationsTotal;
  if (c.addConversationsDeleted)
    values.conversations_deleted = sql`conversations_deleted + ${c.addConversationsDeleted}`;
  if (c.addMessagesDeleted) values.messages_deleted = sql`messages_deleted + ${c.addMessagesDeleted}`;
  if (c.addConversationsSkipped)
    values.conversations_skipped = sql`conversations_skipped + ${c.addConversationsSkipped}`;
  if (c.cursor !== undefined) values.cursor = c.cursor;
  if (c.chunk !== undefined) values.chunk = c.chunk === null ? null : JSON.stringify(c.chunk);
  if (c.attempts !== undefined) values.attempts = c.attempts;
  const res = await db
    .updateTable('deletion_job')
    .set(values)
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('claimed_by', '=', me)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Lets go of a running job (shutdown, window closed, or a failure to retry) so any runner may take it from `notBefore`. */
export async function releaseJob(
  db: Db,
  id: string,
  me: string,
  v: { notBefore: number; attempts?: number; error?: { code: string; message: string } },
): Promise<void> {
  const values: Record<string, unknown> = { claimed_by: null, heartbeat_at: null, not_before: v.notBefore };
  if (v.attempts !== undefined) values.attempts = v.attempts;
  if (v.error) {
    values.error_code = v.error.code;
    values.error_message = v.error.message;
  }
  await db
    .updateTable('deletion_job')
    .set(values)
    .where('id', '=', id)
    .where('claimed_by', '=', me)
    .execute();
}

/** Ends a job `me` holds (completed or failed); returns the final row, or undefined when `me` lost it. */
export async function finishJob(
  db: Db,
  id: string,
  me: string,
  v: {
    status: 'completed' | 'failed';
    now: number;
    error?: { code: string; message: string } | undefined;
    attempts?: number | undefined;
  },
): Promise<DeletionJobTable | undefined> {
  return db
    .updateTable('deletion_job')
    .set({
      ...(v.attempts === undefined ? {} : { attempts: v.attempts }),
      status: v.status,
      finished_at: v.now,
      claimed_by: null,
      heartbeat_at: null,
      chunk: null,
      error_code: v.error?.code ?? null,
      error_message: v.error?.message ?? null,
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('claimed_by', '=', me)
    .returningAll()
    .executeTakeFirst();
}

/* The conversations a job selects. */

export interface JobTarget {
  id: string;
  kind: ConversationKind;
  state: SupportState | null;
}

const toTarget = (r: { id: unknown; kind: string; state?: string | null | undefined }): JobTarget => ({
  id: String(r.id),
  kind: r.kind as ConversationKind,
  state: (r.state ?? null) as SupportState | null,
});

/** The org's conversations among `ids`, in the bin or not (purged ones are gone). */
export async function findOrgConversations(
  db: Db,
  orgId: string,
  ids: readonly string[],
): Promise<JobTarget[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('conversation')
    .select(['id', 'kind', 'state'])
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .execute();
  return rows.map(toTarget);
}

type TargetQuery = SelectQueryBuilder<Database, 'conversation', { id: string }>;

/** The selector's conversations as a query (ids or the customer's support and direct chats in range). */
function targetQuery(
  db: Db,
  orgId: string,
  s:
    | { kind: 'conversations'; conversationIds: readonly string[] }
    | { kind: 'org' }
    | { kind: 'customer'; actorId: string; from: number; to: number },
): TargetQuery {
  const q = db.selectFrom('conversation').select('conversation.id').where('conversation.org_id', '=', orgId);
  if (s.kind === 'org') return q;
  if (s.kind === 'conversations') return q.where('conversation.id', 'in', s.conversationIds);
  return q
    .where('conversation.created_at', '>=', s.from)
    .where('conversation.created_at', '<=', s.to)
    .where((eb) =>
      eb.or([
        eb.and([eb('conversation.kind', '=', 'support'), eb('conversation.visitor_id', '=', s.actorId)]),
        eb.and([
          eb('conversation.kind', '=', 'direct'),
          eb.exists(
            eb
              .selectFrom('membership')
              .select('membership.actor_id')
              .whereRef('membership.conversation_id', '=', 'conversation.id')
              .where('membership.actor_id', '=', s.actorId),
          ),
        ]),
      ]),
    );
}

export type TargetSpec = Parameters<typeof targetQuery>[2];

/** How many conversations the selector matches now. */
export async function countTargets(db: Db, orgId: string, spec: TargetSpec): Promise<number> {
  if (spec.kind === 'conversations' && spec.conversationIds.length === 0) return 0;
  const row = await db
    .selectFrom(targetQuery(db, orgId, spec).as('t'))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The next `limit` matching conversations after `cursor`, in id order. */
export async function nextTargets(
  db: Db,
  orgId: string,
  spec: TargetSpec,
  cursor: string | null,
  limit: number,
): Promise<JobTarget[]> {
  if (spec.kind === 'conversations' && spec.conversationIds.length === 0) return [];
  let q = db
    .selectFrom('conversation')
    .select(['id', 'kind', 'state'])
    .where('id', 'in', targetQuery(db, orgId, spec));
  if (cursor !== null) q = q.where('id', '>', cursor);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map(toTarget);
}

/**
 * Hides conversations for a job: deleted now (if not already), out of the recycle bin
 * (`purge_at` NULL: nobody can restore them and the retention purge leaves them to the job).
 * Every read and list already skips deleted conversations.
 */
export async function hideForJob(
  db: Db,
  orgId: string,
  ids: readonly string[],
  v: { now: number; deletedBy: string | null },
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('conversation')
    .set({
      deleted_at: sql`coalesce(deleted_at, ${v.now})`,
      deleted_by: sql`coalesce(deleted_by, ${v.deletedBy})`,
      purge_at: null,
      updated_at: v.now,
    })
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .execute();
}

/** Makes the job's hidden conversations due for purging now (in the purge's own transaction). */
export async function makeDueNow(db: Db, orgId: string, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('conversation')
    .set({ purge_at: now })
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .where('deleted_at', 'is not', null)
    .execute();
}

/** How many messages the conversations hold. */
export async function countMessagesOf(db: Db, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const row = await db
    .selectFrom('message')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('conversation_id', 'in', ids)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The org's active owners and admins (who hear about jobs). */
export async function findOrgAdminIds(db: Db, orgId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('actor')
    .select('id')
    .where('org_id', '=', orgId)
    .where('kind', '=', 'user')
    .where('role', 'in', ['owner', 'admin'])
    .where('active', '=', 1)
    .execute();
  return rows.map((r) => String(r.id));
}

/** The org's active owners that have an email address. */
export async function findOrgOwnerContacts(
  db: Db,
  orgId: string,
): Promise<{ name: string; email: string }[]> {
  const rows = await db
    .selectFrom('actor')
    .select(['name', 'email'])
    .where('org_id', '=', orgId)
    .where('kind', '=', 'user')
    .where('role', '=', 'owner')
    .where('active', '=', 1)
    .where('email', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ name: r.name, email: r.email! }));
}

/**
 * On the embedded database: checkpoints the write-ahead log now (PASSIVE: as far as it can
 * without waiting for anyone). A job calls it after each step, so the pages its deletes wrote
 * are copied back by the job, inside its own time budget, instead of by the next live commit
 * that crosses the auto-checkpoint threshold. A no-op elsewhere.
 */
export async function checkpointLog(db: Db, embedded: boolean): Promise<void> {
  if (embedded) await sql`PRAGMA wal_checkpoint(PASSIVE)`.execute(db);
}
