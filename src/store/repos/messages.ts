import { PostgresAdapter, sql } from 'kysely';
import type { Message } from '../../domain/model.ts';
import { prepared, type Slots } from '../prepared.ts';
import type { Db } from '../schema.ts';
import { toMessage } from './rows.ts';

/** Inserts a message unless the sender already used its client id; returns the stored row either way. */
const insertMessageRow = prepared(
  (
    db,
    p: Slots<
      | 'id'
      | 'orgId'
      | 'conversationId'
      | 'senderId'
      | 'type'
      | 'text'
      | 'metadata'
      | 'replyToId'
      | 'clientId'
      | 'createdAt'
      | 'ordinal'
      | 'mentions'
      | 'threadId'
      | 'attachments'
    >,
  ) =>
    db
      .insertInto('message')
      .values({
        id: p.id,
        org_id: p.orgId,
        conversation_id: p.conversationId,
        sender_id: p.senderId,
        type: p.type,
        text: p.text,
        metadata: p.metadata,
        reply_to_id: p.replyToId,
        client_id: p.clientId,
        created_at: p.createdAt,
        edited_at: null,
        deleted_at: null,
        ordinal: p.ordinal,
        mentions: p.mentions,
        thread_id: p.threadId,
        attachments: p.attachments,
      })
      .onConflict((oc) =>
        // message_client_id is partial (client_id not null): the target names its condition.
        oc.columns(['org_id', 'sender_id', 'client_id']).where('client_id', 'is not', null).doNothing(),
      ),
);

/** The message's attachments as stored in `message.attachments` (null: none). */
const attachmentsJson = (m: Message): string | null =>
  m.attachments && m.attachments.length > 0 ? JSON.stringify(m.attachments) : null;

/**
 * Inserts a message with its ordinal in the conversation (from bumpConversation, in the same
 * transaction); false when the sender already used its client id (nothing inserted).
 */
export async function insertMessage(db: Db, m: Message, ordinal: number): Promise<boolean> {
  const inserted = await insertMessageRow.run(db, {
    id: m.id,
    orgId: m.orgId,
    conversationId: m.conversationId,
    senderId: m.senderId,
    type: m.type,
    text: m.text,
    metadata: m.metadata ? JSON.stringify(m.metadata) : null,
    replyToId: m.replyToId,
    clientId: m.clientId,
    createdAt: m.createdAt,
    ordinal,
    mentions: m.mentions ? JSON.stringify(m.mentions) : null,
    threadId: m.threadId ?? null,
    attachments: attachmentsJson(m),
  });
  return inserted > 0;
}

const byClientId = prepared((db, p: Slots<'orgId' | 'senderId' | 'clientId'>) =>
  db
    .selectFrom('message')
    .selectAll()
    .where('org_id', '=', p.orgId)
    .where('sender_id', '=', p.senderId)
    .where('client_id', '=', p.clientId),
);

/** The message a sender already sent with this client id, if any. */
export async function findMessageByClientId(
  db: Db,
  orgId: string,
  senderId: string,
  clientId: string,
): Promise<Message | undefined> {
  const [row] = await byClientId.execute(db, { orgId, senderId, clientId });
  return row ? toMessage(row) : undefined;
}

export async function findMessage(db: Db, conversationId: string, id: string): Promise<Message | undefined> {
  const row = await db
    .selectFrom('message')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toMessage(row) : undefined;
}

export async function findLatestMessageId(db: Db, conversationId: string): Promise<string | null> {
  const row = await db
    .selectFrom('message')
    .select('id')
    .where('conversation_id', '=', conversationId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? String(row.id) : null;
}

export async function listMessages(
  db: Db,
  conversationId: string,
  opts: { beforeId?: string | undefined; afterId?: string | undefined; order: 'asc' | 'desc'; limit: number },
): Promise<Message[]> {
  let q = db.selectFrom('message').selectAll().where('conversation_id', '=', conversationId);
  if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
  if (opts.afterId) q = q.where('id', '>', opts.afterId);
  const rows = await q.orderBy('id', opts.order).limit(opts.limit).execute();
  return rows.map(toMessage);
}

/** Sets a message's text; undefined when it was deleted meanwhile (a deleted message stays erased). */
export async function updateMessageText(
  db: Db,
  id: string,
  text: string,
  now: number,
): Promise<Message | undefined> {
  const row = await db
    .updateTable('message')
    .set({ text, edited_at: now })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  return row ? toMessage(row) : undefined;
}

/** Deletes for everyone: the row stays as a tombstone so history and replies keep their place. */
export async function markMessageDeleted(db: Db, id: string, now: number): Promise<Message> {
  const row = await db
    .updateTable('message')
    .set({ text: null, metadata: null, attachments: null, deleted_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
}

/**
 * A new message in the conversation: its count, last message and activity move (the row
 * other sends of the conversation wait on); returns the message's ordinal.
 */
const bumpConversationRow = prepared((db, p: Slots<'id' | 'messageId' | 'at'>) =>
  db
    .updateTable('conversation')
    .set({
      message_count: sql`message_count + 1`,
      last_message_id: p.messageId,
      last_activity_at: p.at,
      updated_at: p.at,
    })
    .where('id', '=', p.id)
    .returning('message_count'),
);

async function bumpConversation(db: Db, m: Message): Promise<number> {
  const [row] = await bumpConversationRow.execute(db, {
    id: m.conversationId,
    messageId: m.id,
    at: m.createdAt,
  });
  return Number(row!.message_count);
}

/** The sender has read up to their own message; their draft goes, and a hidden list entry comes back. */
const readOwnMessage = prepared((db, p: Slots<'conversationId' | 'senderId' | 'messageId' | 'ordinal'>) =>
  db
    .updateTable('membership')
    .set({
      read_message_id: p.messageId,
      read_ordinal: p.ordinal,
      unread_excluded: 0,
      hidden: 0,
      draft: null,
      draft_updated_at: null,
    })
    .where('conversation_id', '=', p.conversationId)
    .where('actor_id', '=', p.senderId)
    .where('left_at', 'is', null),
);

/**
 * PostgreSQL: the insert of `m` with its ordinal from the CTE `c` (the conversation's new
 * count), as storeNewMessage writes it.
 */
const insertMessageFromC = (m: Message) => sql`
      insert into message (id, org_id, conversation_id, sender_id, type, text, metadata, reply_to_id,
        client_id, created_at, edited_at, deleted_at, ordinal, mentions, thread_id, attachments)
      select ${m.id}, ${m.orgId}, ${m.conversationId}, ${m.senderId}, ${m.type}, ${m.text},
        ${m.metadata ? JSON.stringify(m.metadata) : null}, ${m.replyToId}, ${m.clientId}::text, ${m.createdAt},
        null, null, c.message_count, ${m.mentions ? JSON.stringify(m.mentions) : null}, ${m.threadId ?? null},
        ${attachmentsJson(m)} from c`;

/** PostgreSQL: the sender has read `m`, at the ordinal the CTE `n` inserted it with. */
const readOwnMessageFromN = (m: Message) => sql`
      update membership set read_message_id = ${m.id}, read_ordinal = n.ordinal, unread_excluded = 0,
        hidden = 0, draft = null, draft_updated_at = null
      from n where conversation_id = ${m.conversationId} and actor_id = ${m.senderId} and left_at is null`;

/**
 * A new message, in the caller's transaction: bumps the conversation (the message's ordinal),
 * inserts the message and moves the sender's read position to it. Returns the ordinal, or
 * null when the sender's client id was taken meanwhile (nothing to keep: the caller rolls
 * back). On PostgreSQL the three writes are one statement (one round trip instead of three:
 * round trips are most of a send's cost there, see docs/performance.md).
 */
export async function storeNewMessage(db: Db, m: Message): Promise<number | null> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
    const ordinal = await bumpConversation(db, m);
    if (!(await insertMessage(db, m, ordinal))) return null;
    await recordActivity(db, m, ordinal);
    return ordinal;
  }
  const { rows } = await sql<{ ordinal: string | number | null }>`
    with c as (
      update conversation set message_count = message_count + 1, last_message_id = ${m.id},
        last_activity_at = ${m.createdAt}, updated_at = ${m.createdAt}
      where id = ${m.conversationId} returning message_count
    ), n as (
      ${insertMessageFromC(m)}
      on conflict (org_id, sender_id, client_id) where client_id is not null do nothing
      returning ordinal
    ), r as (
      ${readOwnMessageFromN(m)}
    )
    select (select ordinal from n) as ordinal`.execute(db);
  const ordinal = rows[0]?.ordinal;
  return ordinal === null || ordinal === undefined ? null : Number(ordinal);
}

/** The stored event of a one-statement send (its position, from the same statement). */
export interface OneStatementEvent {
  type: string;
  payload: string;
  createdAt: number;
}

/**
 * PostgreSQL only: a whole plain send as ONE statement, run in autocommit (one round trip, one
 * commit), instead of BEGIN, the access check, the writes, the event, the webhook lookup and
 * COMMIT (6-7 round trips: docs/performance.md, "What the send targets need").
 *
 * It writes only when everything the general path would check holds, in the statement itself:
 * the conversation is in the org and shown, the sender is a current member, a support chat is
 * not closed, no active webhook of the org subscribes to `message.created` (their deliveries
 * are written by the general path's event sink), and the client id (when given) is unused.
 * Then it writes what the general path writes, the same rows: the conversation's count, last
 * message and activity, the message, the sender's read position and the event (its position
 * from the transaction id, as insertEvents gives it). Otherwise it writes nothing and answers
 * null: the caller runs the general path, which gives the precise refusal, the stored message
 * of a retried client id, or the webhook deliveries. A client id taken by a concurrent send
 * fails the statement with a unique violation (nothing written): the caller handles that too.
 */
export async function storePlainSendInOneStatement(
  db: Db,
  m: Message,
  event: OneStatementEvent,
): Promise<{ ordinal: number; seq: number } | null> {
  // The batch statement with one send: one implementation of the checks and the writes.
  const [stored] = await storePlainSendsInOneStatement(db, [{ message: m, event }]);
  return stored ?? null;
}

/**
 * After a message (its conversation bumped, the row inserted): the sender has read it. The
 * other members' rows are not touched: their unread counts and list order derive from the
 * conversation's count and activity.
 */
async function recordActivity(db: Db, m: Message, ordinal: number): Promise<void> {
  await readOwnMessage.execute(db, {
    conversationId: m.conversationId,
    senderId: m.senderId,
    messageId: m.id,
    ordinal,
  });
}

/** A deleted message no longer counts as unread for the members who had not read it. */
export async function uncountDeleted(db: Db, m: Message): Promise<void> {
  const ordinal = sql<number>`(select ordinal from message where id = ${m.id})`;
  await db
    .updateTable('membership')
    .set({ unread_excluded: sql`unread_excluded + 1` })
    .where('conversation_id', '=', m.conversationId)
    .where('left_at', 'is', null)
    .where('actor_id', '<>', m.senderId)
    .where('read_ordinal', '<', ordinal)
    .execute();
}

/**
 * A read position at message `messageId` (or none): its ordinal, and how many messages after
 * it do not count as unread for `actorId` (deleted ones, and the actor's own).
 */
export async function readPositionAt(
  db: Db,
  conversationId: string,
  actorId: string,
  messageId: string | null,
): Promise<{ ordinal: number; excluded: number }> {
  let ordinal = 0;
  if (messageId) {
    const row = await db
      .selectFrom('message')
      .select('ordinal')
      .where('id', '=', messageId)
      .executeTakeFirst();
    ordinal = Number(row?.ordinal ?? 0);
  }
  const row = await db
    .selectFrom('message')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('conversation_id', '=', conversationId)
    .where('ordinal', '>', ordinal)
    .where((eb) => eb.or([eb('deleted_at', 'is not', null), eb('sender_id', '=', actorId)]))
    .executeTakeFirstOrThrow();
  return { ordinal, excluded: Number(row.n) };
}

/** One plain send of a batch (storePlainSendsInOneStatement). */
export interface PlainSend {
  message: Message;
  event: OneStatementEvent;
}

/**
 * PostgreSQL only: several plain sends as ONE statement in autocommit (one round trip, one
 * commit and one flush of the WAL for all of them: the group commit of store/send-batch.ts).
 * Each send is checked and written as storePlainSendInOneStatement describes, and the
 * answer is per send, in order: its ordinal and position, or null when it was refused (the
 * caller then runs the general path for that send alone).
 *
 * Several sends into one conversation get consecutive ordinals in their order, the
 * conversation's count moves by their number and its last message is the last of them; each
 * sender's read position moves to their last. Events get positions in the order of the sends
 * (the transaction's id, then the index). The conversations are locked in id order, so two
 * batches that touch the same conversations cannot deadlock. A client id taken meanwhile (or
 * twice in one batch) fails the whole statement with a unique violation, and nothing is
 * written: the caller then sends each alone.
 */
export async function storePlainSendsInOneStatement(
  db: Db,
  sends: readonly PlainSend[],
): Promise<({ ordinal: number; seq: number } | null)[]> {
  const col = <T>(f: (s: PlainSend) => T) => sends.map(f);
  const { rows } = await sql<{ k: string | number; ordinal: string | number; seq: string | number }>`
    with i as (
      select * from unnest(
        ${col((s) => s.message.id)}::bigint[], ${col((s) => s.message.orgId)}::bigint[],
        ${col((s) => s.message.conversationId)}::bigint[], ${col((s) => s.message.senderId)}::bigint[],
        ${col((s) => s.message.type)}::text[], ${col((s) => s.message.text)}::text[],
        ${col((s) => (s.message.metadata ? JSON.stringify(s.message.metadata) : null))}::text[],
        ${col((s) => s.message.clientId)}::text[], ${col((s) => s.message.createdAt)}::bigint[],
        ${col((s) => s.event.type)}::text[], ${col((s) => s.event.payload)}::text[],
        ${col((s) => s.event.createdAt)}::bigint[]
      ) with ordinality as i(id, org_id, conversation_id, sender_id, type, text, metadata, client_id,
        created_at, event_type, payload, event_created_at, k)
    ), ok as (
      select i.* from i
      join conversation c on c.id = i.conversation_id and c.org_id = i.org_id and c.deleted_at is null
        and (c.kind <> 'support' or coalesce(c.state, '') not in ('ended', 'missed'))
      join membership s on s.conversation_id = c.id and s.actor_id = i.sender_id and s.left_at is null
      where not exists (
          select 1 from webhook w
          where w.org_id = i.org_id and w.active = 1 and w.events::jsonb ? 'message.created')
        and (i.client_id is null or not exists (
          select 1 from message x
          where x.org_id = i.org_id and x.sender_id = i.sender_id and x.client_id = i.client_id))
    ), g as (
      select conversation_id, count(*) as n, (array_agg(id order by k desc))[1] as last_id,
        (array_agg(created_at order by k desc))[1] as last_at
      from ok group by conversation_id
    ), l as (
      -- The conversations, locked in id order (no deadlock between batches).
      select conversation.id from conversation join g on g.conversation_id = conversation.id
      where conversation.deleted_at is null order by conversation.id for update of conversation
    ), c as (
      update conversation set message_count = message_count + g.n, last_message_id = g.last_id,
        last_activity_at = g.last_at, updated_at = g.last_at
      from l join g on g.conversation_id = l.id
      where conversation.id = l.id returning conversation.id, conversation.message_count - g.n as base
    ), o as (
      select ok.*, c.base + row_number() over (partition by ok.conversation_id order by ok.k) as ordinal
      from ok join c on c.id = ok.conversation_id
    ), n as (
      insert into message (id, org_id, conversation_id, sender_id, type, text, metadata, reply_to_id,
        client_id, created_at, edited_at, deleted_at, ordinal, mentions, thread_id, attachments)
      select id, org_id, conversation_id, sender_id, type, text, metadata, null,
        client_id, created_at, null, null, ordinal, null, null, null from o
    ), r as (
      update membership set read_message_id = last.id, read_ordinal = last.ordinal, unread_excluded = 0,
        hidden = 0, draft = null, draft_updated_at = null
      from (select distinct on (conversation_id, sender_id) conversation_id, sender_id, id, ordinal
            from o order by conversation_id, sender_id, ordinal desc) last
      where membership.conversation_id = last.conversation_id and membership.actor_id = last.sender_id
        and membership.left_at is null
    ), e as (
      insert into event (seq, org_id, type, conversation_id, recipients, to_members, payload, created_at, message_id)
      select (pg_current_xact_id()::text::bigint << 16) + (row_number() over (order by k) - 1), org_id,
        event_type, conversation_id, '[]', 1, payload, event_created_at, id from o
      returning seq, message_id
    )
    select o.k, o.ordinal, e.seq from o join e on e.message_id = o.id`.execute(db);
  const out: ({ ordinal: number; seq: number } | null)[] = sends.map(() => null);
  for (const r of rows) out[Number(r.k) - 1] = { ordinal: Number(r.ordinal), seq: Number(r.seq) };
  return out;
}
