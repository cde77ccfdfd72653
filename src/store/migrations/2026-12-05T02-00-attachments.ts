import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Attachments (services/attachments.ts). `attachment` holds one row per uploaded file: who
 * uploaded it, the sniffed type, the size, where its bytes (and its preview's) are in the blob
 * store, and the message it was attached to (null until then). No foreign keys to the org or
 * the message on purpose: when a message, a conversation or an org goes, the row stays behind
 * until the sweep (sweepAttachments) has removed its bytes from storage, then it goes too, so
 * a crash between the two never leaks a file.
 *
 * `message.attachments` is the JSON array of what the message shows of its attachments (id,
 * name, type, size, dimensions): history, events and search read it with the row, no join.
 * NULL for a message without any (the has_attachment search filter tests it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';
  await db.schema
    .createTable('attachment')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('uploader_id', id, (c) => c.notNull())
    .addColumn('conversation_id', id)
    .addColumn('message_id', id)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('preview_key', 'text')
    .addColumn('preview_size', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('attached_at', 'bigint')
    .execute();
  await db.schema.createIndex('attachment_org').on('attachment').columns(['org_id', 'id']).execute();
  await db.schema.createIndex('attachment_message').on('attachment').column('message_id').execute();
  await db.schema.alterTable('message').addColumn('attachments', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('message').dropColumn('attachments').execute();
  await db.schema.dropTable('attachment').execute();
}
