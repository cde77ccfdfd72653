/**
 * Builds the store of the list scenario (a child process of bench/run.ts) directly with SQL,
 * on a database `parley org create` has migrated and seeded: one user (the org's owner) in
 * `conversations` group conversations with one other user, and `messages` messages spread
 * evenly over them in time order (ids in the Snowflake layout of src/domain/ids.ts, node ids
 * 1000+ so they never meet the server's). Every denormalized field the list reads is set as the
 * server would have set it: conversation.last_message_id / last_activity_at / member_count / message_count, message.ordinal and
 * membership.read_ordinal (the unread count derives from them). A few conversations are pinned.
 *
 * Then it times the list query in process (the repository function the route calls, through
 * Kysely and node:sqlite, on the server's own store code) for the first page and a page deep in
 * the list, and records SQLite's query plan.
 */
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import type { KyselyPlugin } from 'kysely';
import { ID_EPOCH_MS } from '../src/domain/ids.ts';
import { createStore } from '../src/store/db.ts';
import { listConversationsForActor } from '../src/store/repos/conversations.ts';
import { childMain, percentile, round } from './lib.ts';

export interface ListSetupInput {
  sqlitePath: string;
  orgId: string;
  ownerId: string;
  conversations: number;
  messages: number;
  /** Pages of 50 to skip for the "deep" page. */
  deepPages: number;
  iterations: number;
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

function build(input: ListSetupInput): { buildMs: number; fileMiB: number } {
  const t0 = performance.now();
  const db = new DatabaseSync(input.sqlitePath, { enableForeignKeyConstraints: false });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = OFF');
  db.exec('PRAGMA cache_size = -262144');
  const rand = prng(42);
  const C = input.conversations;
  const M = input.messages;
  const now = Date.now();
  const msgStep = 2500; // one message every 2.5 s, ending a minute ago
  const firstMsgAt = now - 60_000 - M * msgStep;
  const ownerId = BigInt(input.ownerId);
  const orgId = BigInt(input.orgId);

  const peerId = snowflake(firstMsgAt - 86_400_000, 1002);
  db.prepare(
    `INSERT INTO actor (id, org_id, kind, role, name, email, active, created_at, updated_at)
     VALUES (?, ?, 'user', 'member', 'Bench Peer', 'peer@bench.example', 1, ?, ?)`,
  ).run(peerId, orgId, firstMsgAt - 86_400_000, firstMsgAt - 86_400_000);

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
  const perConv = Math.floor(M / C);
  const lastIndex = new Array<number>(C);
  for (let j = 0; j < C; j++) lastIndex[perm[j]!] = M - C + j;

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

  const insConv = db.prepare(
    `INSERT INTO conversation (id, org_id, kind, title, creator_id, member_count, last_message_id,
       last_activity_at, created_at, updated_at, message_count)
     VALUES (?, ?, 'group', ?, ?, 2, ?, ?, ?, ?, ?)`,
  );
  // Unread = the conversation's message count - the member's read ordinal (- excluded).
  const insMember = db.prepare(
    `INSERT INTO membership (conversation_id, actor_id, org_id, role, joined_at, read_ordinal, hidden, pinned)
     VALUES (?, ?, ?, ?, ?, ?, 0, ?)`,
  );
  tx(() => {
    for (let c = 0; c < C; c++) {
      const created = firstMsgAt - 3_600_000 + c;
      const last = lastIndex[c]!;
      const lastAt = msgAt(last);
      insConv.run(convIds[c]!, orgId, `Group ${c}`, ownerId, msgId(last), lastAt, created, created, perConv);
      const pinned = c % 4000 === 7 ? 1 : 0;
      insMember.run(convIds[c]!, ownerId, orgId, 'owner', created, perConv - Math.floor(rand() * 4), pinned);
      insMember.run(convIds[c]!, peerId, orgId, 'member', created, perConv, 0);
    }
  });

  const insMsg = db.prepare(
    `INSERT INTO message (id, org_id, conversation_id, sender_id, type, text, created_at, ordinal)
     VALUES (?, ?, ?, ?, 'text', ?, ?, ?)`,
  );
  const BATCH = 50_000;
  for (let start = 0; start < M; start += BATCH) {
    tx(() => {
      for (let i = start; i < Math.min(M, start + BATCH); i++) {
        const c = perm[i % C]!;
        const words = 6 + (i % 11);
        let text = `#${i}`;
        for (let w = 0; w < words; w++) text += ` ${WORDS[(i * 7 + w * 3) % WORDS.length]}`;
        insMsg.run(
          msgId(i),
          orgId,
          convIds[c]!,
          i % 2 ? ownerId : peerId,
          text,
          msgAt(i),
          Math.floor(i / C) + 1,
        );
      }
    });
  }
  if (perConv * C !== M) throw new Error('messages must be a multiple of conversations');
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
  const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
  db.close();
  return { buildMs: performance.now() - t0, fileMiB: (Number(pages) * Number(pageSize)) / 1048576 };
}

async function timeQuery(input: ListSetupInput) {
  const store = createStore({ sqlitePath: input.sqlitePath });
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
  const raw = new DatabaseSync(input.sqlitePath, { readOnly: true });
  const explain = (q: { sql: string; parameters: readonly unknown[] }) => {
    const params = q.parameters.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)) as any[];
    return (raw.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...params) as { detail: string }[]).map(
      (r) => r.detail,
    );
  };
  const plan = explain(firstQuery);
  const planDeep = explain(deepQuery);
  raw.close();
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

async function main(input: ListSetupInput): Promise<ListSetupResult> {
  const { buildMs, fileMiB } = build(input);
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
