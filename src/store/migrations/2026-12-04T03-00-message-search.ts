import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Full-text search over message text (GET /v1/search/messages, repos/search.ts).
 *
 * SQLite: an FTS5 external-content table `message_fts` over `message.text` (rowid = message
 * id, so the text is stored once, in `message`), kept in step by triggers: a message's index
 * entry is written, replaced and removed in the same transaction as the message itself (an
 * edit, a delete for everyone, which sets text NULL, and a purge, whose cascade deletes fire
 * the delete trigger). `secure-delete` makes a removal rewrite the index pages that held the
 * terms instead of only recording a tombstone, so erased text leaves the index's own pages
 * too (and with PRAGMA secure_delete the freed pages are zeroed). Tokenizer unicode61 with
 * diacritics folded: any language that separates words with spaces or punctuation, no
 * stemming. `columnsize=0`: the search orders by id, never by bm25, so no sizes are kept.
 *
 * PostgreSQL: a generated `search` tsvector column (configuration `simple`: lower-cased words,
 * no stemming and no stop words, so every language is indexed the same way, like the SQLite
 * side) with a GIN index. It is NULL when the text is (a deleted message has no lexemes).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    await sql`alter table message add column search tsvector
      generated always as (to_tsvector('simple'::regconfig, text)) stored`.execute(db);
    await sql`create index message_search on message using gin (search)`.execute(db);
    return;
  }
  await sql`create virtual table message_fts using fts5(
      text, content = 'message', content_rowid = 'id',
      tokenize = 'unicode61 remove_diacritics 2', columnsize = 0)`.execute(db);
  await sql`insert into message_fts (message_fts, rank) values ('secure-delete', 1)`.execute(db);
  await sql`insert into message_fts (message_fts) values ('rebuild')`.execute(db);
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

export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    await sql`drop index message_search`.execute(db);
    await sql`alter table message drop column search`.execute(db);
    return;
  }
  for (const t of ['message_fts_insert', 'message_fts_delete', 'message_fts_update'])
    await sql`drop trigger ${sql.raw(t)}`.execute(db);
  await sql`drop table message_fts`.execute(db);
}
