/**
 * A diagnostic, not a benchmark: the CPU one sent message costs Parley, in process. Builds the
 * app on a fresh SQLite file (WAL, synchronous FULL, group commit as served), makes a group of
 * `members` members and sends `n` messages through app.inject with `concurrency` in flight
 * (no sockets, so no HTTP parsing: the figure is Parley's own work plus Fastify's routing).
 * Prints the process's CPU time (user + system, all threads) per message, which moves less
 * than a throughput figure with other load in the VM (a shared host still moves it: compare
 * changes back to back, several times).
 *
 *   node bench/diag-cpu.ts [n=20000] [members=20] [concurrency=64] [--sql]
 *
 * --sql: also times every SQLite statement and prints the costliest per message.
 */
import { performance } from 'node:perf_hooks';
import { startInProcess, timeStatements } from './in-process.ts';
import { round } from './lib.ts';

const args = process.argv.slice(2).filter((a) => a !== '--sql');
const n = Number(args[0] ?? 20_000);
const members = Number(args[1] ?? 20);
const concurrency = Number(args[2] ?? 64);
const timer = process.argv.includes('--sql') ? timeStatements(100) : { counting: false, stats: new Map() };
const stats = timer.stats as Map<string, { count: number; ms: number }>;

const parley = await startInProcess('cpu');
const { call } = parley;
const others: { id: string }[] = [];
for (let i = 1; i < members; i++)
  others.push(await call('POST', '/v1/actors', { kind: 'user', name: `M${i}`, role: 'member' }));
const groups: { id: string }[] = [];
// Groups are created with up to 100 members, the rest added 100 at a time (the API's limits).
for (let g = 0; g < 16; g++) {
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
timer.counting = true;
const { cpuUs, wallMs } = await run(n);
timer.counting = false;
process.stdout.write(
  `send (${members} members, ${concurrency} in flight, in process): ${round(cpuUs / n, 1)} us CPU per message, ` +
    `${round(n / (wallMs / 1000), 0)} msgs/s\n`,
);
for (const [sql, st] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14))
  process.stdout.write(
    `  ${String(round(st.count / n, 2)).padStart(5)} x ${String(round((st.ms / st.count) * 1000, 1)).padStart(6)} us = ${String(round((st.ms / n) * 1000, 1)).padStart(6)} us/msg  ${sql}\n`,
  );
await parley.close();
