/**
 * A diagnostic, not a benchmark: the keyset condition of the conversation list, written as
 * the repository writes it (`pinned < ? OR (pinned = ? AND (activity_at < ? OR ...))`) and as
 * a row-value comparison (`(pinned, activity_at, conversation_id) < (?, ?, ?)`), on the member
 * table and index of the core migration with one user in `n` conversations, `depth` rows down.
 * Prints SQLite's plan and the time of each.
 *
 *   node bench/diag-keyset.ts [n=10000] [depth=5000]
 */
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';

const n = Number(process.argv[2] ?? 10_000);
const depth = Number(process.argv[3] ?? 5000);
const db = new DatabaseSync(':memory:');
db.exec(`
  CREATE TABLE member (conversation_id INTEGER NOT NULL, actor_id INTEGER NOT NULL, left_at INTEGER,
    hidden INTEGER NOT NULL DEFAULT 0, pinned INTEGER NOT NULL DEFAULT 0, activity_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, actor_id));
  CREATE INDEX member_actor_activity ON member (actor_id, pinned, activity_at, conversation_id);
`);
const insert = db.prepare(
  'INSERT INTO member (conversation_id, actor_id, pinned, activity_at) VALUES (?, ?, ?, ?)',
);
db.exec('BEGIN');
for (let c = 1; c <= n; c++) {
  insert.run(c, 1, c % 4000 === 7 ? 1 : 0, 1_000_000 + ((c * 7919) % n));
  insert.run(c, 2, 0, 1_000_000 + c);
}
db.exec('COMMIT');

// The cursor: the row `depth` rows down the list of actor 1.
const rows = db
  .prepare(
    `SELECT pinned, activity_at, conversation_id FROM member WHERE actor_id = 1
     ORDER BY pinned DESC, activity_at DESC, conversation_id DESC LIMIT 1 OFFSET ?`,
  )
  .get(depth - 1) as { pinned: number; activity_at: number; conversation_id: number };
const { pinned: p, activity_at: a, conversation_id: c } = rows;
const head = `SELECT conversation_id FROM member m WHERE actor_id = ? AND left_at IS NULL AND hidden = 0 AND`;
const tail = 'ORDER BY pinned DESC, activity_at DESC, conversation_id DESC LIMIT 51';
const variants: [string, string, (number | bigint)[]][] = [
  [
    'OR form (as now)',
    `${head} (pinned < ? OR (pinned = ? AND (activity_at < ? OR (activity_at = ? AND conversation_id < ?)))) ${tail}`,
    [1, p, p, a, a, c],
  ],
  ['row value', `${head} (pinned, activity_at, conversation_id) < (?, ?, ?) ${tail}`, [1, p, a, c]],
];
let reference = '';
for (const [name, sql, params] of variants) {
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
    (r) => r.detail,
  );
  const stmt = db.prepare(sql);
  const ids = JSON.stringify(stmt.all(...params));
  reference ||= ids;
  const t = performance.now();
  for (let i = 0; i < 2000; i++) stmt.all(...params);
  const us = ((performance.now() - t) / 2000) * 1000;
  process.stdout.write(
    `${name}: ${us.toFixed(0)} us per page ${depth} rows down; same rows: ${ids === reference}\n  ${plan.join(' | ')}\n`,
  );
}
