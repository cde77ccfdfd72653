import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Live support and the recycle bin: departments and their operators, the support columns of
 * a conversation (state machine, visitor, owner/attender, queue times, recycle-bin times), a
 * per-org counter for the support reference number, and the audit log that outlives purges.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('department')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('department_org_name')
    .on('department')
    .columns(['org_id', 'name'])
    .unique()
    .execute();

  await db.schema
    .createTable('operator_department')
    .addColumn('actor_id', id, (c) => c.notNull().references('actor.id').onDelete('cascade'))
    .addColumn('department_id', id, (c) => c.notNull().references('department.id').onDelete('cascade'))
    .addColumn('org_id', id, (c) => c.notNull())
    .addPrimaryKeyConstraint('operator_department_pk', ['actor_id', 'department_id'])
    .execute();
  await db.schema
    .createIndex('operator_department_department')
    .on('operator_department')
    .column('department_id')
    .execute();

  // One row per org holding the last support reference number; the row update inside the
  // creating transaction serializes concurrent starts, so numbers never repeat.
  await db.schema
    .createTable('org_support_seq')
    .addColumn('org_id', id, (c) => c.primaryKey().references('org.id').onDelete('cascade'))
    .addColumn('last_reference', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // SQLite adds one column per ALTER TABLE statement.
  const columns: [string, string][] = [
    ['state', 'text'],
    ['department_id', id],
    ['visitor_id', id],
    ['owner_id', id],
    ['attender_id', id],
    ['question', 'text'],
    ['reference_id', 'bigint'],
    ['uvid', 'text'],
    ['channel', 'text'],
    ['attended_at', 'bigint'],
    ['ended_at', 'bigint'],
    ['missed_at', 'bigint'],
    ['deleted_at', 'bigint'],
    ['purge_at', 'bigint'],
    ['deleted_by', id],
    ['open_key', 'text'],
  ];
  for (const [name, type] of columns) {
    await db.schema
      .alterTable('conversation')
      .addColumn(name, type as 'text')
      .execute();
  }
  // "At most one open chat per visitor per department" is this index: open_key is
  // `<visitor_id>:<department_id>` while a support chat is waiting or connected, NULL otherwise,
  // and both databases let any number of rows share a NULL.
  await db.schema
    .createIndex('conversation_open_key')
    .on('conversation')
    .columns(['org_id', 'open_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('conversation_reference')
    .on('conversation')
    .columns(['org_id', 'reference_id'])
    .unique()
    .execute();
  // The operators' queue and the missed-chat sweep: waiting chats of a department, oldest first.
  await db.schema
    .createIndex('conversation_support_state')
    .on('conversation')
    .columns(['org_id', 'state', 'department_id', 'created_at'])
    .execute();
  // The recycle-bin list (per org) and the purge job (across orgs, by due time).
  await db.schema
    .createIndex('conversation_deleted')
    .on('conversation')
    .columns(['org_id', 'deleted_at'])
    .execute();
  await db.schema.createIndex('conversation_purge_at').on('conversation').column('purge_at').execute();

  // Kept apart from conversations (no foreign key to them), so a purge leaves its record.
  await db.schema
    .createTable('audit_event')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('actor_id', id)
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_event_org').on('audit_event').columns(['org_id', 'id']).execute();
  await db.schema
    .createIndex('audit_event_target')
    .on('audit_event')
    .columns(['org_id', 'target_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'conversation_open_key',
    'conversation_reference',
    'conversation_support_state',
    'conversation_deleted',
    'conversation_purge_at',
  ]) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  for (const column of [
    'state',
    'department_id',
    'visitor_id',
    'owner_id',
    'attender_id',
    'question',
    'reference_id',
    'uvid',
    'channel',
    'attended_at',
    'ended_at',
    'missed_at',
    'deleted_at',
    'purge_at',
    'deleted_by',
    'open_key',
  ]) {
    await db.schema.alterTable('conversation').dropColumn(column).execute();
  }
  for (const t of ['audit_event', 'org_support_seq', 'operator_department', 'department'])
    await db.schema.dropTable(t).ifExists().execute();
}
