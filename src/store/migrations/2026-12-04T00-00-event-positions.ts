import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Event positions without an org-wide lock (see store/repos/events.ts for the scheme).
 *
 * The per-org counter row (`org_event_seq`) is gone: every writer of an org took it with an
 * UPDATE and held it until commit, so on PostgreSQL all writers of an org (on every node)
 * committed one at a time. Events are now numbered by one position for the whole store:
 * - SQLite: `seq INTEGER PRIMARY KEY AUTOINCREMENT` (one writer at a time anyway; the
 *   number is never reused, even after the newest rows are deleted);
 * - PostgreSQL: the writing transaction's id shifted left 16 bits plus the event's index in
 *   the transaction, read back only below the snapshot horizon.
 *
 * `message_id` names the message an event carries (`payload.message`), so a delete for
 * everyone finds that message's copies in the log and redacts them in its transaction.
 *
 * The event log is transient (kept 3 days for catch-up), so the old rows are dropped, and
 * `event_log.dropped_upto` is set above every number handed out before, so a client that
 * reconnects with an old `since` is told `resync_required` instead of missing events.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';
  const old = await sql<{ n: string | number | null }>`select max(last_seq) as n from org_event_seq`.execute(
    db,
  );
  const before = Number(old.rows[0]?.n ?? 0);

  await db.schema.dropTable('event').execute();
  await db.schema.dropTable('org_event_seq').execute();
  if (pg) {
    await db.schema
      .createTable('event')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('org_id', id, (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('conversation_id', id)
      .addColumn('recipients', 'text', (c) => c.notNull())
      .addColumn('to_members', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('message_id', id)
      .execute();
    // The gateways' tail read (seq, org) is index-only.
    await sql`create index event_seq_org on event (seq) include (org_id)`.execute(db);
  } else {
    await sql`create table event (
      seq integer primary key autoincrement,
      org_id integer not null,
      type text not null,
      conversation_id integer,
      recipients text not null,
      to_members integer not null default 0,
      payload text not null,
      created_at integer not null,
      message_id integer
    )`.execute(db);
    if (before > 0)
      await sql`insert into sqlite_sequence (name, seq) values ('event', ${before})`.execute(db);
  }
  await db.schema.createIndex('event_org_seq').on('event').columns(['org_id', 'seq']).execute();
  await db.schema.createIndex('event_conversation').on('event').columns(['conversation_id']).execute();
  await db.schema.createIndex('event_created').on('event').columns(['created_at']).execute();
  // The events that carry a message (`payload.message`), found when it is deleted for everyone
  // and redacted in place (docs/security.md#erasure).
  await db.schema
    .createIndex('event_message')
    .on('event')
    .column('message_id')
    .where(sql.ref('message_id'), 'is not', null)
    .execute();

  // Marks of what was removed: a `since` below `dropped_upto` may have missed dropped events
  // (resync_required); `removed_max` keeps the highest number ever handed out known after the
  // newest rows are purged (a `since` above it is invalid_since).
  await db.schema
    .createTable('event_log')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('dropped_upto', 'bigint', (c) => c.notNull())
    .addColumn('removed_max', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('event_log').values({ id: 1, dropped_upto: before, removed_max: before }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';
  await db.schema.dropTable('event_log').execute();
  await db.schema.dropTable('event').execute();
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
}
