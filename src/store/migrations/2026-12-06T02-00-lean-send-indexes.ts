import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Fewer index entries per send. Every send moves the conversation's `last_activity_at`, which
 * the list's index holds, so on PostgreSQL the update cannot be HOT and writes a new entry in
 * EVERY index of `conversation` (eight before this migration), and the WAL and the vacuum that
 * go with them. Most of those indexes concern a few rows only (direct chats, support chats,
 * conversations in the recycle bin): they become partial, holding only those rows, so a send
 * into a group or channel writes entries in three of them (the primary key, the list's order,
 * and none of the partial ones). The same for a message's thread index (replies only) and, on
 * PostgreSQL, the event log's tail index, which becomes the primary key's INCLUDE column.
 *
 * Every query that used these indexes names a value of the indexed column (`= ?`, `<= ?`, `is
 * not null`), which implies the partial index's condition, so both databases still use them;
 * the two ON CONFLICT targets name the condition (repos/conversations.ts, repos/support.ts).
 * SQLite writes only the indexes whose columns an update changes, so there the gain is the
 * smaller indexes. On a large database this migration rebuilds these indexes once.
 */
const PARTIAL: { name: string; columns: string[]; unique: boolean; where: string }[] = [
  { name: 'conversation_direct_key', columns: ['org_id', 'direct_key'], unique: true, where: 'direct_key' },
  { name: 'conversation_open_key', columns: ['org_id', 'open_key'], unique: true, where: 'open_key' },
  {
    name: 'conversation_reference',
    columns: ['org_id', 'reference_id'],
    unique: true,
    where: 'reference_id',
  },
  {
    name: 'conversation_support_state',
    columns: ['org_id', 'state', 'department_id', 'created_at'],
    unique: false,
    where: 'state',
  },
  { name: 'conversation_deleted', columns: ['org_id', 'deleted_at'], unique: false, where: 'deleted_at' },
  { name: 'conversation_purge_at', columns: ['purge_at'], unique: false, where: 'purge_at' },
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const ix of PARTIAL) {
    await db.schema.dropIndex(ix.name).execute();
    let create = db.schema.createIndex(ix.name).on('conversation').columns(ix.columns);
    if (ix.unique) create = create.unique();
    await create.where(sql.ref(ix.where), 'is not', null).execute();
  }
  await db.schema.dropIndex('message_thread').execute();
  await db.schema
    .createIndex('message_thread')
    .on('message')
    .columns(['thread_id', 'id'])
    .where(sql.ref('thread_id'), 'is not', null)
    .execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // The gateways' tail read (seq, org) stays index-only, on the primary key itself.
    await sql`alter table event drop constraint event_pkey`.execute(db);
    await sql`alter table event add constraint event_pkey primary key (seq) include (org_id)`.execute(db);
    await sql`drop index event_seq_org`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create index event_seq_org on event (seq) include (org_id)`.execute(db);
    await sql`alter table event drop constraint event_pkey`.execute(db);
    await sql`alter table event add constraint event_pkey primary key (seq)`.execute(db);
  }
  await db.schema.dropIndex('message_thread').execute();
  await db.schema.createIndex('message_thread').on('message').columns(['thread_id', 'id']).execute();
  for (const ix of PARTIAL) {
    await db.schema.dropIndex(ix.name).execute();
    let create = db.schema.createIndex(ix.name).on('conversation').columns(ix.columns);
    if (ix.unique) create = create.unique();
    await create.execute();
  }
}
