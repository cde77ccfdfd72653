import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Team chat (issue 18): mentions, reactions, threads, per-user notification state. Nothing here
 * is a row per member per message:
 * - `mention`: one row per mentioned user of a message (actor_id 0: `@all`, one row whatever the
 *   number of members); a member's mention count is the rows after their read position
 *   (`ordinal > membership.read_ordinal`), like unread.
 * - `reaction`: one row per (message, user, emoji).
 * - threads: the parent (thread root) carries `reply_count` and `last_reply_at`, moved in the
 *   reply's transaction; each reply names its root (`thread_id`); `thread_member` keeps, per
 *   participant, how many replies they have read (thread unread = reply_count - read_count).
 * - `message.mentions`: the resolved mentions as JSON (ids, or "all"), returned on the message.
 * - `membership.digest_ordinal`: how far the offline digest mail has covered (never twice).
 * - `actor_notify`: per-user digest setting and when the last digest went (when a user was last
 *   online is presence's, in Redis or in process: a socket's life writes no row).
 * Rows of `mention`, `reaction` and `thread_member` go with their message (ON DELETE CASCADE:
 * purge and deletion jobs); delete for everyone removes them explicitly.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';

  await db.schema.alterTable('message').addColumn('mentions', 'text').execute();
  await db.schema.alterTable('message').addColumn('thread_id', id).execute();
  await db.schema
    .alterTable('message')
    .addColumn('reply_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('message').addColumn('last_reply_at', 'bigint').execute();
  await db.schema.createIndex('message_thread').on('message').columns(['thread_id', 'id']).execute();

  await db.schema
    .alterTable('membership')
    .addColumn('digest_ordinal', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('mention')
    .addColumn('message_id', id, (c) => c.notNull().references('message.id').onDelete('cascade'))
    .addColumn('actor_id', id, (c) => c.notNull())
    .addColumn('conversation_id', id, (c) => c.notNull())
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('sender_id', id, (c) => c.notNull())
    .addColumn('ordinal', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mention_pk', ['message_id', 'actor_id'])
    .execute();
  await db.schema
    .createIndex('mention_conversation_actor')
    .on('mention')
    .columns(['conversation_id', 'actor_id', 'ordinal'])
    .execute();

  await db.schema
    .createTable('reaction')
    .addColumn('message_id', id, (c) => c.notNull().references('message.id').onDelete('cascade'))
    .addColumn('actor_id', id, (c) => c.notNull())
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('conversation_id', id, (c) => c.notNull())
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('reaction_pk', ['message_id', 'emoji', 'actor_id'])
    .execute();

  await db.schema
    .createTable('thread_member')
    .addColumn('message_id', id, (c) => c.notNull().references('message.id').onDelete('cascade'))
    .addColumn('actor_id', id, (c) => c.notNull())
    .addColumn('conversation_id', id, (c) => c.notNull())
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('read_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('following', 'integer', (c) => c.notNull().defaultTo(1))
    .addPrimaryKeyConstraint('thread_member_pk', ['message_id', 'actor_id'])
    .execute();
  await db.schema
    .createIndex('thread_member_actor')
    .on('thread_member')
    .columns(['actor_id', 'conversation_id'])
    .execute();

  await db.schema
    .createTable('actor_notify')
    .addColumn('actor_id', id, (c) => c.primaryKey().references('actor.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    /** Minutes offline before a digest; null: the org's setting; 0: never. */
    .addColumn('digest_minutes', 'integer')
    .addColumn('digest_sent_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['actor_notify', 'thread_member', 'reaction', 'mention'])
    await db.schema.dropTable(t).ifExists().execute();
  await db.schema.dropIndex('message_thread').execute();
  await db.schema.alterTable('membership').dropColumn('digest_ordinal').execute();
  for (const c of ['last_reply_at', 'reply_count', 'thread_id', 'mentions'])
    await db.schema.alterTable('message').dropColumn(c).execute();
}
