/**
 * Run by test/unit/pg-store.test.ts in a process of its own (node --expose-gc; outside the test
 * runner, whose own bookkeeping keeps objects alive across collections): runs a 50-row query
 * through the PostgreSQL store in a loop until `scavenges` young-generation collections ran, and
 * prints how much the old generation grew meanwhile, as JSON on stdout.
 *
 *   node --expose-gc test/support/pg-survivors.ts <databaseUrl> [scavenges=8]
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Kysely } from 'kysely';
import { createStore } from '../../src/store/db.ts';

const [url, wanted = '8'] = process.argv.slice(2);
const gc = (globalThis as { gc?: (o?: { type: 'minor' | 'major' }) => void }).gc;
if (!url || !gc)
  throw new Error('usage: node --expose-gc test/support/pg-survivors.ts <databaseUrl> [scavenges]');
const store = createStore({ databaseUrl: url, sqlitePath: '', poolSize: 2 });
const db = store.db as unknown as Kysely<{ t: { id: number; v: string; n: number } }>;
const q = db.selectFrom('t').selectAll().where('n', '<', 7).limit(50);
const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

for (let i = 0; i < 50; i++) await q.execute();
gc({ type: 'major' });
const before = oldSpace();
let scavenges = 0;
let majorRan = false;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    else if (
      kind === constants.NODE_PERFORMANCE_GC_MAJOR ||
      kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL
    )
      majorRan = true;
  }
});
obs.observe({ entryTypes: ['gc'] });
let queries = 0;
while (scavenges < Number(wanted) && queries < 50_000) {
  const rows = await q.execute();
  if (rows.length !== 50) throw new Error(`expected 50 rows, got ${rows.length}`);
  queries++;
}
obs.disconnect();
const grew = oldSpace() - before;
await store.close();
process.stdout.write(JSON.stringify({ grew, scavenges, queries, majorRan }));
