import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * SQLite: the search index (`message_fts`, FTS5) is written once per commit instead of once
 * per message. FTS5 writes what it was given as a new index segment at every savepoint, and the
 * group commit (store/group-commit.ts) runs each write transaction of a batch in a savepoint of
 * its own: every send wrote a one-message segment, and merging those segments was a quarter of
 * the CPU of a send (docs/performance.md). Now a new or edited message's id goes in
 * `message_fts_pending` (a plain table: a b-tree entry, rolled back with its savepoint like
 * any write), and `indexPendingMessages` (repos/search.ts) indexes what is pending in one
 * statement just before each COMMIT, in the same transaction: the group commit's batch, or a
 * transaction of its own (services/tx.ts). So a message is searchable from the moment it is
 * committed, as before, and its index entries still commit and roll back with it.
 *
 * The update and delete triggers keep the index exact: a message whose text changes or goes
 * (an edit, a delete for everyone, a purge) loses its index entry at once when it had one
 * (secure-delete, migration 2026-12-04T03-00-message-search), or only its pending mark when it
 * was not indexed yet. PostgreSQL: nothing (its tsvector column is written with the row).
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`create table message_fts_pending (id integer primary key)`.execute(db);
  for (const t of ['message_fts_insert', 'message_fts_delete', 'message_fts_update'])
    await sql`drop trigger ${sql.raw(t)}`.execute(db);
  await sql`create trigger message_fts_insert after insert on message when new.text is not null begin
      insert or ignore into message_fts_pending (id) values (new.id);
    end`.execute(db);
  await sql`create trigger message_fts_delete after delete on message begin
      insert into message_fts (message_fts, rowid, text)
        select 'delete', old.id, old.text
        where old.text is not null and not exists (select 1 from message_fts_pending where id = old.id);
      delete from message_fts_pending where id = old.id;
    end`.execute(db);
  await sql`create trigger message_fts_update after update of text on message begin
      insert into message_fts (message_fts, rowid, text)
        select 'delete', old.id, old.text
        where old.text is not null and not exists (select 1 from message_fts_pending where id = old.id);
      delete from message_fts_pending where id = old.id;
      insert or ignore into message_fts_pending (id) select new.id where new.text is not null;
    end`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`insert into message_fts (rowid, text)
      select m.id, m.text from message_fts_pending p join message m on m.id = p.id
      where m.text is not null`.execute(db);
  for (const t of ['message_fts_insert', 'message_fts_delete', 'message_fts_update'])
    await sql`drop trigger ${sql.raw(t)}`.execute(db);
  await sql`drop table message_fts_pending`.execute(db);
  await sql`create trigger message_fts_insert after insert on message when new.text is not null begin
      insert into message_fts (rowid, text) values (new.id, new.text);
    end`.execute(db);
  await sql`create trigger message_fts_delete after delete on message when old.text is not null begin
      insert into message_fts (message_fts, rowid, text) values ('delete', old.id, old.text);
    end`.execute(db);
  await sql`create trigger message_fts_update after update of text on message begin
      insert into message_fts (message_fts, rowid, text)
        select 'delete', old.id, old.text where old.text is not null;
      insert into message_fts (rowid, text) select new.id, new.text where new.text is not null;
    end`.execute(db);
}
