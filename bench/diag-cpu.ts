/**
 * A diagnostic, not a benchmark: the CPU one sent message costs Parley, in process. Builds the
 * app on a fresh SQLite file (WAL, synchronous FULL, group commit as served) or on a
 * PostgreSQL database (--database-url), makes `groups` groups of `members` members (through the
 * API: actors, then each group created with up to 100 members and the rest added 100 at a
 * time) and sends `n` messages through app.inject with `concurrency` in flight (no sockets,
 * so no HTTP parsing: the figure is Parley's own work plus Fastify's routing). Prints the
 * process's CPU time (user + system, all threads) per message, which moves less than a
 * throughput figure with other load in the VM (a shared host still moves it: compare changes
 * back to back, several times). On PostgreSQL the database's own CPU is not in the figure
 * (bench/run.ts's `members` scenario measures it beside).
 *
 *   node bench/diag-cpu.ts [n=20000] [members=20] [concurrency=64] [--sql] [--database-url URL]
 *
 * --sql: also times every SQLite statement and prints the costliest per message.
 *
 * Forked with an IPC channel (bench/run.ts's `members` scenario: the per-member cost curve), it
 * takes a SendCpuInput, says `{type: 'measuring'}` and `{type: 'measured'}` around the measured
 * sends, and answers a SendCpuResult.
 */

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { startInProcess, timeStatements } from './in-process.ts';
import { childMain, pool, round } from './lib.ts';

export interface SendCpuInput {
  n: number;
  members: number;
  concurrency: number;
  /** Groups the sends go round (default 16). */
  groups?: number;
  /** Unmeasured sends first (default 2000). */
  warmup?: number;
  databaseUrl?: string;
  poolSize?: number;
  sql?: boolean;
}

export interface SendCpuResult {
  members: number;
  groups: number;
  n: number;
  /** CPU (user + system, all threads) of this process per message, µs. */
  cpuUs: number;
  msgsPerSec: number;
  setupMs: number;
}

async function measure(input: SendCpuInput): Promise<SendCpuResult & { statements: string[] }> {
  const { n, members, concurrency } = input;
  const timer = input.sql ? timeStatements(100) : { counting: false, stats: new Map() };
  const stats = timer.stats as Map<string, { count: number; ms: number }>;
  const t0 = performance.now();
  const parley = await startInProcess(`cpu-${members}`, input);
  const { call } = parley;
  const others = await pool(
    Array.from({ length: members - 1 }, (_, i) => i + 1),
    8,
    (i) =>
      call('POST', '/v1/actors', { kind: 'user', name: `M${i}`, role: 'member' }) as Promise<{ id: string }>,
  );
  const groups: { id: string }[] = [];
  // Groups are created with up to 100 members, the rest added 100 at a time (the API's limits).
  for (let g = 0; g < (input.groups ?? 16); g++) {
    const group = await call('POST', '/v1/conversations', {
      kind: 'group',
      title: `G${g}`,
      member_ids: others.slice(0, 100).map((o) => o.id),
    });
    for (let i = 100; i < others.length; i += 100)
      await call('POST', `/v1/conversations/${group.id}/members`, {
        actor_ids: others.slice(i, i + 100).map((o) => o.id),
      });
    groups.push(group);
  }
  const setupMs = performance.now() - t0;
  // Settle the setup's after-work before anything is measured, so that it does not fall in the
  // measured window of a big group (10,000 members are 10,000 actor rows and as many member
  // rows written just before): SQLite checkpoints its WAL; PostgreSQL vacuums and analyzes the
  // new rows (autovacuum would, during the window) and checkpoints.
  await settleStore(parley.ctx);
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

  await run(input.warmup ?? 2000);
  process.send?.({ type: 'measuring' });
  timer.counting = true;
  const { cpuUs, wallMs } = await run(n);
  timer.counting = false;
  process.send?.({ type: 'measured' });
  const statements = [...stats.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 14)
    .map(
      ([sql, st]) =>
        `  ${String(round(st.count / n, 2)).padStart(5)} x ${String(round((st.ms / st.count) * 1000, 1)).padStart(6)} us = ${String(round((st.ms / n) * 1000, 1)).padStart(6)} us/msg  ${sql}`,
    );
  await parley.close();
  return {
    members,
    groups: groups.length,
    n,
    cpuUs: round(cpuUs / n, 1),
    msgsPerSec: round(n / (wallMs / 1000), 0),
    setupMs: round(setupMs, 0),
    statements,
  };
}

if (process.send) childMain(measure);
else {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { sql: { type: 'boolean', default: false }, 'database-url': { type: 'string' } },
  });
  const r = await measure({
    n: Number(positionals[0] ?? 20_000),
    members: Number(positionals[1] ?? 20),
    concurrency: Number(positionals[2] ?? 64),
    sql: values.sql,
    databaseUrl: values['database-url'],
  });
  process.stdout.write(
    `send (${r.members} members, ${Number(positionals[2] ?? 64)} in flight, in process): ${r.cpuUs} us CPU per message, ` +
      `${r.msgsPerSec} msgs/s\n${r.statements.map((l) => `${l}\n`).join('')}`,
  );
}

async function settleStore(ctx: {
  db: import('kysely').Kysely<any>;
  caps: { dialect: string };
}): Promise<void> {
  if (ctx.caps.dialect === 'postgres') {
    await sql`vacuum analyze`.execute(ctx.db);
    await sql`checkpoint`.execute(ctx.db);
  } else {
    await sql`pragma wal_checkpoint(truncate)`.execute(ctx.db);
  }
  (globalThis as { gc?: () => void }).gc?.();
}
