import { sql } from 'kysely';
import type { Db } from '../../context.ts';
import type { Conversation, ConversationKind, MemberRole, MemberState, Message } from '../../domain/model.ts';
import { prepared, type Slots } from '../prepared.ts';
import { toConversation, toMember, toMessage } from './rows.ts';

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
    .onConflict((oc) => oc.columns(['org_id', 'direct_key']).doNothing())
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

export async function insertMembers(
  db: Db,
  orgId: string,
  conversationId: string,
  members: { actorId: string; role: MemberRole }[],
  now: number,
  activityAt: number,
): Promise<void> {
  if (members.length === 0) return;
  await db
    .insertInto('member')
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
        unread_count: 0,
        draft: null,
        draft_updated_at: null,
        hidden: 0,
        pinned: 0,
        activity_at: activityAt,
      })),
    )
    .execute();
}

/** Brings back members who had left: they rejoin with fresh per-member state. */
export async function rejoinMembers(
  db: Db,
  conversationId: string,
  actorIds: string[],
  now: number,
  activityAt: number,
) {
  if (actorIds.length === 0) return;
  await db
    .updateTable('member')
    .set({
      left_at: null,
      joined_at: now,
      role: 'member',
      unread_count: 0,
      hidden: 0,
      activity_at: activityAt,
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
    unread_count: number;
    draft: string | null;
    draft_updated_at: number | null;
    hidden: number;
    pinned: number;
  }>,
): Promise<MemberState | undefined> {
  const row = await db
    .updateTable('member')
    .set(values)
    .where('conversation_id', '=', conversationId)
    .where('actor_id', '=', actorId)
    .returningAll()
    .executeTakeFirst();
  return row ? toMember(row) : undefined;
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
  actorId: string;
  kind?: ConversationKind | undefined;
  modifiedBefore?: number | undefined;
  modifiedAfter?: number | undefined;
  drafts?: boolean | undefined;
  muted?: boolean | undefined;
  hidden: boolean;
  pinned?: boolean | undefined;
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

/**
 * One page of an actor's conversations, pinned-in-list first, then newest activity first, by
 * keyset on (pinned, activity_at, conversation_id) so concurrent inserts never shift or repeat items.
 */
export async function listConversationsForActor(db: Db, f: ListFilter): Promise<ConversationListRow[]> {
  let q = db
    .selectFrom('member as m')
    .innerJoin('conversation as c', 'c.id', 'm.conversation_id')
    .leftJoin('message as lm', 'lm.id', 'c.last_message_id')
    .leftJoin('actor as ls', 'ls.id', 'lm.sender_id')
    .selectAll('m')
    .select([
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
    .where('m.actor_id', '=', f.actorId)
    .where('m.left_at', 'is', null)
    .where('c.deleted_at', 'is', null)
    .where('m.hidden', '=', f.hidden ? 1 : 0);
  if (f.kind) q = q.where('c.kind', '=', f.kind);
  if (f.modifiedBefore !== undefined) q = q.where('m.activity_at', '<', f.modifiedBefore);
  if (f.modifiedAfter !== undefined) q = q.where('m.activity_at', '>', f.modifiedAfter);
  if (f.drafts === true) q = q.where('m.draft', 'is not', null);
  if (f.drafts === false) q = q.where('m.draft', 'is', null);
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
  if (f.pinned !== undefined) q = q.where('m.pinned', '=', f.pinned ? 1 : 0);
  if (f.after) {
    const a = f.after;
    // A row-value comparison, so both databases seek the index instead of walking it from the top.
    q = q.where((eb) =>
      eb(
        eb.refTuple('m.pinned', 'm.activity_at', 'm.conversation_id'),
        '<',
        eb.tuple(a.pinned, a.activityAt, a.conversationId),
      ),
    );
  }
  const rows = await q
    .orderBy('m.pinned', 'desc')
    .orderBy('m.activity_at', 'desc')
    .orderBy('m.conversation_id', 'desc')
    .limit(f.limit)
    .execute();
  return rows.map((r) => ({
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
}

const conversationWithMember = prepared((db, p: Slots<'orgId' | 'id' | 'actorId'>) =>
  db
    .selectFrom('conversation as c')
    .leftJoin('member as m', (j) =>
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
      'm.unread_count as m_unread_count',
      'm.draft as m_draft',
      'm.draft_updated_at as m_draft_updated_at',
      'm.hidden as m_hidden',
      'm.pinned as m_pinned',
      'm.activity_at as m_activity_at',
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
): Promise<{ conversation: Conversation; member: MemberState | undefined } | undefined> {
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
  return { conversation: toConversation(row), member };
}
