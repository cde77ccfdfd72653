import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * The event log (every change a client may see, numbered per org in commit order, for the
 * realtime stream and catch-up), API apps of the signed dialect, and the nonces they used.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';

  // One row per org holding the last event number; incrementing it inside the writing
  // transaction gives events a gap-free order that matches commit order.
  await db.schema
    .createTable('org_event_seq')
    .addColumn('org_id', id, (c) => c.primaryKey().references('org.id').onDelete('cascade'))
    .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('event')
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('conversation_id', id)
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_pk', ['org_id', 'seq'])
    .execute();
  await db.schema.createIndex('event_conversation').on('event').columns(['conversation_id']).execute();
  await db.schema.createIndex('event_created').on('event').columns(['created_at']).execute();

  await db.schema
    .createTable('app')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('app_id', 'bigint', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('server_secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('app_org').on('app').column('org_id').execute();

  await db.schema
    .createTable('used_nonce')
    .addColumn('app_id', 'bigint', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('used_nonce_pk', ['app_id', 'nonce'])
    .execute();
  await db.schema.createIndex('used_nonce_expires').on('used_nonce').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['used_nonce', 'app', 'event', 'org_event_seq'])
    await db.schema.dropTable(t).ifExists().execute();
}
