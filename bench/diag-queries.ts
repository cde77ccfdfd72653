/**
 * A diagnostic, not a benchmark: what one request costs inside Parley, by SQL statement.
 * Builds the app in process on a fresh SQLite file (the server's own settings: WAL,
 * synchronous FULL), counts and times every statement node:sqlite executes (BEGIN and COMMIT
 * included) and sends `n` messages and `n` list requests through app.inject (no sockets), one
 * at a time.
 *
 *   node bench/diag-queries.ts [n=2000] [members=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { parseScopes } from '../src/domain/scopes.ts';
import { createOrg } from '../src/services/orgs.ts';
import { issueToken } from '../src/services/tokens.ts';
import { round } from './lib.ts';

const n = Number(process.argv[2] ?? 2000);
const groupSize = Number(process.argv[3] ?? 5);
const stats = new Map<string, { count: number; ms: number }>();
let counting = false;
for (const method of ['run', 'all', 'get', 'iterate'] as const) {
  const original = StatementSync.prototype[method] as (...args: unknown[]) => unknown;
  (StatementSync.prototype as any)[method] = function (this: StatementSync, ...args: unknown[]) {
    if (!counting) return original.apply(this, args);
    const t = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      const sql = this.sourceSQL.replace(/\s+/g, ' ').slice(0, 110);
      const s = stats.get(sql) ?? { count: 0, ms: 0 };
      s.count++;
      s.ms += performance.now() - t;
      stats.set(sql, s);
    }
  };
}

// Statements prepared (compiled by SQLite) while measuring: 0 when the statement cache works.
let prepared = 0;
const originalPrepare = DatabaseSync.prototype.prepare;
DatabaseSync.prototype.prepare = function (this: DatabaseSync, ...args: Parameters<DatabaseSync['prepare']>) {
  if (counting) prepared++;
  return originalPrepare.apply(this, args);
};

const dir = mkdtempSync(join(tmpdir(), 'parley-diag-'));
const config = loadConfig({ SQLITE_PATH: join(dir, 'parley.db'), LOG_LEVEL: 'silent' });
const { app, ctx } = await buildApp(config);
await app.ready();
const { org, owner } = await createOrg(ctx, {
  slug: 'diag',
  name: 'Diag',
  ownerName: 'Owner',
  ownerEmail: 'owner@diag.example',
});
const { token } = await issueToken(ctx, {
  orgId: org.id,
  actorId: owner.id,
  name: 'diag',
  scopes: [...parseScopes('*').scopes],
});
const headers = {
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json',
};
const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
  const res = await app.inject({ method, url, headers, payload: payload as any });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};
await call('PUT', '/v1/rate-limits/native', { points: 1_000_000, duration_s: 1, block_s: 0 });
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
  counting = true;
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const wall = performance.now() - t;
  counting = false;
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
await app.close();
rmSync(dir, { recursive: true, force: true });
