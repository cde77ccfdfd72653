import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * SQLite only: `message_fts_vocab`, an fts5vocab table over `message_fts` (it stores nothing:
 * each read walks the FTS index). The search (repos/search.ts `expandPrefixes`) reads from it
 * the indexed words that start with a query word, so that FTS5 can be asked for those exact
 * words instead of a prefix: FTS5 answers a prefix (`"deploy"*`) by merging the whole posting
 * list of every matching word before it hands over the first row, while exact words are read
 * lazily from the newest end and the page stops early. PostgreSQL: nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`create virtual table message_fts_vocab using fts5vocab(message_fts, 'row')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`drop table message_fts_vocab`.execute(db);
}
