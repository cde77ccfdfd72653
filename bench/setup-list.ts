/**
 * Builds the store of the list scenario (a child process of bench/run.ts) directly with SQL,
 * on a database `parley org create` has migrated and seeded: one user (the org's owner) in
 * `conversations` group conversations with one other user, and `messages` messages spread
 * evenly over them in time order (ids in the Snowflake layout of src/domain/ids.ts, node ids
 * 1000+ so they never meet the server's). Every denormalized field the list reads is set as the
 * server would have set it: conversation.last_message_id / last_activity_at / member_count and
 * member.activity_at / unread_count. A few conversations are pinned.
 *
 * Then it times the list query in process (the repository function the route calls, through
 * Kysely and node:sqlite, on the server's own store code) for the first page and a page deep in
 * the list, and records SQLite's query plan.
 */
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import type { KyselyPlugin } from 'kysely';
import pg from 'pg';
import { ID_EPOCH_MS } from '../src/domain/ids.ts';
import { searchTerms } from '../src/domain/search.ts';
import { createStore } from '../src/store/db.ts';
import { listConversationsForActor } from '../src/store/repos/conversations.ts';
import { searchMessages } from '../src/store/repos/search.ts';
import { childMain, percentile, round } from './lib.ts';

export interface ListSetupInput {
  sqlitePath: string;
  /** --db postgres: build the store in this (migrated) database instead. */
  databaseUrl?: string;
  orgId: string;
  ownerId: string;
  conversations: number;
  messages: number;
  /** Pages of 50 to skip for the "deep" page. */
  deepPages: number;
  iterations: number;
  /** The search scenario: time these queries (the owner's search, newest 20) instead of the list. */
  search?: { label: string; q: string }[];
}

export interface ListSetupResult {
  buildMs: number;
  conversations: number;
  messages: number;
  fileMiB: number;
  query: { firstP50: number; firstP99: number; deepP50: number; deepP99: number; iterations: number };
  plan: string[];
  /** The plan of the page after the cursor (the keyset condition added). */
  planDeep: string[];
  sql: string;
  sqlDeep: string;
  /** The search scenario's figures, per query: ms, and how many results the first page had. */
  search?: { label: string; q: string; p50: number; p99: number; hits: number; plan: string[] }[];
}

/** Deterministic PRNG (mulberry32), so every run builds the same store. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const snowflake = (ms: number, node: number, seq = 0) =>
  (BigInt(ms - ID_EPOCH_MS) << 22n) | (BigInt(node) << 12n) | BigInt(seq);

const WORDS =
  'the a quick note about lunch meeting deploy review ticket ship today later thanks ok sure'.split(' ');

/**
 * The store's rows, the same on both databases: the peer, then per conversation its row and
 * its two members, then the messages (in id order, `message(i)` for i < input.messages).
 */
function plan(input: ListSetupInput) {
  const rand = prng(42);
  const C = input.conversations;
  const M = input.messages;
  if (Math.floor(M / C) * C !== M) throw new Error('messages must be a multiple of conversations');
  const now = Date.now();
  const msgStep = 2500; // one message every 2.5 s, ending a minute ago
  const firstMsgAt = now - 60_000 - M * msgStep;
  const ownerId = BigInt(input.ownerId);
  const orgId = BigInt(input.orgId);
  const peer = { id: snowflake(firstMsgAt - 86_400_000, 1002), at: firstMsgAt - 86_400_000 };

  // Conversation j's messages are i = perm-position + k*C; the last C messages are each
  // conversation's last one, so their activity order is the permutation's.
  const perm = Array.from({ length: C }, (_, i) => i);
  for (let i = C - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const convIds = Array.from({ length: C }, (_, c) => snowflake(firstMsgAt - 3_600_000 + c, 1001));
  const msgAt = (i: number) => firstMsgAt + i * msgStep;
  const msgId = (i: number) => snowflake(msgAt(i), 1000);
  const lastIndex = new Array<number>(C);
  for (let j = 0; j < C; j++) lastIndex[perm[j]!] = M - C + j;
  const conversations = Array.from({ length: C }, (_, c) => {
    const created = firstMsgAt - 3_600_000 + c;
    const last = lastIndex[c]!;
    return {
      id: convIds[c]!,
      title: `Group ${c}`,
      lastMessageId: msgId(last),
      lastAt: msgAt(last),
      created,
      pinned: c % 4000 === 7 ? 1 : 0,
      ownerUnread: Math.floor(rand() * 4),
      messageCount: M / C,
    };
  });
  const message = (i: number) => {
    const words = 6 + (i % 11);
    let text = `#${i}`;
    for (let w = 0; w < words; w++) text += ` ${WORDS[(i * 7 + w * 3) % WORDS.length]}`;
    return {
      id: msgId(i),
      conversationId: convIds[perm[i % C]!]!,
      senderId: i % 2 ? ownerId : peer.id,
      text,
      at: msgAt(i),
      ordinal: Math.floor(i / C) + 1,
    };
  };
  return { orgId, ownerId, peer, conversations, message };
}

const SQL = {
  peer: `INSERT INTO actor (id, org_id, kind, role, name, email, active, created_at, updated_at)
     VALUES (?, ?, 'user', 'member', 'Bench Peer', 'peer@bench.example', 1, ?, ?)`,
  conversation: `INSERT INTO conversation (id, org_id, kind, title, creator_id, member_count, last_message_id,
       last_activity_at, created_at, updated_at, message_count)
     VALUES (?, ?, 'group', ?, ?, 2, ?, ?, ?, ?, ?)`,
  // Unread = the conversation's message count - the member's read ordinal (- excluded).
  member: `INSERT INTO membership (conversation_id, actor_id, org_id, role, joined_at, read_ordinal, hidden, pinned)
     VALUES (?, ?, ?, ?, ?, ?, 0, ?)`,
  message: `INSERT INTO message (id, org_id, conversation_id, sender_id, type, text, created_at, ordinal)
     VALUES (?, ?, ?, ?, 'text', ?, ?, ?)`,
};
const BATCH = 50_000;

function build(input: ListSetupInput): { buildMs: number; fileMiB: number } {
  const t0 = performance.now();
  const db = new DatabaseSync(input.sqlitePath, { enableForeignKeyConstraints: false });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = OFF');
  db.exec('PRAGMA cache_size = -262144');
  const p = plan(input);
  db.prepare(SQL.peer).run(p.peer.id, p.orgId, p.peer.at, p.peer.at);

  const tx = (fn: () => void) => {
    db.exec('BEGIN');
    try {
      fn();
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  };

  const insConv = db.prepare(SQL.conversation);
  const insMember = db.prepare(SQL.member);
  tx(() => {
    for (const c of p.conversations) {
      insConv.run(
        c.id,
        p.orgId,
        c.title,
        p.ownerId,
        c.lastMessageId,
        c.lastAt,
        c.created,
        c.created,
        c.messageCount,
      );
      insMember.run(c.id, p.ownerId, p.orgId, 'owner', c.created, c.messageCount - c.ownerUnread, c.pinned);
      insMember.run(c.id, p.peer.id, p.orgId, 'member', c.created, c.messageCount, 0);
    }
  });

  const insMsg = db.prepare(SQL.message);
  for (let start = 0; start < input.messages; start += BATCH) {
    tx(() => {
      for (let i = start; i < Math.min(input.messages, start + BATCH); i++) {
        const m = p.message(i);
        insMsg.run(m.id, p.orgId, m.conversationId, m.senderId, m.text, m.at, m.ordinal);
      }
    });
  }
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
  const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
  db.close();
  return { buildMs: performance.now() - t0, fileMiB: (Number(pages) * Number(pageSize)) / 1048576 };
}

/**
 * The same rows on PostgreSQL (`--db postgres`), with the same statements, many rows per
 * statement (the `VALUES` list repeated), then ANALYZE so the planner knows the tables' sizes.
 */
async function buildPg(input: ListSetupInput & { databaseUrl: string }) {
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: input.databaseUrl });
  await client.connect();
  const p = plan(input);
  /** `sql` with its one `VALUES (...)` list repeated for every row of `rows`, `$n` placeholders. */
  const insertMany = async (sql: string, rows: unknown[][]) => {
    const at = sql.lastIndexOf('VALUES') + 'VALUES'.length;
    const tuple = sql.slice(at).trim();
    let n = 0;
    const values = rows.map(() => tuple.replace(/\?/g, () => `$${++n}`)).join(', ');
    await client.query(`${sql.slice(0, at)} ${values}`, rows.flat());
  };
  const chunks = async <T>(items: T[], size: number, fn: (chunk: T[]) => Promise<void>) => {
    for (let i = 0; i < items.length; i += size) await fn(items.slice(i, i + size));
  };
  try {
    await client.query('BEGIN');
    await insertMany(SQL.peer, [[p.peer.id, p.orgId, p.peer.at, p.peer.at]]);
    await chunks(p.conversations, 2000, async (cs) => {
      await insertMany(
        SQL.conversation,
        cs.map((c) => [
          c.id,
          p.orgId,
          c.title,
          p.ownerId,
          c.lastMessageId,
          c.lastAt,
          c.created,
          c.created,
          c.messageCount,
        ]),
      );
      await insertMany(
        SQL.member,
        cs.flatMap((c) => [
          [c.id, p.ownerId, p.orgId, 'owner', c.created, c.messageCount - c.ownerUnread, c.pinned],
          [c.id, p.peer.id, p.orgId, 'member', c.created, c.messageCount, 0],
        ]),
      );
    });
    const ids = Array.from({ length: input.messages }, (_, i) => i);
    await chunks(ids, 5000, async (is) => {
      await insertMany(
        SQL.message,
        is.map((i) => {
          const m = p.message(i);
          return [m.id, p.orgId, m.conversationId, m.senderId, m.text, m.at, m.ordinal];
        }),
      );
    });
    await client.query('COMMIT');
    // Settle the bulk load's after-work before anything is measured, as the SQLite build
    // checkpoints its WAL: without it autovacuum (triggered by the million inserts), the first
    // readers' hint-bit writes and the checkpoint of the load's dirty pages fall in the measured
    // window, which a store in service does not have just then. Then the statistics.
    await client.query('VACUUM ANALYZE');
    await client.query('CHECKPOINT');
    const size = (await client.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n;
    return { buildMs: performance.now() - t0, fileMiB: Number(size) / 1048576 };
  } finally {
    await client.end();
  }
}

async function timeQuery(input: ListSetupInput) {
  const store = createStore({ sqlitePath: input.sqlitePath, databaseUrl: input.databaseUrl });
  let captured: { sql: string; parameters: readonly unknown[] } | null = null;
  const capture: KyselyPlugin = {
    transformQuery(args) {
      captured = store.db.getExecutor().compileQuery(args.node, args.queryId);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const base = { orgId: input.orgId, actorId: input.ownerId, hidden: false, now: Date.now(), limit: 51 };
  await listConversationsForActor(store.db.withPlugin(capture), base);
  const firstQuery = captured as { sql: string; parameters: readonly unknown[] } | null;
  // The cursor `deepPages` pages down, as the route would decode it.
  let after: { pinned: number; activityAt: number; conversationId: string } | undefined;
  for (let p = 0; p < input.deepPages; p++) {
    const rows = await listConversationsForActor(store.db, { ...base, after });
    const last = rows[49]!;
    after = {
      pinned: last.me.pinned ? 1 : 0,
      activityAt: last.me.activityAt,
      conversationId: last.conversation.id,
    };
  }
  const time = async (f: typeof base & { after?: typeof after }) => {
    const lat = new Float64Array(input.iterations);
    for (let i = 0; i < 50; i++) await listConversationsForActor(store.db, f);
    for (let i = 0; i < input.iterations; i++) {
      const t = performance.now();
      const rows = await listConversationsForActor(store.db, f);
      lat[i] = performance.now() - t;
      if (rows.length !== 51) throw new Error(`list returned ${rows.length} rows`);
    }
    lat.sort();
    return { p50: round(percentile(lat, 50, true), 3), p99: round(percentile(lat, 99, true), 3) };
  };
  await listConversationsForActor(store.db.withPlugin(capture), { ...base, after });
  const deepQuery = captured as { sql: string; parameters: readonly unknown[] } | null;
  const first = await time(base);
  const deep = await time({ ...base, after });
  await store.close();

  if (!firstQuery || !deepQuery) throw new Error('no query captured');
  const { plan, planDeep } = input.databaseUrl
    ? await explainPg(input.databaseUrl, firstQuery, deepQuery)
    : explainSqlite(input.sqlitePath, firstQuery, deepQuery);
  return {
    query: {
      firstP50: first.p50,
      firstP99: first.p99,
      deepP50: deep.p50,
      deepP99: deep.p99,
      iterations: input.iterations,
    },
    plan,
    planDeep,
    sql: firstQuery.sql,
    sqlDeep: deepQuery.sql,
  };
}

type Query = { sql: string; parameters: readonly unknown[] };

function explainSqlite(path: string, first: Query, deep: Query) {
  const raw = new DatabaseSync(path, { readOnly: true });
  const explain = (q: Query) => {
    const params = q.parameters.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)) as any[];
    return (raw.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...params) as { detail: string }[]).map(
      (r) => r.detail,
    );
  };
  const plans = { plan: explain(first), planDeep: explain(deep) };
  raw.close();
  return plans;
}

/** PostgreSQL's plans (EXPLAIN, one line per node). */
async function explainPg(url: string, first: Query, deep: Query) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const explain = async (q: Query) =>
      (await client.query(`EXPLAIN ${q.sql}`, q.parameters as unknown[])).rows.map((r) =>
        String(r['QUERY PLAN']).trim(),
      );
    return { plan: await explain(first), planDeep: await explain(deep) };
  } finally {
    await client.end();
  }
}

/**
 * The search scenario: each query as the owner (a member of every conversation) searches, the
 * first page of 20, newest first, through the repository function the service calls.
 */
async function timeSearch(input: ListSetupInput, queries: { label: string; q: string }[]) {
  const store = createStore({ sqlitePath: input.sqlitePath, databaseUrl: input.databaseUrl });
  let captured: Query | null = null;
  const capture: KyselyPlugin = {
    transformQuery(args) {
      captured = store.db.getExecutor().compileQuery(args.node, args.queryId);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const out = [];
  try {
    for (const { label, q } of queries) {
      const s = {
        orgId: input.orgId,
        actorId: input.ownerId,
        terms: searchTerms(q),
        supportDepartments: 'all' as const,
        limit: 21,
      };
      const hits = (await searchMessages(store.db.withPlugin(capture), s)).length;
      for (let i = 0; i < 20; i++) await searchMessages(store.db, s);
      const lat = new Float64Array(input.iterations);
      for (let i = 0; i < input.iterations; i++) {
        const t = performance.now();
        await searchMessages(store.db, s);
        lat[i] = performance.now() - t;
      }
      lat.sort();
      const query = captured as Query | null;
      if (!query) throw new Error('no query captured');
      const { plan } = input.databaseUrl
        ? await explainPg(input.databaseUrl, query, query)
        : explainSqlite(input.sqlitePath, query, query);
      out.push({
        label,
        q,
        p50: round(percentile(lat, 50, true), 3),
        p99: round(percentile(lat, 99, true), 3),
        hits,
        plan,
      });
    }
  } finally {
    await store.close();
  }
  return out;
}

async function main(input: ListSetupInput): Promise<ListSetupResult> {
  const { buildMs, fileMiB } = input.databaseUrl
    ? await buildPg({ ...input, databaseUrl: input.databaseUrl })
    : build(input);
  if (input.search)
    return {
      buildMs: round(buildMs, 0),
      conversations: input.conversations,
      messages: input.messages,
      fileMiB: round(fileMiB, 0),
      query: { firstP50: 0, firstP99: 0, deepP50: 0, deepP99: 0, iterations: 0 },
      plan: [],
      planDeep: [],
      sql: '',
      sqlDeep: '',
      search: await timeSearch(input, input.search),
    };
  const timed = await timeQuery(input);
  return {
    buildMs: round(buildMs, 0),
    conversations: input.conversations,
    messages: input.messages,
    fileMiB: round(fileMiB, 0),
    ...timed,
  };
}

childMain(main);
