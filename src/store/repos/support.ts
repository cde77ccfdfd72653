import { sql } from 'kysely';
import type { Actor, Department, MemberRole, SupportChat, SupportState } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
import { toActor, toDepartment, toSupportChat } from './rows.ts';

/** Departments, operators' departments, support chats and their queue. */

/** Inserts a department; false (nothing inserted) when the org has one of that name. */
export async function insertDepartment(db: Db, d: Department): Promise<boolean> {
  const res = await db
    .insertInto('department')
    .values({ id: d.id, org_id: d.orgId, name: d.name, created_at: d.createdAt })
    .onConflict((oc) => oc.columns(['org_id', 'name']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** A department of the org, or undefined (also for other orgs' ids). */
export async function findDepartment(db: Db, orgId: string, id: string): Promise<Department | undefined> {
  const row = await db
    .selectFrom('department')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toDepartment(row) : undefined;
}

/** The org's departments among `ids`, in no particular order. */
export async function findDepartmentsByIds(
  db: Db,
  orgId: string,
  ids: readonly string[],
): Promise<Department[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('department')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .execute();
  return rows.map(toDepartment);
}

/** One page of the org's departments, by id (keyset). */
export async function listDepartments(
  db: Db,
  orgId: string,
  opts: { afterId?: string | undefined; limit: number },
): Promise<Department[]> {
  let q = db.selectFrom('department').selectAll().where('org_id', '=', orgId);
  if (opts.afterId) q = q.where('id', '>', opts.afterId);
  return (await q.orderBy('id').limit(opts.limit).execute()).map(toDepartment);
}

/** The operator ids of each department, by department id. */
export async function findDepartmentOperators(
  db: Db,
  departmentIds: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(departmentIds.map((id) => [id, []]));
  if (departmentIds.length === 0) return out;
  const rows = await db
    .selectFrom('operator_department')
    .select(['department_id', 'actor_id'])
    .where('department_id', 'in', departmentIds)
    .orderBy('actor_id')
    .execute();
  for (const r of rows) out.get(String(r.department_id))?.push(String(r.actor_id));
  return out;
}

/** Replaces a department's operators with `actorIds` (in the caller's transaction). */
export async function replaceDepartmentOperators(
  db: Db,
  orgId: string,
  departmentId: string,
  actorIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('operator_department').where('department_id', '=', departmentId).execute();
  if (actorIds.length === 0) return;
  await db
    .insertInto('operator_department')
    .values(actorIds.map((actorId) => ({ actor_id: actorId, department_id: departmentId, org_id: orgId })))
    .execute();
}

/** The departments an operator belongs to ([] means: serves every department). */
export async function findOperatorDepartmentIds(db: Db, actorId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('operator_department')
    .select('department_id')
    .where('actor_id', '=', actorId)
    .execute();
  return rows.map((r) => String(r.department_id));
}

/**
 * The active staff who serve a department: owners and admins, operators without departments,
 * and operators of this department. The recipients of queue events.
 */
export async function findDepartmentStaffIds(db: Db, orgId: string, departmentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('actor as a')
    .select('a.id')
    .where('a.org_id', '=', orgId)
    .where('a.kind', '=', 'user')
    .where('a.active', '=', 1)
    .where((eb) =>
      eb.or([
        eb('a.role', 'in', ['owner', 'admin']),
        eb.and([
          eb('a.role', '=', 'operator'),
          eb.or([
            eb.not(
              eb.exists(
                eb
                  .selectFrom('operator_department as od')
                  .select('od.actor_id')
                  .whereRef('od.actor_id', '=', 'a.id'),
              ),
            ),
            eb.exists(
              eb
                .selectFrom('operator_department as od2')
                .select('od2.actor_id')
                .whereRef('od2.actor_id', '=', 'a.id')
                .where('od2.department_id', '=', departmentId),
            ),
          ]),
        ]),
      ]),
    )
    .execute();
  return rows.map((r) => String(r.id));
}

/** The next support reference number of an org, taken inside the caller's transaction. */
export async function nextSupportReference(db: Db, orgId: string): Promise<number> {
  await db
    .insertInto('org_support_seq')
    .values({ org_id: orgId, last_reference: 0 })
    .onConflict((oc) => oc.column('org_id').doNothing())
    .execute();
  const row = await db
    .updateTable('org_support_seq')
    .set({ last_reference: sql`last_reference + 1` })
    .where('org_id', '=', orgId)
    .returning('last_reference')
    .executeTakeFirstOrThrow();
  return Number(row.last_reference);
}

/**
 * Inserts a waiting support chat. Returns false, inserting nothing, when the visitor already
 * has an open chat in the department: the unique (org_id, open_key) index decides, so two
 * concurrent starts cannot both succeed.
 */
export async function insertSupportChat(db: Db, c: SupportChat, openKey: string): Promise<boolean> {
  const res = await db
    .insertInto('conversation')
    .values({
      id: c.id,
      org_id: c.orgId,
      kind: 'support',
      title: c.title,
      creator_id: c.creatorId,
      direct_key: null,
      member_count: c.memberCount,
      last_message_id: null,
      last_activity_at: c.lastActivityAt,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      state: c.state,
      department_id: c.departmentId,
      visitor_id: c.visitorId,
      owner_id: null,
      attender_id: null,
      question: c.question,
      reference_id: Number(c.referenceId),
      uvid: c.uvid,
      channel: c.channel,
      open_key: openKey,
    })
    .onConflict((oc) => oc.columns(['org_id', 'open_key']).where('open_key', 'is not', null).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** A support chat of the org that is not in the recycle bin. */
export async function findSupportChat(db: Db, orgId: string, id: string): Promise<SupportChat | undefined> {
  const row = await db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('kind', '=', 'support')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row ? toSupportChat(row) : undefined;
}

/** The org's open support chat holding this open key (a visitor's chat in a department), if any. */
export async function findOpenChatByKey(
  db: Db,
  orgId: string,
  key: string,
): Promise<SupportChat | undefined> {
  const row = await db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('open_key', '=', key)
    .executeTakeFirst();
  return row ? toSupportChat(row) : undefined;
}

export interface ChatChanges {
  state?: SupportState;
  department_id?: string;
  owner_id?: string | null;
  attender_id?: string | null;
  attended_at?: number;
  ended_at?: number;
  missed_at?: number;
  open_key?: string | null;
  updated_at: number;
}

/**
 * Compare-and-set: applies `changes` only if the chat is a support chat of the org, not in the
 * recycle bin, in one of `from`, and (when given) still in `unchanged`'s department and with
 * its attender. Returns the updated chat, or undefined when another
 * request changed it first (or it does not exist). On PostgreSQL, concurrent callers queue on
 * the row lock and re-check the condition after the winner commits, so exactly one succeeds.
 */
export async function transitionChat(
  db: Db,
  orgId: string,
  id: string,
  from: readonly SupportState[],
  changes: ChatChanges,
  unchanged: { departmentId?: string; attenderId?: string | null } = {},
): Promise<SupportChat | undefined> {
  let q = db
    .updateTable('conversation')
    .set(changes)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('kind', '=', 'support')
    .where('deleted_at', 'is', null)
    .where('state', 'in', from);
  // What the caller's permission was decided on must still hold when the change applies.
  if (unchanged.departmentId !== undefined) q = q.where('department_id', '=', unchanged.departmentId);
  if (unchanged.attenderId !== undefined)
    q =
      unchanged.attenderId === null
        ? q.where('attender_id', 'is', null)
        : q.where('attender_id', '=', unchanged.attenderId);
  const row = await q.returningAll().executeTakeFirst();
  return row ? toSupportChat(row) : undefined;
}

/**
 * Adds an actor to a support chat (or brings them back, with `role`). Returns true when they
 * were not a current member before, so the caller can count them. Call it after the
 * transition that holds the conversation's row lock.
 */
export async function joinSupportChat(
  db: Db,
  orgId: string,
  conversationId: string,
  actorId: string,
  role: MemberRole,
  now: number,
): Promise<boolean> {
  const existing = await db
    .selectFrom('membership')
    .select(['left_at', 'role'])
    .where('conversation_id', '=', conversationId)
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  if (!existing) {
    await db
      .insertInto('membership')
      .values({
        conversation_id: conversationId,
        actor_id: actorId,
        org_id: orgId,
        role,
        joined_at: now,
        left_at: null,
        muted_until: null,
        read_message_id: null,
        read_ordinal: sql<number>`(select message_count from conversation where id = ${conversationId})`,
        unread_excluded: 0,
        draft: null,
        draft_updated_at: null,
        hidden: 0,
        hidden_ordinal: 0,
        pinned: 0,
      })
      .execute();
    return true;
  }
  await db
    .updateTable('membership')
    .set(
      existing.left_at === null
        ? { role }
        : {
            role,
            left_at: null,
            joined_at: now,
            read_ordinal: sql<number>`(select message_count from conversation where id = ${conversationId})`,
            unread_excluded: 0,
            hidden: 0,
          },
    )
    .where('conversation_id', '=', conversationId)
    .where('actor_id', '=', actorId)
    .execute();
  return existing.left_at !== null;
}

/** Current member ids of a conversation (event recipients). */
export async function findCurrentMemberIds(db: Db, conversationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('membership')
    .select('actor_id')
    .where('conversation_id', '=', conversationId)
    .where('left_at', 'is', null)
    .execute();
  return rows.map((r) => String(r.actor_id));
}

/** Current member ids of several conversations, by conversation id. */
export async function findCurrentMemberIdsOf(
  db: Db,
  conversationIds: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(conversationIds.map((id) => [id, []]));
  if (conversationIds.length === 0) return out;
  const rows = await db
    .selectFrom('membership')
    .select(['conversation_id', 'actor_id'])
    .where('conversation_id', 'in', conversationIds)
    .where('left_at', 'is', null)
    .execute();
  for (const r of rows) out.get(String(r.conversation_id))?.push(String(r.actor_id));
  return out;
}

/** The current members who are not visitors (operators, bots), in the order they joined. */
export async function findChatParticipants(db: Db, conversationId: string): Promise<Actor[]> {
  const rows = await db
    .selectFrom('membership as m')
    .innerJoin('actor as a', 'a.id', 'm.actor_id')
    .selectAll('a')
    .where('m.conversation_id', '=', conversationId)
    .where('m.left_at', 'is', null)
    .where('a.kind', '<>', 'visitor')
    .orderBy('m.joined_at')
    .orderBy('m.actor_id')
    .execute();
  return rows.map(toActor);
}

/** The caller's unread count in a conversation, or null when not a current member. */
export async function findUnreadCount(
  db: Db,
  conversationId: string,
  actorId: string,
): Promise<number | null> {
  const row = await db
    .selectFrom('member')
    .select(['unread_count', 'left_at'])
    .where('conversation_id', '=', conversationId)
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  return row && row.left_at === null ? Number(row.unread_count) : null;
}

/**
 * One page of the queue: waiting chats of the org, oldest first, keyset on (created_at, id);
 * only of `departmentIds` unless it is null (all departments).
 */
export async function listWaitingChats(
  db: Db,
  orgId: string,
  opts: {
    departmentIds: readonly string[] | null;
    after?: { createdAt: number; id: string } | undefined;
    limit: number;
  },
): Promise<SupportChat[]> {
  let q = db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('state', '=', 'waiting')
    .where('kind', '=', 'support')
    .where('deleted_at', 'is', null);
  if (opts.departmentIds !== null) {
    if (opts.departmentIds.length === 0) return [];
    q = q.where('department_id', 'in', opts.departmentIds);
  }
  if (opts.after) {
    const a = opts.after;
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '>', a.createdAt),
        eb.and([eb('created_at', '=', a.createdAt), eb('id', '>', a.id)]),
      ]),
    );
  }
  const rows = await q.orderBy('created_at').orderBy('id').limit(opts.limit).execute();
  return rows.map(toSupportChat);
}

/** Orgs that have waiting chats now (the missed-chat sweep visits only these). */
export async function findOrgsWithWaitingChats(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('conversation')
    .select('org_id')
    .distinct()
    .where('state', '=', 'waiting')
    .where('kind', '=', 'support')
    .execute();
  return rows.map((r) => String(r.org_id));
}

/**
 * Marks up to `limit` of an org's chats that have waited since `startedBefore` as missed, by
 * compare-and-set on `waiting` (a pickup that wins the race keeps its chat). Returns them.
 */
export async function markChatsMissed(
  db: Db,
  orgId: string,
  startedBefore: number,
  now: number,
  limit: number,
): Promise<SupportChat[]> {
  const due = await db
    .selectFrom('conversation')
    .select('id')
    .where('org_id', '=', orgId)
    .where('kind', '=', 'support')
    .where('state', '=', 'waiting')
    .where('created_at', '<=', startedBefore)
    .orderBy('created_at')
    .limit(limit)
    .execute();
  if (due.length === 0) return [];
  const rows = await db
    .updateTable('conversation')
    .set({ state: 'missed', missed_at: now, open_key: null, updated_at: now })
    .where('org_id', '=', orgId)
    .where(
      'id',
      'in',
      due.map((r) => String(r.id)),
    )
    .where('state', '=', 'waiting')
    .returningAll()
    .execute();
  return rows.map(toSupportChat);
}
