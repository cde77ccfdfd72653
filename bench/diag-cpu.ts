/**
 * A diagnostic, not a benchmark: the CPU one sent message costs Parley, in process. Builds the
 * app on a fresh SQLite file (WAL, synchronous FULL, group commit as served), makes a group of
 * `members` members and sends `n` messages through app.inject with `concurrency` in flight
 * (no sockets, so no HTTP parsing: the figure is Parley's own work plus Fastify's routing).
 * Prints the process's CPU time (user + system, all threads) per message, which, unlike a
 * throughput figure, hardly moves with other load on the machine; use it to compare changes.
 *
 *   node bench/diag-cpu.ts [n=20000] [members=20] [concurrency=64] [--sql]
 *
 * --sql: also times every SQLite statement and prints the costliest per message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StatementSync } from 'node:sqlite';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { parseScopes } from '../src/domain/scopes.ts';
import { createOrg } from '../src/services/orgs.ts';
import { issueToken } from '../src/services/tokens.ts';
import { round } from './lib.ts';

const args = process.argv.slice(2).filter((a) => a !== '--sql');
const n = Number(args[0] ?? 20_000);
const members = Number(args[1] ?? 20);
const concurrency = Number(args[2] ?? 64);
const stats = new Map<string, { count: number; ms: number }>();
let counting = false;
if (process.argv.includes('--sql')) {
  for (const method of ['run', 'all', 'get', 'iterate'] as const) {
    const original = StatementSync.prototype[method] as (...a: unknown[]) => unknown;
    (StatementSync.prototype as any)[method] = function (this: StatementSync, ...a: unknown[]) {
      if (!counting) return original.apply(this, a);
      const t = performance.now();
      try {
        return original.apply(this, a);
      } finally {
        const sql = this.sourceSQL.replace(/\s+/g, ' ').slice(0, 100);
        const s = stats.get(sql) ?? { count: 0, ms: 0 };
        s.count++;
        s.ms += performance.now() - t;
        stats.set(sql, s);
      }
    };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'parley-cpu-'));
const config = loadConfig({ SQLITE_PATH: join(dir, 'parley.db'), LOG_LEVEL: 'silent' });
const { app, ctx } = await buildApp(config);
await app.ready();
const { org, owner } = await createOrg(ctx, {
  slug: 'cpu',
  name: 'Cpu',
  ownerName: 'Owner',
  ownerEmail: 'owner@cpu.example',
});
const { token } = await issueToken(ctx, {
  orgId: org.id,
  actorId: owner.id,
  name: 'cpu',
  scopes: [...parseScopes('*').scopes],
});
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
  const res = await app.inject({ method, url, headers, payload: payload as any });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};
await call('PUT', '/v1/rate-limits/native', { points: 1_000_000, duration_s: 1, block_s: 0 });
const others: { id: string }[] = [];
for (let i = 1; i < members; i++)
  others.push(await call('POST', '/v1/actors', { kind: 'user', name: `M${i}`, role: 'member' }));
const groups: { id: string }[] = [];
for (let g = 0; g < 16; g++)
  groups.push(
    await call('POST', '/v1/conversations', {
      kind: 'group',
      title: `G${g}`,
      member_ids: others.map((o) => o.id),
    }),
  );
const text = 'Benchmark message: the quick brown fox jumps over the lazy dog. '.repeat(2).slice(0, 100);

async function run(count: number): Promise<{ cpuUs: number; wallMs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await call('POST', `/v1/conversations/${groups[i % groups.length]!.id}/messages`, { text });
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuUs: used.user + used.system, wallMs: performance.now() - t };
}

await run(2000); // warm-up
counting = true;
const { cpuUs, wallMs } = await run(n);
counting = false;
process.stdout.write(
  `send (${members} members, ${concurrency} in flight, in process): ${round(cpuUs / n, 1)} us CPU per message, ` +
    `${round(n / (wallMs / 1000), 0)} msgs/s\n`,
);
for (const [sql, st] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14))
  process.stdout.write(
    `  ${String(round(st.count / n, 2)).padStart(5)} x ${String(round((st.ms / st.count) * 1000, 1)).padStart(6)} us = ${String(round((st.ms / n) * 1000, 1)).padStart(6)} us/msg  ${sql}\n`,
  );
await app.close();
rmSync(dir, { recursive: true, force: true });
