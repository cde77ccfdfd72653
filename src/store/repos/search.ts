import { PostgresAdapter, sql } from 'kysely';
import type { ConversationKind, Message } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
import { toMessage } from './rows.ts';

/**
 * Message search (migration 2026-12-04T03-00-message-search): SQLite's FTS5 table
 * `message_fts`, PostgreSQL's tsvector column `message.search`. The terms come already split
 * into words (services/search.ts); each is written into the match expression as a quoted
 * string, never as the engine's query syntax, so nothing the user types is parsed as an
 * operator. Every term must match, as a word or the start of one.
 */
export interface MessageSearch {
  orgId: string;
  actorId: string;
  /** Words (letters and digits only), at least one. */
  terms: readonly string[];
  /**
   * Support chats the caller sees without being a member: null for none, 'all' for every
   * support chat of the org, or those of these departments.
   */
  supportDepartments: 'all' | readonly string[] | null;
  conversationId?: string | undefined;
  senderId?: string | undefined;
  /** created_at >= after, created_at < before (epoch ms). */
  after?: number | undefined;
  before?: number | undefined;
  /** true: only messages with attachments (`message.attachments` not null); false: only without. */
  hasAttachment?: boolean | undefined;
  /** Messages with a smaller id than this (the keyset of the previous page). */
  belowId?: string | undefined;
  limit: number;
  /** PostgreSQL: the newest messages stage one reads (RECENT_WINDOW; tests make it small). */
  recentWindow?: number | undefined;
  /** SQLite: false asks FTS5 for the prefixes as such (tests compare it with the expansion). */
  expandPrefixes?: boolean | undefined;
}

export interface SearchHit {
  message: Message;
  conversation: { id: string; kind: ConversationKind; title: string | null };
}

/** FTS5: `"term"*` per word (a quoted string, `"` doubled), all of them required. */
export function ftsExpression(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"*`).join(' AND ');
}

/** SQLite: at most this many indexed words stand for one query word; more, and it stays a prefix. */
export const MAX_EXPANSION = 64;

/**
 * SQLite: each query word as the indexed words that start with it, `("deploy" OR "deployed")`,
 * read from `message_fts_vocab` (migration 2026-12-06T01-00-storage-search-vocab); the same
 * rows as `"deploy"*`, but FTS5 reads exact words' posting lists lazily from the newest end,
 * where it answers a prefix by first merging the whole posting list of every word it covers
 * (about 20 ms per common word at 1M messages, whatever the LIMIT or a rowid range).
 *
 * Only for words of ASCII letters and digits, whose indexed form is the word itself (the
 * tokenizer lower-cases them and folds nothing else); any other word, or one that more than
 * MAX_EXPANSION indexed words start with, stays a prefix. Reading the vocabulary costs the
 * posting lists of the longer words only (`term > word`), which are rarer than the word.
 */
async function expandPrefixes(db: Db, terms: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const t of terms) {
    if (!/^[a-z0-9]+$/.test(t)) {
      parts.push(`"${t.replaceAll('"', '""')}"*`);
      continue;
    }
    // Every word that starts with t sorts after it and before t followed by U+10FFFF.
    const longer = (
      await sql<{ term: string }>`select term from message_fts_vocab
        where term > ${t} and term < ${`${t}\u{10FFFF}`} limit ${MAX_EXPANSION}`.execute(db)
    ).rows
      .map((r) => r.term)
      .filter((w) => w.startsWith(t));
    parts.push(
      longer.length >= MAX_EXPANSION
        ? `"${t}"*`
        : longer.length === 0
          ? `"${t}"`
          : `(${[t, ...longer].map((w) => `"${w.replaceAll('"', '""')}"`).join(' OR ')})`,
    );
  }
  return parts.join(' AND ');
}

/** PostgreSQL tsquery text: `'term':*` per word (quoted, `'` and `\` escaped), all required. */
export function tsqueryExpression(terms: readonly string[]): string {
  return terms.map((t) => `'${t.replaceAll('\\', '\\\\').replaceAll("'", "''")}':*`).join(' & ');
}

/**
 * Newest first, by keyset on the message id. Only live text (not deleted for everyone) of
 * conversations out of the recycle bin, of the caller's org, in which the caller is a current
 * member, plus the support chats named by `supportDepartments`.
 */
export async function searchMessages(db: Db, s: MessageSearch): Promise<SearchHit[]> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  // Checked per candidate (a primary-key probe of membership), never built as a set: a search
  // costs what it reads of the index, whatever the caller's number of conversations.
  const member = sql`exists (select 1 from membership mb where mb.conversation_id = m.conversation_id
      and mb.actor_id = ${s.actorId} and mb.left_at is null)`;
  const support =
    s.supportDepartments === null || (s.supportDepartments !== 'all' && s.supportDepartments.length === 0)
      ? null
      : s.supportDepartments === 'all'
        ? sql`c.kind = 'support'`
        : sql`(c.kind = 'support' and c.department_id in (${sql.join(s.supportDepartments)}))`;
  const filters = [
    sql`m.org_id = ${s.orgId}`,
    sql`m.deleted_at is null`,
    sql`m.text is not null`,
    sql`c.deleted_at is null`,
    support ? sql`(${member} or ${support})` : member,
  ];
  if (s.conversationId !== undefined) filters.push(sql`m.conversation_id = ${s.conversationId}`);
  if (s.senderId !== undefined) filters.push(sql`m.sender_id = ${s.senderId}`);
  if (s.after !== undefined) filters.push(sql`m.created_at >= ${s.after}`);
  if (s.before !== undefined) filters.push(sql`m.created_at < ${s.before}`);
  if (s.hasAttachment !== undefined)
    filters.push(s.hasAttachment ? sql`m.attachments is not null` : sql`m.attachments is null`);
  const where = sql.join(filters, sql` and `);
  const rows = pg
    ? await searchPostgres(db, s, where)
    : (
        await sql<Record<string, any>>`select m.*, c.kind as conv_kind, c.title as conv_title
        from message_fts f join message m on m.id = f.rowid join conversation c on c.id = m.conversation_id
        where message_fts match ${
          s.expandPrefixes === false ? ftsExpression(s.terms) : await expandPrefixes(db, s.terms)
        } and ${where}
          ${s.belowId === undefined ? sql`` : sql`and f.rowid < ${s.belowId}`}
        order by f.rowid desc limit ${s.limit}`.execute(db)
      ).rows;
  return rows.map((r) => ({
    message: toMessage(r as never),
    conversation: {
      id: String(r.conversation_id),
      kind: r.conv_kind as ConversationKind,
      title: r.conv_title ?? null,
    },
  }));
}

/** Stage one of the PostgreSQL search reads at most this many of the newest messages. */
export const RECENT_WINDOW = 2000;

/**
 * PostgreSQL, in two stages, because no single plan serves both kinds of word: walking message
 * ids newest first and testing each row finds a common word at once but reads the whole table
 * for a rare one (90-190 ms at 1M messages), and the GIN index finds a rare word at once but
 * fetches every row of a common one before it can sort.
 *
 * 1. The newest RECENT_WINDOW messages (below the cursor), walked by id with the tsvector tested
 *    per row, stopping at the page's last hit. A word in more than about one message in 100
 *    fills the page from this window alone: one query, bounded work.
 * 2. Otherwise the rest comes from the GIN index, below the window: a materialized CTE (so it
 *    is a bitmap scan of the posting lists, never a walk of the table; `id + 0` keeps the
 *    primary key out of the bitmap), of whole rows (so no join back to `message`). The word is rare, so there are few rows to fetch and sort.
 */
async function searchPostgres(db: Db, s: MessageSearch, where: ReturnType<typeof sql>) {
  const query = sql`to_tsquery('simple', ${tsqueryExpression(s.terms)})`;
  const window = s.recentWindow ?? RECENT_WINDOW;
  const below = s.belowId === undefined ? sql`` : sql`where id < ${s.belowId}`;
  const first = await sql<Record<string, any>>`select m.*, c.kind as conv_kind, c.title as conv_title
      from (select * from message ${below} order by id desc limit ${window}) m
      join conversation c on c.id = m.conversation_id
      where m.search @@ ${query} and ${where}
      order by m.id desc limit ${s.limit}`.execute(db);
  if (first.rows.length >= s.limit) return first.rows;
  const rest = await sql<Record<string, any>>`with m as materialized (
        select * from message where search @@ ${query} and org_id = ${s.orgId}
          and id + 0 < (select id from message ${below} order by id desc offset ${window - 1} limit 1)
      )
      select m.*, c.kind as conv_kind, c.title as conv_title
      from m join conversation c on c.id = m.conversation_id
      where ${where}
      order by m.id desc limit ${s.limit - first.rows.length}`.execute(db);
  return [...first.rows, ...rest.rows];
}

const indexPending = sql`insert into message_fts (rowid, text)
  select m.id, m.text from message_fts_pending p join message m on m.id = p.id where m.text is not null`;
const clearPending = sql`delete from message_fts_pending`;

/**
 * SQLite: indexes the messages written in this transaction (migration
 * 2026-12-07T01-00-search-index-per-commit), in the caller's transaction, just before its
 * COMMIT: one FTS5 write for all of them instead of one per message. Nothing on PostgreSQL.
 */
export async function indexPendingMessages(db: Db): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await indexPending.execute(db);
  await clearPending.execute(db);
}
