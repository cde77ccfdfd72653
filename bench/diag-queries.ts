/**
 * A diagnostic, not a benchmark: what one request costs inside Parley, by SQL statement.
 * Builds the app in process on a fresh SQLite file (the server's own settings: WAL,
 * synchronous FULL), counts and times every statement node:sqlite executes (BEGIN and COMMIT
 * included) and sends `n` messages and `n` list requests through app.inject (no sockets), one
 * at a time.
 *
 *   node bench/diag-queries.ts [n=2000] [members=5]
 */
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { startInProcess, timeStatements } from './in-process.ts';
import { round } from './lib.ts';

const n = Number(process.argv[2] ?? 2000);
const groupSize = Number(process.argv[3] ?? 5);
const timer = timeStatements(Number(process.env.DIAG_SQL_WIDTH ?? 110));
const stats = timer.stats;

// Statements prepared (compiled by SQLite) while measuring: 0 when the statement cache works.
let prepared = 0;
const originalPrepare = DatabaseSync.prototype.prepare;
DatabaseSync.prototype.prepare = function (this: DatabaseSync, ...args: Parameters<DatabaseSync['prepare']>) {
  if (timer.counting) prepared++;
  return originalPrepare.apply(this, args);
};

const parley = await startInProcess('diag');
const { call } = parley;
const others = [];
for (let i = 0; i < 4; i++)
  others.push(await call('POST', '/v1/actors', { kind: 'user', name: `M${i}`, role: 'member' }));
const group = await call('POST', '/v1/conversations', {
  kind: 'group',
  title: 'Diag',
  member_ids: others.map((o) => o.id),
});
const text = 'Benchmark message: the quick brown fox jumps over the lazy dog. '.repeat(2).slice(0, 100);

async function measure(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  stats.clear();
  prepared = 0;
  timer.counting = true;
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const wall = performance.now() - t;
  timer.counting = false;
  let sqlMs = 0;
  let statements = 0;
  const lines = [...stats.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([sql, s]) => {
      sqlMs += s.ms;
      statements += s.count;
      return `  ${String(round(s.count / n, 2)).padStart(5)} x ${String(round((s.ms / n) * 1000, 1)).padStart(6)} us  ${sql}`;
    });
  process.stdout.write(
    `\n${label}: ${round((wall / n) * 1000, 0)} us per request in process (app.inject, one at a time), ` +
      `${round(statements / n, 1)} statements, ${round((sqlMs / n) * 1000, 0)} us of it in node:sqlite ` +
      `(${round((sqlMs / wall) * 100, 0)}%); ${prepared} statements prepared in ${n} requests\n` +
      `  per request: count x time\n${lines.join('\n')}\n`,
  );
}

await measure(`POST /v1/conversations/:id/messages (${groupSize} members)`, () =>
  call('POST', `/v1/conversations/${group.id}/messages`, { text }),
);
await measure('GET /v1/conversations?limit=50', () => call('GET', '/v1/conversations?limit=50'));
await parley.close();
