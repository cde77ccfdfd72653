import { type Kysely, sql } from 'kysely';

/**
 * Fewer index entries per send, the second step (the first: 2026-12-06T02-00-lean-send-indexes).
 * Every send inserts one event, and every index of `event` takes an entry for it; three of the
 * five served rare paths only:
 * - `event_created` (created_at): the retention sweep. It now walks the log by position from
 *   the oldest event and stops at the first one inside the retention (repos/events.ts,
 *   deleteEventsBefore), which reads only what it deletes.
 * - `event_conversation` (conversation_id) and `event_message` (message_id): the purge of a
 *   conversation's events and the redaction of a deleted message's copies. One index on
 *   (conversation_id, message_id), partial to events of a conversation, serves both: the
 *   redaction names the message's conversation (a message's events always carry it).
 * And `message_client_id` holds the messages sent with a client id only (partial): a send
 * without one writes no entry; its ON CONFLICT targets name the condition (repos/messages.ts).
 *
 * So a send writes three index entries in `event` instead of five, and three in `message`
 * instead of four when it has no client id. On a large database this migration rebuilds these
 * indexes once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('event_created').execute();
  await db.schema.dropIndex('event_message').execute();
  await db.schema.dropIndex('event_conversation').execute();
  await db.schema
    .createIndex('event_conversation')
    .on('event')
    .columns(['conversation_id', 'message_id'])
    .where(sql.ref('conversation_id'), 'is not', null)
    .execute();
  await db.schema.dropIndex('message_client_id').execute();
  await clientIdIndex(db).where(sql.ref('client_id'), 'is not', null).execute();
}

const clientIdIndex = (db: Kysely<any>) =>
  db.schema
    .createIndex('message_client_id')
    .on('message')
    .unique()
    .columns(['org_id', 'sender_id', 'client_id']);

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('message_client_id').execute();
  await clientIdIndex(db).execute();
  await db.schema.dropIndex('event_conversation').execute();
  await db.schema.createIndex('event_conversation').on('event').column('conversation_id').execute();
  await db.schema
    .createIndex('event_message')
    .on('event')
    .column('message_id')
    .where(sql.ref('message_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('event_created').on('event').column('created_at').execute();
}
