/**
 * A diagnostic, not a benchmark: where a list request's time goes, and what its slow requests
 * have in common. Builds the app in process on an existing list store (the one `npm run bench
 * -- --only list --keep` leaves, or any database with an org), issues `n` GET
 * /v1/conversations?limit=50 through app.inject one at a time, and times every pg round trip
 * (by SQL text), the garbage collector's pauses, and the event loop's delay. Prints the
 * latency percentiles, the per-statement split, and the slowest requests with what ran in them.
 *
 *   node bench/diag-list.ts <databaseUrl> <orgId> <actorId> [n=3000] [path]
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { Scope } from '../src/domain/scopes.ts';
import { issueToken } from '../src/services/tokens.ts';
import { round } from './lib.ts';

const [databaseUrl, orgId, actorId] = process.argv.slice(2);
const n = Number(process.argv[5] ?? 3000);
const path = process.argv[6] ?? '/v1/conversations?limit=50';
if (!databaseUrl || !orgId || !actorId)
  throw new Error('usage: diag-list.ts <databaseUrl> <orgId> <actorId> [n]');

let current: { sql: Map<string, number>; gc: number; start: number } | null = null;
const bySql = new Map<string, { count: number; ms: number }>();
const originalQuery = pg.Client.prototype.query as (...a: unknown[]) => unknown;
// Times each round trip by its SQL text, whether node-postgres is given a callback (as Parley's
// store does, src/store/db.ts) or answers with its promise. `Array.from`: a copy, so the key does
// not keep the whole statement text alive.
(pg.Client.prototype as any).query = function (this: pg.Client, ...args: unknown[]) {
  const req = current;
  if (!req) return originalQuery.apply(this, args);
  const first = args[0] as string | { text: string };
  const text = Array.from(
    (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 90),
  ).join('');
  const t = performance.now();
  const done = () => {
    const ms = performance.now() - t;
    req.sql.set(text, (req.sql.get(text) ?? 0) + ms);
    const s = bySql.get(text) ?? { count: 0, ms: 0 };
    s.count++;
    s.ms += ms;
    bySql.set(text, s);
  };
  const last = args.length - 1;
  if (typeof args[last] === 'function') {
    const callback = args[last] as (...a: unknown[]) => unknown;
    args[last] = (...a: unknown[]) => {
      done();
      return callback(...a);
    };
    return originalQuery.apply(this, args);
  }
  const r = originalQuery.apply(this, args) as Promise<unknown> | undefined;
  r?.then?.(done, () => undefined);
  return r;
};

const gcs: { start: number; ms: number; kind: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    gcs.push({ start: e.startTime, ms: e.duration, kind: (e as any).detail?.kind });
}).observe({ entryTypes: ['gc'] });

const config = loadConfig({
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'silent',
  REDIS_URL: process.env.REDIS_URL,
});
const { app, ctx } = await buildApp(config);
await app.ready();
const { token } = await issueToken(ctx, { orgId, actorId, name: 'diag', scopes: [...Scope] });
const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
await app.inject({
  method: 'PUT',
  url: '/v1/rate-limits/native',
  headers: { ...headers, 'content-type': 'application/json' },
  payload: { points: 1_000_000, duration_s: 1, block_s: 0 },
});

// DIAG_HEAP=1: sample the allocations that outlive a scavenge (collected only by a major GC, or
// alive at the end), by allocation site.
const inspector = process.env.DIAG_HEAP ? new (await import('node:inspector/promises')).Session() : null;
if (inspector) {
  inspector.connect();
  await inspector.post('HeapProfiler.enable');
}
const reqs: { ms: number; sql: Map<string, number>; gc: number; start: number }[] = [];
for (let i = 0; i < n + 200; i++) {
  const req = { sql: new Map<string, number>(), gc: 0, start: performance.now(), ms: 0 };
  current = req;
  const res = await app.inject({ method: 'GET', url: path, headers });
  req.ms = performance.now() - req.start;
  current = null;
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body.slice(0, 200)}`);
  if (i === 199) {
    if (inspector)
      await inspector.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: false,
      } as any);
    bySql.clear();
    gcs.length = 0;
  }
  if (i >= 200) reqs.push(req);
}
if (inspector) {
  const { profile } = (await inspector.post('HeapProfiler.stopSampling')) as any;
  const sites = new Map<string, number>();
  const walk = (node: any, stack: string[]) => {
    const f = node.callFrame;
    const here = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${f.lineNumber + 1}`;
    const st = [here, ...stack].slice(0, 4);
    if (node.selfSize > 0) sites.set(st.join(' < '), (sites.get(st.join(' < ')) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c, st);
  };
  walk(profile.head, []);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.log(
    `outlived a scavenge: ${round(total / 2 ** 20, 1)} MiB sampled over ${n} requests (${round(total / n / 1024, 1)} KiB/req); top sites:`,
  );
  for (const [st, b] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`  ${round(b / n / 1024, 1)} KiB/req  ${st}`);
}
if (process.env.DIAG_SNAPSHOT)
  console.log(`snapshot: ${(await import('node:v8')).writeHeapSnapshot(process.env.DIAG_SNAPSHOT)}`);
for (const r of reqs)
  r.gc = gcs.filter((g) => g.start >= r.start && g.start < r.start + r.ms).reduce((a, g) => a + g.ms, 0);

const sorted = reqs.map((r) => r.ms).sort((a, b) => a - b);
const pct = (p: number) =>
  round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!, 2);
console.log(`${n} requests: p50 ${pct(50)} ms, p90 ${pct(90)}, p99 ${pct(99)}, max ${pct(100)}`);
const totalMs = reqs.reduce((a, r) => a + r.ms, 0);
console.log(`per request: ${round(totalMs / n, 2)} ms; in pg round trips:`);
for (const [sql, s] of [...bySql].sort((a, b) => b[1].ms - a[1].ms))
  console.log(`  ${round(s.ms / n, 3)} ms/req  ${(s.count / n).toFixed(2)}x  ${sql}`);
const gcMs = gcs.reduce((a, g) => a + g.ms, 0);
const byKind = new Map<number, number[]>();
for (const g of gcs) byKind.set(g.kind, [...(byKind.get(g.kind) ?? []), g.ms]);
for (const [kind, ms] of byKind)
  console.log(
    `  gc kind ${kind}: ${ms.length} pauses, total ${round(
      ms.reduce((a, b) => a + b, 0),
      1,
    )} ms, longest ${round(Math.max(...ms), 2)}`,
  );
const heap = process.memoryUsage();
console.log(
  `heap used ${round(heap.heapUsed / 2 ** 20, 1)} MiB of ${round(heap.heapTotal / 2 ** 20, 1)}, rss ${round(heap.rss / 2 ** 20, 1)}`,
);
console.log(
  `gc: ${gcs.length} pauses, ${round(gcMs / n, 3)} ms/req, longest ${round(Math.max(0, ...gcs.map((g) => g.ms)), 2)} ms`,
);
console.log('slowest 15:');
for (const r of [...reqs].sort((a, b) => b.ms - a.ms).slice(0, 15)) {
  const parts = [...r.sql].map(([s, ms]) => `${round(ms, 1)}:${s.slice(0, 40)}`).join(' | ');
  console.log(`  ${round(r.ms, 2)} ms, gc ${round(r.gc, 2)}: ${parts}`);
}
await app.close();
