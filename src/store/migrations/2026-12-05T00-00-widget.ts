import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * The website chat widget and the operator workspace: widgets (public key, identity secret,
 * allowed origins, departments, pre-chat fields, texts, colour), the visitor credentials a
 * widget hands out (stored hashed), what a widget chat remembers of how it started (page, name,
 * email), operators' availability, and the org's canned responses.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('widget')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('public_key', 'text', (c) => c.notNull().unique())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // JSON arrays and objects, as text on both databases.
    .addColumn('allowed_origins', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('department_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('prechat', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('greeting', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('offline_message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('colour', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('widget_org').on('widget').columns(['org_id', 'id']).execute();

  // A visitor credential: 32 random bytes shown once, only its SHA-256 kept.
  await db.schema
    .createTable('widget_session')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('widget_id', id, (c) => c.notNull().references('widget.id').onDelete('cascade'))
    .addColumn('visitor_id', id, (c) => c.notNull().references('actor.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('widget_session_visitor')
    .on('widget_session')
    .columns(['visitor_id'])
    .execute();

  // What a chat started from a widget remembers: the page, the pre-chat answers.
  await db.schema
    .createTable('widget_chat')
    .addColumn('conversation_id', id, (c) => c.primaryKey().references('conversation.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('widget_id', id, (c) => c.notNull().references('widget.id').onDelete('cascade'))
    .addColumn('visitor_id', id, (c) => c.notNull())
    .addColumn('page_url', 'text')
    .addColumn('email', 'text')
    .addColumn('offline', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('widget_chat_visitor')
    .on('widget_chat')
    .columns(['org_id', 'visitor_id', 'created_at'])
    .execute();

  // Availability is read by routing and by every node's widgets: in the database, so every
  // node sees the same answer and it survives restarts (Redis is optional).
  await db.schema
    .createTable('operator_availability')
    .addColumn('actor_id', id, (c) => c.primaryKey().references('actor.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('operator_availability_org')
    .on('operator_availability')
    .columns(['org_id', 'status'])
    .execute();

  await db.schema
    .createTable('canned_response')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('shortcut', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_by', id)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('canned_response_shortcut')
    .on('canned_response')
    .columns(['org_id', 'shortcut'])
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['canned_response', 'operator_availability', 'widget_chat', 'widget_session', 'widget'])
    await db.schema.dropTable(t).ifExists().execute();
}
