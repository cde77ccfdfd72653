import { sql } from 'kysely';
import type { Db } from '../../context.ts';
import type { Message } from '../../domain/model.ts';
import { prepared, type Slots } from '../prepared.ts';
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
      })
      .onConflict((oc) => oc.columns(['org_id', 'sender_id', 'client_id']).doNothing()),
);

export async function insertMessage(db: Db, m: Message): Promise<{ message: Message; created: boolean }> {
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
  });
  // Stored as given: the row is the input (no need to read it back; RETURNING costs).
  if (inserted > 0) return { message: m, created: true };
  const existing = await db
    .selectFrom('message')
    .selectAll()
    .where('org_id', '=', m.orgId)
    .where('sender_id', '=', m.senderId)
    .where('client_id', '=', m.clientId)
    .executeTakeFirstOrThrow();
  return { message: toMessage(existing), created: false };
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

export async function updateMessageText(db: Db, id: string, text: string, now: number): Promise<Message> {
  const row = await db
    .updateTable('message')
    .set({ text, edited_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
}

/** Deletes for everyone: the row stays as a tombstone so history and replies keep their place. */
export async function markMessageDeleted(db: Db, id: string, now: number): Promise<Message> {
  const row = await db
    .updateTable('message')
    .set({ text: null, metadata: null, deleted_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
}

/**
 * Records a new message on the conversation and on every current member's row in two
 * statements; returns the current members' ids (the message's audience).
 */
const touchConversation = prepared((db, p: Slots<'id' | 'messageId' | 'at'>) =>
  db
    .updateTable('conversation')
    .set({ last_message_id: p.messageId, last_activity_at: p.at, updated_at: p.at })
    .where('id', '=', p.id),
);

// Two plain UPDATEs and a read rather than one UPDATE with CASE ... RETURNING: SQLite's
// RETURNING buffers and materializes every row, which cost twice as much as the updates
// themselves for a 20-member group (measured with bench/diag-cpu.ts --sql).
const touchOthers = prepared((db, p: Slots<'conversationId' | 'senderId' | 'at'>) =>
  db
    .updateTable('member')
    .set({ activity_at: p.at, hidden: 0, unread_count: sql`unread_count + 1` })
    .where('conversation_id', '=', p.conversationId)
    .where('actor_id', '<>', p.senderId)
    .where('left_at', 'is', null),
);

const touchSender = prepared((db, p: Slots<'conversationId' | 'senderId' | 'messageId' | 'at'>) =>
  db
    .updateTable('member')
    .set({
      activity_at: p.at,
      hidden: 0,
      unread_count: 0,
      read_message_id: p.messageId,
      draft: null,
      draft_updated_at: null,
    })
    .where('conversation_id', '=', p.conversationId)
    .where('actor_id', '=', p.senderId)
    .where('left_at', 'is', null),
);

const currentMemberIds = prepared((db, p: Slots<'conversationId'>) =>
  db
    .selectFrom('member')
    .select('actor_id')
    .where('conversation_id', '=', p.conversationId)
    .where('left_at', 'is', null),
);

/**
 * After a message: the conversation's last message and activity move, every current member's
 * activity moves and the conversation is un-hidden for them, the others' unread counts grow,
 * and the sender has read up to it (its draft goes). Returns the current members (the audience).
 */
export async function recordActivity(db: Db, m: Message): Promise<string[]> {
  await touchConversation.execute(db, { id: m.conversationId, messageId: m.id, at: m.createdAt });
  await touchOthers.execute(db, { conversationId: m.conversationId, senderId: m.senderId, at: m.createdAt });
  await touchSender.execute(db, {
    conversationId: m.conversationId,
    senderId: m.senderId,
    messageId: m.id,
    at: m.createdAt,
  });
  const rows = await currentMemberIds.execute(db, { conversationId: m.conversationId });
  return rows.map((r) => String(r.actor_id));
}

/** A deleted message no longer counts as unread for members who had not read it. */
export async function uncountDeleted(db: Db, m: Message): Promise<void> {
  await db
    .updateTable('member')
    .set({ unread_count: sql`unread_count - 1` })
    .where('conversation_id', '=', m.conversationId)
    .where('left_at', 'is', null)
    .where('actor_id', '<>', m.senderId)
    .where('unread_count', '>', 0)
    .where((eb) => eb.or([eb('read_message_id', 'is', null), eb('read_message_id', '<', m.id)]))
    .execute();
}

export async function countUnread(
  db: Db,
  conversationId: string,
  actorId: string,
  afterId: string | null,
): Promise<number> {
  let q = db
    .selectFrom('message')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('conversation_id', '=', conversationId)
    .where('sender_id', '<>', actorId)
    .where('deleted_at', 'is', null);
  if (afterId) q = q.where('id', '>', afterId);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}
