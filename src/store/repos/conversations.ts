import { sql } from 'kysely';
import type { Conversation, ConversationKind, MemberRole, MemberState, Message } from '../../domain/model.ts';
import { prepared, type Slots } from '../prepared.ts';
import type { Db } from '../schema.ts';
import { toConversation, toMember, toMessage } from './rows.ts';
import { hasMentionsExpr } from './team-chat.ts';

export async function insertConversation(
  db: Db,
  c: Conversation,
  directKey: string | null,
): Promise<boolean> {
  const res = await db
    .insertInto('conversation')
    .values({
      id: c.id,
      org_id: c.orgId,
      kind: c.kind,
      title: c.title,
      creator_id: c.creatorId,
      direct_key: directKey,
      member_count: c.memberCount,
      last_message_id: null,
      last_activity_at: c.lastActivityAt,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
    })
    .onConflict((oc) => oc.columns(['org_id', 'direct_key']).where('direct_key', 'is not', null).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function findConversation(db: Db, orgId: string, id: string): Promise<Conversation | undefined> {
  const row = await db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toConversation(row) : undefined;
}

export async function findDirectConversation(
  db: Db,
  orgId: string,
  directKey: string,
): Promise<Conversation | undefined> {
  const row = await db
    .selectFrom('conversation')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('direct_key', '=', directKey)
    .executeTakeFirst();
  return row ? toConversation(row) : undefined;
}

export async function updateConversationTitle(db: Db, id: string, title: string, now: number): Promise<void> {
  await db.updateTable('conversation').set({ title, updated_at: now }).where('id', '=', id).execute();
}

export async function adjustMemberCount(db: Db, id: string, delta: number, now: number): Promise<void> {
  await db
    .updateTable('conversation')
    .set({ member_count: sql`member_count + ${delta}`, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** The conversation's message count: what a member who joins now has read (they start with nothing unread). */
const messageCountOf = (conversationId: string) =>
  sql<number>`(select message_count from conversation where id = ${conversationId})`;

export async function insertMembers(
  db: Db,
  orgId: string,
  conversationId: string,
  members: { actorId: string; role: MemberRole }[],
  now: number,
): Promise<void> {
  if (members.length === 0) return;
  await db
    .insertInto('membership')
    .values(
      members.map((m) => ({
        conversation_id: conversationId,
        actor_id: m.actorId,
        org_id: orgId,
        role: m.role,
        joined_at: now,
        left_at: null,
        muted_until: null,
        read_message_id: null,
        read_ordinal: messageCountOf(conversationId),
        unread_excluded: 0,
        draft: null,
        draft_updated_at: null,
        hidden: 0,
        hidden_ordinal: 0,
        pinned: 0,
      })),
    )
    .execute();
}

/** Brings back members who had left: they rejoin with fresh per-member state. */
export async function rejoinMembers(db: Db, conversationId: string, actorIds: string[], now: number) {
  if (actorIds.length === 0) return;
  await db
    .updateTable('membership')
    .set({
      left_at: null,
      joined_at: now,
      role: 'member',
      read_ordinal: messageCountOf(conversationId),
      unread_excluded: 0,
      hidden: 0,
    })
    .where('conversation_id', '=', conversationId)
    .where('actor_id', 'in', actorIds)
    .execute();
}

export async function findMember(
  db: Db,
  conversationId: string,
  actorId: string,
): Promise<MemberState | undefined> {
  const row = await db
    .selectFrom('member')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  return row ? toMember(row) : undefined;
}

export async function findMembers(
  db: Db,
  conversationId: string,
  actorIds: readonly string[],
): Promise<MemberState[]> {
  if (actorIds.length === 0) return [];
  const rows = await db
    .selectFrom('member')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('actor_id', 'in', actorIds)
    .execute();
  return rows.map(toMember);
}

export async function updateMember(
  db: Db,
  conversationId: string,
  actorId: string,
  values: Partial<{
    role: MemberRole;
    left_at: number | null;
    muted_until: number | null;
    read_message_id: string | null;
    read_ordinal: number;
    unread_excluded: number;
    draft: string | null;
    draft_updated_at: number | null;
    hidden: number;
    pinned: number;
  }>,
): Promise<MemberState | undefined> {
  // Hidden until the next message: remember how far the conversation was when it was hidden.
  const set = values.hidden === 1 ? { ...values, hidden_ordinal: messageCountOf(conversationId) } : values;
  const res = await db
    .updateTable('membership')
    .set(set)
    .where('conversation_id', '=', conversationId)
    .where('actor_id', '=', actorId)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return undefined;
  return findMember(db, conversationId, actorId);
}

export interface MemberWithActor {
  member: MemberState;
  name: string;
  email: string | null;
  kind: string;
  externalId: string | null;
}

export async function listCurrentMembers(
  db: Db,
  conversationId: string,
  opts: { afterActorId?: string | undefined; limit: number },
): Promise<MemberWithActor[]> {
  let q = db
    .selectFrom('member as m')
    .innerJoin('actor as a', 'a.id', 'm.actor_id')
    .selectAll('m')
    .select(['a.name', 'a.email', 'a.kind', 'a.external_id'])
    .where('m.conversation_id', '=', conversationId)
    .where('m.left_at', 'is', null);
  if (opts.afterActorId) q = q.where('m.actor_id', '>', opts.afterActorId);
  const rows = await q.orderBy('m.actor_id').limit(opts.limit).execute();
  return rows.map((r) => ({
    member: toMember(r),
    name: r.name,
    email: r.email,
    kind: r.kind,
    externalId: r.external_id,
  }));
}

/** The oldest remaining member, who inherits ownership when the owner leaves. */
export async function findOldestMember(db: Db, conversationId: string): Promise<MemberState | undefined> {
  const row = await db
    .selectFrom('member')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('left_at', 'is', null)
    .orderBy('joined_at')
    .orderBy('actor_id')
    .executeTakeFirst();
  return row ? toMember(row) : undefined;
}

export interface ListFilter {
  orgId: string;
  actorId: string;
  kind?: ConversationKind | undefined;
  modifiedBefore?: number | undefined;
  modifiedAfter?: number | undefined;
  drafts?: boolean | undefined;
  muted?: boolean | undefined;
  hidden: boolean;
  pinned?: boolean | undefined;
  /** Only conversations with (true) or without (false) mentions of the actor after their read position. */
  hasMentions?: boolean | undefined;
  now: number;
  after?: { pinned: number; activityAt: number; conversationId: string } | undefined;
  limit: number;
}

export interface ConversationListRow {
  conversation: Conversation;
  me: MemberState;
  lastMessage: Message | null;
  lastSenderName: string | null;
}

/** A member's derived state, from its membership row `m` and conversation `c` (as the view `member` has it). */
const unreadOf = sql<number>`case when c.message_count - m.read_ordinal - m.unread_excluded > 0
  then c.message_count - m.read_ordinal - m.unread_excluded else 0 end`;
const hiddenNow = sql<boolean>`(m.hidden = 1 and c.message_count <= m.hidden_ordinal)`;

/**
 * Above this many (unpinned) conversations, an actor's list is read by walking the org's
 * conversations newest first and keeping the actor's (the index conversation_org_activity, no
 * sort: a page costs about a page of lookups when the actor is in a good share of the org's
 * conversations); at or below it, by reading all the actor's conversations and sorting them
 * (cheaper when they are few). A walk looks at WALK_BUDGET conversations at most; when they
 * hold fewer than a page of the actor's, the page is completed by the sort.
 */
const WALK_THRESHOLD = 500;
const WALK_BUDGET = 5_000;

/**
 * One page of an actor's conversations, pinned-in-list first, then newest activity first, by
 * keyset on (pinned, last activity, conversation id) so concurrent inserts never shift or
 * repeat items. Nothing here is per-member per message: the order is the conversation's own
 * last activity, unread counts derive from its message count (migration
 * 2026-12-04T01-00-unread-counters).
 */
export async function listConversationsForActor(db: Db, f: ListFilter): Promise<ConversationListRow[]> {
  const out: ConversationListRow[] = [];
  const sections = (f.pinned === true ? [1] : f.pinned === false ? [0] : [1, 0]).filter(
    (pinned) => !(f.after && pinned > f.after.pinned),
  );
  // How many unpinned memberships (up to the threshold) decides between the walk and the sort;
  // whether there is any pinned one spares the pinned section's query when there is none (the
  // usual first page: three round trips, not four). Both come from one statement.
  let unpinned: number | undefined;
  let anyPinned = true;
  if (sections.includes(0)) {
    const shape = await membershipShape(db, f.actorId, WALK_THRESHOLD + 1);
    unpinned = shape.unpinned;
    anyPinned = shape.anyPinned;
  }
  for (const pinned of sections) {
    let after = f.after?.pinned === pinned ? f.after : undefined;
    let need = f.limit - out.length;
    if (need <= 0) break;
    if (pinned === 1 && !anyPinned) continue;
    if (pinned === 0 && (unpinned ?? 0) > WALK_THRESHOLD) {
      const found = await listPage(db, f, pinned, after, need, true);
      out.push(...found);
      need -= found.length;
      const last = found.at(-1);
      if (need <= 0) break;
      if (last)
        after = {
          pinned,
          activityAt: last.conversation.lastActivityAt,
          conversationId: last.conversation.id,
        };
    }
    out.push(...(await listPage(db, f, pinned, after, need, false)));
  }
  return out;
}

/**
 * How many unpinned memberships the actor has, counting at most `upTo`, and whether they have a
 * current pinned one: one statement.
 */
async function membershipShape(
  db: Db,
  actorId: string,
  upTo: number,
): Promise<{ unpinned: number; anyPinned: boolean }> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom(
          eb
            .selectFrom('membership')
            .select('conversation_id')
            .where('actor_id', '=', actorId)
            .where('pinned', '=', sql.lit(0))
            .limit(sql.lit(upTo))
            .as('x'),
        )
        .select((e) => e.fn.countAll().as('n'))
        .as('unpinned'),
      eb
        .exists(
          eb
            .selectFrom('membership')
            .select(sql.lit(1).as('one'))
            .where('actor_id', '=', actorId)
            .where('pinned', '=', sql.lit(1))
            .where('left_at', 'is', null),
        )
        .as('any_pinned'),
    ])
    .executeTakeFirst();
  return {
    unpinned: Number(row?.unpinned ?? 0),
    anyPinned: Boolean(Number(row?.any_pinned ?? 0)),
  };
}

async function listPage(
  db: Db,
  f: ListFilter,
  pinned: number,
  after: ListFilter['after'],
  limit: number,
  walk: boolean,
): Promise<ConversationListRow[]> {
  // CROSS JOIN fixes the loop order on SQLite (PostgreSQL plans it as an inner join). The walk
  // looks at the org's next WALK_BUDGET conversations by activity, in the index's order.
  const window = () => {
    let w = db
      .selectFrom('conversation')
      .select(['id', 'last_activity_at'])
      .where('org_id', '=', f.orgId)
      .where('deleted_at', 'is', null);
    if (after)
      w = w.where((eb) =>
        eb(eb.refTuple('last_activity_at', 'id'), '<', eb.tuple(after.activityAt, after.conversationId)),
      );
    return w.orderBy('last_activity_at', 'desc').orderBy('id', 'desc').limit(sql.lit(WALK_BUDGET)).as('w');
  };
  const from = walk
    ? db
        .selectFrom(window())
        .crossJoin('conversation as c')
        .crossJoin('membership as m')
        .whereRef('c.id', '=', 'w.id')
    : db.selectFrom('membership as m').crossJoin('conversation as c');
  let q = from
    .leftJoin('message as lm', 'lm.id', 'c.last_message_id')
    .leftJoin('actor as ls', 'ls.id', 'lm.sender_id')
    .select([
      'm.conversation_id',
      'm.actor_id',
      'm.org_id',
      'm.role',
      'm.joined_at',
      'm.left_at',
      'm.muted_until',
      'm.read_message_id',
      unreadOf.as('unread_count'),
      'm.draft',
      'm.draft_updated_at',
      sql<number>`case when ${hiddenNow} then 1 else 0 end`.as('hidden'),
      'm.pinned',
      'c.last_activity_at as activity_at',
      'c.id as c_id',
      'c.org_id as c_org_id',
      'c.kind as c_kind',
      'c.title as c_title',
      'c.creator_id as c_creator_id',
      'c.member_count as c_member_count',
      'c.last_message_id as c_last_message_id',
      'c.last_activity_at as c_last_activity_at',
      'c.created_at as c_created_at',
      'c.updated_at as c_updated_at',
      'lm.id as lm_id',
      'lm.sender_id as lm_sender_id',
      'lm.type as lm_type',
      'lm.text as lm_text',
      'lm.metadata as lm_metadata',
      'lm.reply_to_id as lm_reply_to_id',
      'lm.client_id as lm_client_id',
      'lm.created_at as lm_created_at',
      'lm.edited_at as lm_edited_at',
      'lm.deleted_at as lm_deleted_at',
      'ls.name as ls_name',
    ])
    .whereRef('m.conversation_id', '=', 'c.id')
    .where('m.actor_id', '=', f.actorId)
    .where('m.pinned', '=', sql.lit(pinned))
    .where('m.left_at', 'is', null)
    .where('c.deleted_at', 'is', null)
    .where(f.hidden ? hiddenNow : sql<boolean>`not ${hiddenNow}`);
  if (f.kind) q = q.where('c.kind', '=', f.kind);
  if (f.modifiedBefore !== undefined) q = q.where('c.last_activity_at', '<', f.modifiedBefore);
  if (f.modifiedAfter !== undefined) q = q.where('c.last_activity_at', '>', f.modifiedAfter);
  if (f.drafts === true) q = q.where('m.draft', 'is not', null);
  if (f.drafts === false) q = q.where('m.draft', 'is', null);
  if (f.hasMentions !== undefined)
    q = q.where(f.hasMentions ? hasMentionsExpr() : sql<boolean>`not ${hasMentionsExpr()}`);
  if (f.muted === true)
    q = q.where((eb) => eb.or([eb('m.muted_until', '=', -1), eb('m.muted_until', '>', f.now)]));
  if (f.muted === false) {
    q = q.where((eb) =>
      eb.or([
        eb('m.muted_until', 'is', null),
        eb.and([eb('m.muted_until', '<=', f.now), eb('m.muted_until', '<>', -1)]),
      ]),
    );
  }
  if (after && !walk) {
    // A row-value comparison, so both databases seek the index instead of walking it from the top.
    // (The walk's window applies it already.)
    q = q.where((eb) =>
      eb(eb.refTuple('c.last_activity_at', 'c.id'), '<', eb.tuple(after.activityAt, after.conversationId)),
    );
  }
  // The walk orders by the window's columns: the window's rows come in that order, so neither
  // database sorts (SQLite keeps a co-routine's order; a page reads about a page of lookups).
  const ordered = walk
    ? q.orderBy(sql`w.last_activity_at`, 'desc').orderBy(sql`w.id`, 'desc')
    : q.orderBy('c.last_activity_at', 'desc').orderBy('c.id', 'desc');
  // The pinned flag and the limits are literals, not parameters: with them as parameters
  // PostgreSQL's generic plan of the prepared statement could not know them, costed itself far
  // above the custom plans, and so each execution was planned anew (0.5-0.7 ms of planning for a
  // 0.06-0.5 ms query). As literals, each (pinned, limit) gets its own statement whose generic
  // plan is the custom one, kept after five runs. `limit` is a small integer the service computed.
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`listPage: bad limit ${limit}`);
  const rows = await ordered.limit(sql.lit(limit)).execute();
  const out = rows.map((r) => ({
    conversation: toConversation({
      id: r.c_id,
      org_id: r.c_org_id,
      kind: r.c_kind,
      title: r.c_title,
      creator_id: r.c_creator_id,
      direct_key: null,
      member_count: r.c_member_count,
      last_message_id: r.c_last_message_id,
      last_activity_at: r.c_last_activity_at,
      created_at: r.c_created_at,
      updated_at: r.c_updated_at,
    }),
    me: toMember(r),
    lastMessage:
      r.lm_id === null
        ? null
        : toMessage({
            id: r.lm_id,
            org_id: r.c_org_id,
            conversation_id: r.c_id,
            sender_id: r.lm_sender_id as string,
            type: r.lm_type as string,
            text: r.lm_text,
            metadata: r.lm_metadata,
            reply_to_id: r.lm_reply_to_id,
            client_id: r.lm_client_id,
            created_at: r.lm_created_at as number,
            edited_at: r.lm_edited_at,
            deleted_at: r.lm_deleted_at,
          }),
    lastSenderName: r.ls_name ?? null,
  }));
  return out;
}

const conversationWithMember = prepared((db, p: Slots<'orgId' | 'id' | 'actorId'>) =>
  db
    .selectFrom('conversation as c')
    // The membership row itself, not the view `member` (a view that joins, on the right of a
    // LEFT JOIN, is not flattened by SQLite: it read every member of the conversation).
    .leftJoin('membership as m', (j) =>
      j.onRef('m.conversation_id', '=', 'c.id').on('m.actor_id', '=', p.actorId),
    )
    .selectAll('c')
    .select([
      'm.actor_id as m_actor_id',
      'm.role as m_role',
      'm.joined_at as m_joined_at',
      'm.left_at as m_left_at',
      'm.muted_until as m_muted_until',
      'm.read_message_id as m_read_message_id',
      unreadOf.as('m_unread_count'),
      'm.draft as m_draft',
      'm.draft_updated_at as m_draft_updated_at',
      sql<number>`case when ${hiddenNow} then 1 else 0 end`.as('m_hidden'),
      'm.pinned as m_pinned',
      'c.last_activity_at as m_activity_at',
    ])
    .where('c.org_id', '=', p.orgId)
    .where('c.id', '=', p.id),
);

/** A conversation of the org with one actor's member row, in one query (the access check's read). */
export async function findConversationWithMember(
  db: Db,
  orgId: string,
  id: string,
  actorId: string,
): Promise<
  { conversation: Conversation; member: MemberState | undefined; visitorId: string | null } | undefined
> {
  const [row] = await conversationWithMember.execute(db, { orgId, id, actorId });
  if (!row) return undefined;
  const member =
    row.m_actor_id === null
      ? undefined
      : toMember({
          conversation_id: row.id,
          actor_id: row.m_actor_id,
          org_id: row.org_id,
          role: row.m_role as string,
          joined_at: row.m_joined_at as number,
          left_at: row.m_left_at,
          muted_until: row.m_muted_until,
          read_message_id: row.m_read_message_id,
          unread_count: row.m_unread_count as number,
          draft: row.m_draft,
          draft_updated_at: row.m_draft_updated_at,
          hidden: row.m_hidden as number,
          pinned: row.m_pinned as number,
          activity_at: row.m_activity_at as number,
        });
  const visitorId = row.visitor_id === null || row.visitor_id === undefined ? null : String(row.visitor_id);
  return { conversation: toConversation(row), member, visitorId };
}
