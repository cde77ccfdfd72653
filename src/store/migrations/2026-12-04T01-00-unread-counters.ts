import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * A send writes a fixed number of rows, whatever the number of members (Mattermost's model).
 *
 * Before, each message rewrote every member's row (unread count, list activity, un-hiding).
 * Now:
 * - `conversation.message_count` counts the conversation's messages (deleted ones too), and
 *   each message carries its `ordinal` (1, 2, … in the conversation);
 * - a membership row keeps the member's read position as an ordinal (`read_ordinal`) and how
 *   many messages after it do not count (`unread_excluded`: deleted before they were read);
 *   unread = message_count - read_ordinal - unread_excluded;
 * - "hidden for me" comes back on new activity by comparison: hidden while no message came
 *   after `hidden_ordinal`;
 * - the list orders by the conversation's own `last_activity_at` (the member row's copy was
 *   always equal to it).
 *
 * The member rows move to the table `membership`; `member` becomes a view with the derived
 * columns under their old names (unread_count, hidden, activity_at), so every read of a
 * member answers as before. Writes go to `membership`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .alterTable('conversation')
    .addColumn('message_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('message').addColumn('ordinal', 'bigint').execute();
  await sql`update message set ordinal = r.n from (
      select id, row_number() over (partition by conversation_id order by id) as n from message
    ) as r where message.id = r.id`.execute(db);
  await sql`update conversation set message_count =
      (select count(*) from message where message.conversation_id = conversation.id)`.execute(db);

  await db.schema.dropIndex('member_actor_activity').execute();
  await db.schema.alterTable('member').renameTo('membership').execute();
  for (const [col, type] of [
    ['read_ordinal', 'bigint'],
    ['unread_excluded', 'bigint'],
    ['hidden_ordinal', 'bigint'],
  ] as const) {
    await db.schema
      .alterTable('membership')
      .addColumn(col, type, (c) => c.notNull().defaultTo(0))
      .execute();
  }
  // Keeps every unread count and hidden flag as it was.
  await sql`update membership set
      read_ordinal = (select c.message_count from conversation c where c.id = membership.conversation_id) - unread_count,
      hidden_ordinal = (select c.message_count from conversation c where c.id = membership.conversation_id)`.execute(
    db,
  );
  await db.schema.alterTable('membership').dropColumn('unread_count').execute();
  await db.schema.alterTable('membership').dropColumn('activity_at').execute();

  await db.schema
    .createIndex('membership_actor')
    .on('membership')
    .columns(['actor_id', 'pinned', 'conversation_id'])
    .execute();
  // The list walks an org's conversations newest activity first (repos/conversations.ts).
  await db.schema
    .createIndex('conversation_org_activity')
    .on('conversation')
    .columns(['org_id', 'last_activity_at', 'id'])
    .execute();

  const unread = pg
    ? sql`greatest(c.message_count - m.read_ordinal - m.unread_excluded, 0)`
    : sql`max(c.message_count - m.read_ordinal - m.unread_excluded, 0)`;
  await sql`create view member as select
      m.conversation_id, m.actor_id, m.org_id, m.role, m.joined_at, m.left_at, m.muted_until,
      m.read_message_id, ${unread} as unread_count, m.draft, m.draft_updated_at,
      case when m.hidden = 1 and c.message_count <= m.hidden_ordinal then 1 else 0 end as hidden,
      m.pinned, c.last_activity_at as activity_at
    from membership m join conversation c on c.id = m.conversation_id`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop view member`.execute(db);
  await db.schema.dropIndex('conversation_org_activity').execute();
  await db.schema.dropIndex('membership_actor').execute();
  await db.schema
    .alterTable('membership')
    .addColumn('unread_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('membership')
    .addColumn('activity_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update membership set
      unread_count = (select c.message_count from conversation c where c.id = membership.conversation_id) - read_ordinal - unread_excluded,
      activity_at = (select c.last_activity_at from conversation c where c.id = membership.conversation_id)`.execute(
    db,
  );
  for (const col of ['read_ordinal', 'unread_excluded', 'hidden_ordinal'])
    await db.schema.alterTable('membership').dropColumn(col).execute();
  await db.schema.alterTable('membership').renameTo('member').execute();
  await db.schema
    .createIndex('member_actor_activity')
    .on('member')
    .columns(['actor_id', 'pinned', 'activity_at', 'conversation_id'])
    .execute();
  await db.schema.alterTable('message').dropColumn('ordinal').execute();
  await db.schema.alterTable('conversation').dropColumn('message_count').execute();
}
