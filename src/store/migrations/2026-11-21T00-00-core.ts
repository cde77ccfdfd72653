import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * The core tables. One migration for both databases: ids are `integer` on SQLite (so the
 * message id is the rowid and rows are stored in id order) and `bigint` on PostgreSQL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('org')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('actor')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('role', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('external_id', 'text')
    .addColumn('phone', 'text')
    .addColumn('ip', 'text')
    .addColumn('country', 'text')
    .addColumn('channel', 'text')
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('actor_org_external_id')
    .on('actor')
    .columns(['org_id', 'external_id'])
    .unique()
    .execute();
  await db.schema.createIndex('actor_org_kind').on('actor').columns(['org_id', 'kind', 'id']).execute();
  await db.schema.createIndex('actor_org_email').on('actor').columns(['org_id', 'email']).execute();

  await db.schema
    .createTable('access_token')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('actor_id', id, (c) => c.notNull().references('actor.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('access_token_actor').on('access_token').column('actor_id').execute();

  await db.schema
    .createTable('conversation')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('creator_id', id, (c) => c.notNull())
    .addColumn('direct_key', 'text')
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_message_id', id)
    .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // A direct chat between the same two actors is one conversation, whoever creates it.
  await db.schema
    .createIndex('conversation_direct_key')
    .on('conversation')
    .columns(['org_id', 'direct_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('member')
    .addColumn('conversation_id', id, (c) => c.notNull().references('conversation.id').onDelete('cascade'))
    .addColumn('actor_id', id, (c) => c.notNull().references('actor.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('joined_at', 'bigint', (c) => c.notNull())
    .addColumn('left_at', 'bigint')
    .addColumn('muted_until', 'bigint')
    .addColumn('read_message_id', id)
    .addColumn('unread_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('draft', 'text')
    .addColumn('draft_updated_at', 'bigint')
    .addColumn('hidden', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pinned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('activity_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('member_pk', ['conversation_id', 'actor_id'])
    .execute();
  // The conversation list: one actor's rows, pinned first then by activity, read by keyset.
  await db.schema
    .createIndex('member_actor_activity')
    .on('member')
    .columns(['actor_id', 'pinned', 'activity_at', 'conversation_id'])
    .execute();

  await db.schema
    .createTable('message')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('conversation_id', id, (c) => c.notNull().references('conversation.id').onDelete('cascade'))
    .addColumn('sender_id', id, (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('metadata', 'text')
    .addColumn('reply_to_id', id)
    .addColumn('client_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('edited_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('message_conversation')
    .on('message')
    .columns(['conversation_id', 'id'])
    .execute();
  // A retried send with the same client id finds the first message instead of making a second.
  await db.schema
    .createIndex('message_client_id')
    .on('message')
    .columns(['org_id', 'sender_id', 'client_id'])
    .unique()
    .execute();

  await db.schema
    .createTable('sticky_message')
    .addColumn('conversation_id', id, (c) => c.primaryKey().references('conversation.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('message_id', id, (c) => c.notNull())
    .addColumn('creator_id', id, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('notify', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('sticky_message_expires').on('sticky_message').column('expires_at').execute();

  await db.schema
    .createTable('idempotency_key')
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('actor_id', id, (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('body', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_key_pk', ['org_id', 'actor_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_key_created').on('idempotency_key').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'idempotency_key',
    'sticky_message',
    'message',
    'member',
    'conversation',
    'access_token',
    'actor',
    'org',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
