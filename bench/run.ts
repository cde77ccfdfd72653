/**
 * `npm run bench` (or `parley bench`): Parley's benchmark suite (issue 6, item 4). Each
 * scenario starts `parley serve` on a fresh SQLite database in a temporary directory (WAL,
 * synchronous FULL: the server's own settings) and drives it from a load generator in a
 * separate process; each figure is compared with a baseline measured in the same run by the
 * same load generator:
 *
 * - send: POST /v1/conversations/:id/messages at 64 connections (autocannon) against a bare
 *   node:http server that parses the same JSON and answers;
 * - fanout: 50 groups x 20 members = 1000 sockets, `send` frames over the stream at rising
 *   rates: the highest rate whose p99 send-to-receive latency stays under 100 ms, as
 *   deliveries/s, against an in-memory WebSocket relay climbing the same rates;
 * - list: GET /v1/conversations?limit=50 for a user with 10k conversations in a 1M-message
 *   store (built with SQL), first page and 100 pages deep, against the bare server sending the
 *   same bytes;
 * - memory: RSS of the server idle and at the fan-out peak (measured in the fan-out scenario),
 *   against the relay's.
 *
 * - members (only when named in --only): the per-member cost curve, CPU per send in process
 *   (bench/diag-cpu.ts) into groups of 2, 20, 200, 1000 and 10000 members, and the ratio of
 *   10000 members to 20; on SQLite, and on PostgreSQL too with --db postgres (where the
 *   cluster's own CPU per send is printed beside).
 * - search (only when named in --only): message search p99 in the list scenario's store (1M
 *   messages), for a common word, a rarer one, two words, a rare one and none (target < 50 ms).
 *
 * Prints one table and writes it, with every detail, to test-results/bench.json. docs/performance.md
 * has the figures and what they mean.
 *
 *   npm run bench [-- --quick] [-- --only send,fanout,list,memory,members] [-- --profile] [-- --keep] [-- --no-wait] [-- --pin]
 *                 [-- --db postgres [--nodes 2] [--redis-url redis://...] [--pool-size 10]]
 *
 * --quick: short steps and a smaller list store (a smoke run, about a minute);
 * --only: some scenarios (memory is measured during fanout, so it runs the fan-out); `members`
 *   runs only when named;
 * --db postgres: Parley on PostgreSQL + Redis (bench/pg-cluster.ts): the suite starts its own
 *   throwaway PostgreSQL cluster (initdb + pg_ctl in a temporary directory, a free port,
 *   production settings: PG_SETTINGS there) and its own Redis (no persistence), and stops both
 *   at the end, on failure too. Each scenario gets a fresh database; Parley gets DATABASE_URL,
 *   REDIS_URL and DATABASE_POOL_SIZE. The send scenario adds a PostgreSQL floor (the bare
 *   server making one durable INSERT per request through a `pg` Pool of the same size,
 *   bench/floor-server.ts) and Parley's rate as a ratio of it, and every PostgreSQL figure
 *   comes with the cluster's own CPU per message (utime + stime of its processes);
 * --nodes 2 (implies --db postgres): also measures two Parley processes on the same database
 *   and Redis: the send load split between them, the fan-out's sockets alternating between
 *   them within every group (so deliveries cross nodes through Redis); printed next to the
 *   one-node figure, with their ratio;
 * --redis-url: use this Redis instead of starting one (its keys and channels are shared);
 * --pool-size: DATABASE_POOL_SIZE of every Parley node and the pool of the PostgreSQL floor
 *   (default 10, Parley's default);
 * --profile: open the inspector of each Parley server and CPU-profile it during the measured
 *   load (V8's sampling profiler, as --cpu-prof, but only that window); prints the functions
 *   with the most self time and saves the .cpuprofile files (with --keep). A profiled run is
 *   slower: do not report its figures;
 * --keep: keep the temporary directory (databases, profiles);
 * --no-wait: do not wait for a quiet machine before each scenario (by default it waits up to
 *   2 minutes, 20 s with --quick, for the CPU to be < 10% busy, and records what it saw);
 * --pin: servers on CPU 0 and load generators on CPU 1 (taskset), so neither takes the other's
 *   core (the default lets the kernel place them).
 *
 * Besides Parley and the baselines, the send and fan-out scenarios measure a durable floor
 * (bench/floor-server.ts, bench/relay-server.ts with a database): the baseline plus the writes
 * a Parley send makes, straight on node:sqlite; what any code could keep with those writes
 * (on SQLite; with --db postgres the send scenario's floor is the PostgreSQL one, above).
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { SendCpuInput, SendCpuResult } from './diag-cpu.ts';
import {
  api,
  cpuMeter,
  cpuMs,
  cpuProfiler,
  createOrgCli,
  forkChild,
  liftRateLimit,
  msMeter,
  othersMeter,
  parleyEnv,
  percentile,
  pool,
  ROOT,
  round,
  rssMiB,
  type Server,
  sampleRss,
  startBaseline,
  startParley,
  waitQuiet,
} from './lib.ts';
import type { FanoutInput, FanoutResult, StepResult } from './load-fanout.ts';
import type { HttpLoadInput, HttpLoadResult } from './load-http.ts';
import { type Cluster, PG_SETTINGS, startPostgres, startRedis } from './pg-cluster.ts';
import { formatProfile, type ProfileSummary, summarizeProfile } from './profile-summary.ts';
import type { ListSetupInput, ListSetupResult } from './setup-list.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'no-wait': { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    db: { type: 'string', default: 'sqlite' },
    nodes: { type: 'string', default: '1' },
    'redis-url': { type: 'string' },
    'pool-size': { type: 'string', default: '10' },
  },
});
if (opts.pin) process.env.PARLEY_BENCH_PIN = '1';
const SCENARIOS = ['send', 'fanout', 'list', 'memory', 'members', 'search'] as const;
const only = new Set((opts.only ?? 'send,fanout,list,memory').split(',').map((s) => s.trim()));
const nodes = Number(opts.nodes);
const poolSize = Number(opts['pool-size']);
if (
  ![1, 2].includes(nodes) ||
  !['sqlite', 'postgres'].includes(opts.db) ||
  !(poolSize >= 1 && poolSize <= 100)
) {
  process.stderr.write('--db is sqlite or postgres, --nodes 1 or 2, --pool-size 1-100\n');
  process.exit(2);
}
/** PostgreSQL + Redis (--db postgres; --nodes 2 needs them: the nodes share both). */
const onPg = opts.db === 'postgres' || nodes === 2;
for (const s of only) {
  if (!(SCENARIOS as readonly string[]).includes(s)) {
    process.stderr.write(`unknown scenario ${s}; pick from ${SCENARIOS.join(', ')}\n`);
    process.exit(2);
  }
}
const quick = opts.quick;
const C = {
  send: { connections: 64, warmupS: quick ? 1 : 2, durationS: quick ? 2 : 10, groups: 16, others: 4 },
  fanout: {
    groups: 50,
    members: 20,
    // The ladder both servers climb (msgs/s); x20 for deliveries/s.
    // Coarse up to 1000 msgs/s, then steps of 12.5%: the ceiling of either server is known to
    // within one step, so the ratio's resolution is ~12%, not the 25-33% of coarser steps.
    rates: [50, 100, 200, 400, 700, ...Array.from({ length: 22 }, (_, i) => Math.round(1000 * 1.125 ** i))],
    stepMs: quick ? 800 : 3000,
    warmupMs: quick ? 400 : 1500,
    maxP99Ms: 100,
    // A failed step is tried once more before the climb stops (not with --quick).
    retry: !quick,
  },
  list: {
    conversations: quick ? 1000 : 10_000,
    messages: quick ? 100_000 : 1_000_000,
    deepPages: quick ? 10 : 100,
    iterations: quick ? 300 : 2000,
    durationS: quick ? 1.5 : 5,
    warmupS: quick ? 0.5 : 1,
  },
  members: {
    sizes: [2, 20, 200, 1000, 10_000],
    concurrency: 64,
    /** Sends measured into groups of every size (a send no longer costs anything per member). */
    sends: (_members: number) => (quick ? 600 : 4000),
    /** Groups per size: 16, fewer when that would make more member rows than this. */
    memberRows: quick ? 10_000 : 40_000,
  },
  // Message text in every scenario: the same size for Parley and the baselines.
  textChars: 100,
};

// A watchdog: the suite never runs unbounded (a full run is ~3 minutes on a quiet machine;
// waiting for quiet and measuring again add to it; PostgreSQL, two nodes and the member curve
// more).
const watchdog = setTimeout(
  () => {
    process.stderr.write('bench: over the time limit, stopping\n');
    cleanup().finally(() => {
      if (!opts.keep) rmSync(work, { recursive: true, force: true });
      process.exit(3);
    });
  },
  (quick ? 5 : 20) * 60_000 * (onPg || only.has('members') ? 2 : 1),
);
watchdog.unref();

const servers = new Set<Server>();
/** With --db postgres: the throwaway cluster and Redis (ours unless --redis-url). */
let cluster: Cluster | null = null;
let redis: Server | null = null;
let redisUrl = opts['redis-url'];
async function cleanup() {
  await Promise.all([...servers].map((s) => s.stop()));
  await Promise.all([cluster?.stop(), redis?.stop()]);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping\n`);
    void cleanup().finally(() => {
      if (!opts.keep) rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  });
/** CPU time the run's own services (PostgreSQL, our Redis) have used so far, ms. */
const servicesMs = () => (cluster?.cpuMs() ?? 0) + (redis ? (cpuMs(redis.pid) ?? 0) : 0);

/** Runs `fn` with the servers `starts` start (one after the other); stops them all after. */
async function withServers<T>(
  starts: (() => Promise<Server>)[],
  fn: (s: Server[]) => Promise<T>,
): Promise<T> {
  const started: Server[] = [];
  try {
    for (const start of starts) {
      const s = await start();
      servers.add(s);
      started.push(s);
    }
    return await fn(started);
  } finally {
    for (const s of started) {
      await s.stop();
      servers.delete(s);
      const warnings = s.log().trim();
      if (warnings) process.stdout.write(`  (server ${s.url} logged:)\n${warnings.slice(-2000)}\n`);
    }
  }
}
const withServer = <T>(start: Promise<Server>, fn: (s: Server) => Promise<T>) =>
  withServers([() => start], ([s]) => fn(s!));

interface Database {
  sqlitePath: string;
  /** On PostgreSQL: the scenario's database. */
  url?: string;
  /** The environment of `parley org create` and `parley serve` on it. */
  env: NodeJS.ProcessEnv;
}

/** A scenario's database: a fresh SQLite file in its directory, or a fresh database on the cluster. */
async function database(scenario: string): Promise<Database> {
  mkdirSync(join(work, scenario), { recursive: true });
  const sqlitePath = join(work, scenario, 'parley.db');
  if (!cluster) return { sqlitePath, env: parleyEnv(sqlitePath) };
  const url = await cluster.createDatabase(`bench_${scenario}`);
  return {
    sqlitePath,
    url,
    env: {
      ...parleyEnv(sqlitePath),
      DATABASE_URL: url,
      REDIS_URL: redisUrl,
      DATABASE_POOL_SIZE: String(poolSize),
    },
  };
}

/** Starts Parley node `i` (0, 1) on the scenario's database (NODE_ID i + 1 on PostgreSQL). */
const node =
  (db: Database, i = 0) =>
  () =>
    startParley({
      sqlitePath: db.sqlitePath,
      inspect: opts.profile,
      env: db.url ? { ...db.env, NODE_ID: String(i + 1) } : {},
    });

/** CPU time of the cluster between start() and stop(), ms (NaN on SQLite). */
function pgMeter() {
  const m = msMeter(() => cluster?.cpuMs() ?? Number.NaN);
  return { start: m.start, stop: () => m.stop().ms };
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const quietness: Record<string, { busyPct: number; waitedMs: number }> = {};

/** Before a scenario: wait for a quiet machine (bounded) and say so when it is not. */
async function quiet(label: string) {
  if (opts['no-wait']) return;
  const q = await waitQuiet(quick ? 20_000 : 120_000);
  quietness[label] = q;
  if (q.busyPct >= 10) {
    log(
      `  WARNING: the machine is ${q.busyPct}% busy with other work after waiting ${Math.round(q.waitedMs / 1000)} s; figures will be low`,
    );
  } else if (q.waitedMs > 1500) {
    log(`  (waited ${Math.round(q.waitedMs / 1000)} s for other work on the machine to finish)`);
  }
}
const work = mkdtempSync(join(tmpdir(), 'parley-bench-'));
const profileDir = opts.profile ? join(work, 'profiles') : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

interface Row {
  scenario: string;
  figure: string;
  parley: number;
  baseline: number | null;
  baselineName: string;
  /** parley / baseline */
  ratio: number | null;
  target: string;
  pass: boolean | null;
}
const rows: Row[] = [];
const details: Record<string, unknown> = {};
const profiles: Record<string, ProfileSummary> = {};

function row(r: Omit<Row, 'ratio'> & { ratio?: number | null }) {
  const ratio = r.ratio ?? (r.baseline ? r.parley / r.baseline : null);
  rows.push({
    ...r,
    ratio: ratio === null || !Number.isFinite(ratio) ? null : round(ratio, ratio < 1 ? 3 : 2),
  });
}

/**
 * Runs bench/load-http.ts against the server with process id `pid` (or the nodes `pid` lists);
 * `onMeasuring` is called when the warm-up is over. Fills in the servers' CPU use during the
 * measured run, and on PostgreSQL the cluster's CPU time (ms).
 */
async function httpLoad(
  pid: number | number[],
  input: HttpLoadInput,
  onMeasuring?: () => void,
): Promise<HttpLoadResult & { othersPct: number; pgCpuMs: number }> {
  const pids = typeof pid === 'number' ? [pid] : pid;
  const meter = cpuMeter(pids);
  const pgCpu = pgMeter();
  const others = othersMeter(() => [...pids, process.pid, child.child.pid ?? 0], servicesMs);
  const child = forkChild('load-http.ts', (msg) => {
    if (msg.type === 'measuring') {
      meter.start();
      pgCpu.start();
      others.start();
      onMeasuring?.();
    }
  });
  child.send(input);
  const result = (await child.result) as HttpLoadResult;
  result.serverCpuPct = meter.stop();
  return { ...result, pgCpuMs: pgCpu.stop(), othersPct: others.stop() };
}

/** CPU µs per acknowledged request of a load's `cpuMs` (NaN without requests). */
const usPer = (cpuMs: number, r: { ok: number }) => (r.ok > 0 ? round((cpuMs * 1000) / r.ok, 0) : Number.NaN);

/** The most other processes used of the machine during any measurement kept in this run. */
let othersMax = 0;

/**
 * Runs a measurement; when other processes used >= 10% of the machine during it (a shared
 * machine: tests, other loads), waits for quiet and measures again, at most twice more (not
 * with --quick, --profile or --no-wait). The least contended attempt is kept, and the table
 * says how contended it was.
 */
async function uncontended<T extends { othersPct: number }>(label: string, fn: () => Promise<T>): Promise<T> {
  let r = await fn();
  let last = r;
  for (
    let attempt = 1;
    attempt <= 2 && last.othersPct >= 10 && !opts['no-wait'] && !opts.profile && !quick;
    attempt++
  ) {
    log(`  (${label}: other processes used ${last.othersPct}% of the machine during it: measuring again)`);
    await quiet(label);
    last = await fn();
    if (last.othersPct < r.othersPct) r = last;
  }
  othersMax = Math.max(othersMax, r.othersPct);
  if (r.othersPct >= 10)
    log(
      `  WARNING: kept the least contended attempt of ${label}: other processes used ${r.othersPct}% of the machine during it`,
    );
  return r;
}

/** With --profile: a CPU profiler on the server for the measured window of a scenario. */
async function maybeProfile(server: Server, label: string) {
  if (!profileDir) return { start: () => undefined, stop: async () => undefined };
  const profiler = await cpuProfiler(server);
  let started: Promise<unknown> | null = null;
  return {
    start: () => {
      started = profiler.start();
    },
    async stop() {
      if (!started) return;
      await started;
      const file = await profiler.stop(join(profileDir, `${label}.cpuprofile`));
      const summary = summarizeProfile(file);
      profiles[label] = summary;
      log(formatProfile(summary));
    },
  };
}

function sentence(text: string): string {
  const head = 'Benchmark message: the quick brown fox jumps over the lazy dog. ';
  return (head.repeat(4) + text).slice(0, C.textChars);
}

// ---------------------------------------------------------------------------------------------
// send

async function scenarioSend() {
  log('\n== send: POST a message, 64 connections');
  const text = sentence('');
  const body = JSON.stringify({ text });
  const headers = (token: string) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json',
  });
  /** The load on one server or on several nodes (the connections split between them). */
  const load = (
    ss: Server | Server[],
    token: string,
    conversationIds: string[],
    onMeasuring?: () => void,
  ) => {
    const list = Array.isArray(ss) ? ss : [ss];
    return httpLoad(
      list.map((s) => s.pid),
      {
        url: list[0]!.url,
        ...(list.length > 1 ? { urls: list.map((s) => s.url) } : {}),
        connections: C.send.connections,
        durationS: C.send.durationS,
        warmupS: C.send.warmupS,
        requests: conversationIds.map((id) => ({
          method: 'POST',
          path: `/v1/conversations/${id}/messages`,
          headers: headers(token),
          body,
        })),
      },
      onMeasuring,
    );
  };
  // The cluster's CPU per message (not for the bare server, which does not use it).
  const pgNote = (r: { pgCpuMs: number; ok: number }) =>
    cluster && r.pgCpuMs > 0 ? `, PostgreSQL ${usPer(r.pgCpuMs, r)} us/msg` : '';
  const say = (name: string, r: Awaited<ReturnType<typeof load>>) =>
    log(
      `  ${name.padEnd(15)} ${r.rps} msgs/s, p50 ${r.p50} ms, p99 ${r.p99} ms; CPU: server ${r.serverCpuPct}%, load ${r.loadCpuPct}%${pgNote(r)}`,
    );

  const fakeIds = Array.from({ length: C.send.groups }, (_, i) => String(7_000_000_000_000_000 + i));
  const bare = await withServer(startBaseline('bare-server.ts'), (s) =>
    uncontended('send, bare', () => load(s, 'x'.repeat(43), fakeIds)),
  );
  say('bare node:http:', bare);

  const db = await database('send');
  const org = await createOrgCli(db.env, 'bench-send');
  let groupIds: string[] = [];
  const { parley, parley2 } = await withServers([node(db)], async ([s]) => {
    await liftRateLimit(s!.url, org.token);
    const others = await pool(
      Array.from({ length: C.send.others }, (_, i) => i),
      4,
      (i) =>
        api(s!.url, org.token, 'POST', '/v1/actors', {
          kind: 'user',
          name: `Send member ${i}`,
          role: 'member',
        }),
    );
    const groups = await pool(
      Array.from({ length: C.send.groups }, (_, i) => i),
      4,
      (i) =>
        api(s!.url, org.token, 'POST', '/v1/conversations', {
          kind: 'group',
          title: `Send group ${i}`,
          member_ids: others.map((a) => a.id),
        }),
    );
    groupIds = groups.map((g) => g.id);
    const profiler = await maybeProfile(s!, 'send');
    const result = await uncontended('send, Parley', () => load(s!, org.token, groupIds, profiler.start));
    await profiler.stop();
    // Two nodes: the first one and a second on the same database and Redis, the load split.
    const two =
      nodes === 2
        ? await withServers([node(db, 1)], ([s2]) =>
            uncontended('send, Parley on 2 nodes', () => load([s!, s2!], org.token, groupIds)),
          )
        : null;
    return { parley: result, parley2: two };
  });
  say('Parley:', parley);
  if (parley2) say('Parley, 2 nodes:', parley2);
  for (const [name, r] of [
    ['Parley', parley],
    ['Parley on 2 nodes', parley2],
  ] as const) {
    if (r && (r.non2xx > 0 || r.errors > 0))
      log(`  WARNING: ${name} answered ${JSON.stringify(r.statusCodes)} with ${r.errors} errors`);
  }
  // Every acknowledged message is in the database after the server stopped.
  const { stored, storage } = await countStored(db);
  log(
    `  ${stored} messages stored (>= ${parley.ok + (parley2?.ok ?? 0)} acknowledged in the measured windows), ${storage}`,
  );
  // The durable floors (bench/floor-server.ts): the bare server answering each POST after a
  // durable write, one row of its own, then (SQLite) the rows a Parley send writes in Parley's
  // schema (on a copy of the database Parley just wrote). On PostgreSQL, one durable INSERT
  // through a pg Pool of Parley's size on the same cluster. Not baselines: what any code could keep.
  const floor = async (mode: 'minimal' | 'parley') => {
    let args: string[];
    if (cluster) {
      args = [await cluster.createDatabase('bench_floor'), mode, String(poolSize)];
    } else {
      const file = join(work, 'send', `floor-${mode}.db`);
      if (mode === 'parley') {
        copyFileSync(db.sqlitePath, file);
        if (existsSync(`${db.sqlitePath}-wal`)) copyFileSync(`${db.sqlitePath}-wal`, `${file}-wal`);
      }
      args = [file, mode];
    }
    const r = await withServer(startBaseline('floor-server.ts', args), (s) =>
      uncontended(`send, floor (${mode})`, () => load(s, 'x'.repeat(43), groupIds)),
    );
    say(`floor (${cluster ? 'pg' : mode}):`, r);
    if (r.non2xx > 0 || r.errors > 0) log(`  WARNING: the floor answered ${JSON.stringify(r.statusCodes)}`);
    return r;
  };
  const floorMinimal = await floor('minimal');
  // The "send's rows" floor writes Parley's SQLite schema with node:sqlite: SQLite only.
  const floorParley = cluster ? null : await floor('parley');
  details.send = { bare, parley, parley2, stored, storage, floorMinimal, floorParley };
  row({
    scenario: 'send',
    figure: 'msgs/s (64 conn)',
    parley: parley.rps,
    baseline: bare.rps,
    baselineName: 'bare node:http',
    target: '>= 70% of baseline',
    pass: parley.rps >= 0.7 * bare.rps,
  });
  row({
    scenario: 'send',
    figure: cluster
      ? `msgs/s, floor: 1 durable INSERT (pg pool ${poolSize})`
      : 'msgs/s, floor: 1 durable row',
    parley: floorMinimal.rps,
    baseline: bare.rps,
    baselineName: 'bare node:http',
    target: '',
    pass: null,
  });
  if (floorParley) {
    row({
      scenario: 'send',
      figure: "msgs/s, floor: a send's rows",
      parley: floorParley.rps,
      baseline: bare.rps,
      baselineName: 'bare node:http',
      target: '',
      pass: null,
    });
  } else {
    row({
      scenario: 'send',
      figure: 'msgs/s against the PostgreSQL floor',
      parley: parley.rps,
      baseline: floorMinimal.rps,
      baselineName: 'PostgreSQL floor',
      target: '>= 0.5x of the floor',
      pass: parley.rps >= 0.5 * floorMinimal.rps,
    });
  }
  if (parley2) {
    row({
      scenario: 'send',
      figure: 'msgs/s, 2 nodes (64 conn)',
      parley: parley2.rps,
      baseline: parley.rps,
      baselineName: '1 node',
      target: '',
      pass: null,
    });
  }
  row({
    scenario: 'send',
    figure: 'p50 ms',
    parley: parley.p50,
    baseline: bare.p50,
    baselineName: 'bare node:http',
    target: '',
    pass: null,
  });
  row({
    scenario: 'send',
    figure: 'p99 ms',
    parley: parley.p99,
    baseline: bare.p99,
    baselineName: 'bare node:http',
    target: '',
    pass: null,
  });
  row({
    scenario: 'send',
    figure: 'server CPU % (of one core)',
    parley: parley.serverCpuPct,
    baseline: bare.serverCpuPct,
    baselineName: 'bare node:http',
    target: '',
    pass: null,
  });
  if (!cluster) return;
  row({
    scenario: 'send',
    figure: 'PostgreSQL CPU us per msg',
    parley: usPer(parley.pgCpuMs, parley),
    baseline: usPer(floorMinimal.pgCpuMs, floorMinimal),
    baselineName: 'PostgreSQL floor',
    target: '<= 500 us',
    pass: usPer(parley.pgCpuMs, parley) <= 500,
  });
  if (parley2) {
    row({
      scenario: 'send',
      figure: 'server CPU % (both nodes, of one core)',
      parley: parley2.serverCpuPct,
      baseline: parley.serverCpuPct,
      baselineName: '1 node',
      target: '',
      pass: null,
    });
    row({
      scenario: 'send',
      figure: 'PostgreSQL CPU us per msg, 2 nodes',
      parley: usPer(parley2.pgCpuMs, parley2),
      baseline: usPer(parley.pgCpuMs, parley),
      baselineName: '1 node',
      target: '<= 500 us',
      pass: usPer(parley2.pgCpuMs, parley2) <= 500,
    });
  }
}

/** How many messages a scenario's database holds (after its servers stopped), and how it stores them. */
async function countStored(db: Database): Promise<{ stored: number; storage: string }> {
  if (db.url) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const n = (await client.query('SELECT count(*) AS n FROM message')).rows[0].n;
      return { stored: Number(n), storage: `PostgreSQL ${cluster?.version}` };
    } finally {
      await client.end();
    }
  }
  const sqlite = new DatabaseSync(db.sqlitePath, { readOnly: true });
  const stored = Number((sqlite.prepare('SELECT count(*) AS n FROM message').get() as { n: number }).n);
  const mode = (sqlite.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
  sqlite.close();
  return { stored, storage: `journal ${mode}` };
}

// ---------------------------------------------------------------------------------------------
// fan-out and memory

interface FanoutSide {
  result: FanoutResult;
  /** % of the machine other processes used during the steps. */
  othersPct: number;
  rssFresh: number;
  rssConnected: number;
  rssPeak: number;
  hwm: number;
}

/**
 * Climbs the fan-out's rates on `server` (memory: the first node's). With several nodes, the
 * sockets alternate between them in every group (load-fanout.ts) and the CPU is of all of them.
 */
async function driveFanout(
  server: Server | Server[],
  input: FanoutInput,
  label: string,
  profiler?: { start(): void; stop(): Promise<void> },
): Promise<FanoutSide> {
  const all = Array.isArray(server) ? server : [server];
  const first = all[0]!;
  if (all.length > 1) input = { ...input, urls: all.map((s) => `${s.url.replace('http', 'ws')}/v1/stream`) };
  const others = othersMeter(() => [...all.map((s) => s.pid), process.pid, child.child.pid ?? 0], servicesMs);
  const rssConnectedBox = { value: Number.NaN };
  let sampler: ReturnType<typeof sampleRss> | null = null;
  const meter = cpuMeter(all.map((s) => s.pid));
  const pgCpu = pgMeter();
  let lastServerCpu = Number.NaN;
  let lastPgCpu = Number.NaN;
  const serverCpu: number[] = [];
  const pgCpuMs: number[] = [];
  const child = forkChild('load-fanout.ts', (msg) => {
    if (msg.type === 'step-start') {
      meter.start();
      pgCpu.start();
    } else if (msg.type === 'step-sent') {
      lastServerCpu = meter.stop();
      lastPgCpu = pgCpu.stop();
    } else if (msg.type === 'connected') {
      rssConnectedBox.value = rssMiB(first.pid)?.rss ?? Number.NaN;
      log(
        `  ${label}: ${msg.sockets} sockets ready in ${Math.round(msg.connectMs)} ms, RSS ${round(rssConnectedBox.value, 0)} MiB`,
      );
      sampler = sampleRss(first.pid, 200);
      others.start();
      profiler?.start();
      child.send({ type: 'go' });
    } else if (msg.type === 'step') {
      const s = msg.step as StepResult;
      serverCpu.push(lastServerCpu);
      pgCpuMs.push(lastPgCpu);
      const pgUs =
        cluster && s.sent > 0 && lastPgCpu > 0
          ? ` PostgreSQL ${round((lastPgCpu * 1000) / s.sent, 0)} us/msg`
          : '';
      log(
        `    ${String(s.rate).padStart(5)} msgs/s -> ${String(s.deliveriesPerSec).padStart(6)} deliveries/s, ` +
          `p50 ${s.p50} ms, p99 ${s.p99} ms, ack p99 ${s.ackP99} ms; CPU server ${lastServerCpu}% load ${s.loadCpuPct}%${pgUs} ` +
          `${s.pass ? 'ok' : `FAIL (${s.why})`}`,
      );
    }
  });
  child.send(input);
  const result = (await child.result) as FanoutResult;
  const othersPct = others.stop();
  if (result.errorSamples.length > 0) log(`  ${label} errors: ${result.errorSamples.join(' | ')}`);
  result.steps.forEach((st, i) => {
    st.serverCpuPct = serverCpu[i] ?? Number.NaN;
    if (cluster) st.pgCpuMs = pgCpuMs[i] ?? Number.NaN;
  });
  // Over IPC `best` arrived as a copy: point it back at its step.
  const best = result.best;
  if (best) result.best = result.steps.findLast((st) => st.pass && st.rate === best.rate) ?? best;
  await profiler?.stop();
  const peak = (sampler as ReturnType<typeof sampleRss> | null)?.stop();
  const hwm = rssMiB(first.pid)?.hwm ?? Number.NaN;
  return {
    result,
    othersPct,
    rssFresh: Number.NaN,
    rssConnected: round(rssConnectedBox.value, 1),
    rssPeak: round(peak?.max ?? Number.NaN, 1),
    hwm: round(hwm, 1),
  };
}

async function scenarioFanout() {
  const { groups: G, members: M } = C.fanout;
  log(`\n== fan-out: ${G} groups x ${M} members = ${G * M} sockets, send frames over the stream`);
  const db = await database('fanout');
  const dbPath = db.sqlitePath;
  const org = await createOrgCli(db.env, 'bench-fanout');
  const baseInput = {
    rates: C.fanout.rates,
    stepMs: C.fanout.stepMs,
    warmupMs: C.fanout.warmupMs,
    textChars: C.textChars,
    maxP99Ms: C.fanout.maxP99Ms,
    retry: C.fanout.retry,
  };
  let groups: FanoutInput['groups'] = [];
  let parley2: FanoutSide | null = null;
  const parley = await withServers([node(db)], async ([first]) => {
    const s = first!;
    const rssFresh = rssMiB(s.pid)?.rss ?? Number.NaN;
    const t0 = performance.now();
    await liftRateLimit(s.url, org.token);
    // One user and one token per socket, through the API.
    const users = await pool(
      Array.from({ length: G * M }, (_, i) => i),
      8,
      async (i) => {
        const actor = await api(s.url, org.token, 'POST', '/v1/actors', {
          kind: 'user',
          name: `Fanout user ${i}`,
          role: 'member',
        });
        const { token } = await api(s.url, org.token, 'POST', '/v1/tokens', {
          name: 'bench',
          scopes: ['conversations:read', 'conversations:write', 'messages:read', 'messages:write'],
          actor_id: actor.id,
        });
        return { actorId: actor.id as string, token: token as string };
      },
    );
    // Each group is created by its first member, so it has exactly M members.
    groups = await pool(
      Array.from({ length: G }, (_, g) => g),
      8,
      async (g) => {
        const members = users.slice(g * M, (g + 1) * M);
        const conv = await api(s.url, members[0]!.token, 'POST', '/v1/conversations', {
          kind: 'group',
          title: `Fanout group ${g}`,
          member_ids: members.slice(1).map((m) => m.actorId),
        });
        if (conv.member_count !== undefined && conv.member_count !== M) {
          throw new Error(`group ${g} has ${conv.member_count} members, not ${M}`);
        }
        return { id: conv.id as string, members };
      },
    );
    log(
      `  setup: ${G * M} users, tokens and ${G} groups through the API in ${Math.round(performance.now() - t0)} ms`,
    );
    // Idle memory with the sockets connected is the first attempt's (a second attempt starts
    // after a climb, with a grown heap); the peak is the kept attempt's.
    let firstConnected = Number.NaN;
    const side = await uncontended('fan-out, Parley', async () => {
      const r = await driveFanout(
        s,
        { ...baseInput, url: `${s.url.replace('http', 'ws')}/v1/stream`, groups },
        'Parley',
        await maybeProfile(s, 'fanout'),
      );
      if (Number.isNaN(firstConnected)) firstConnected = r.rssConnected;
      return r;
    });
    // Two nodes: a second one on the same database and Redis; every group's sockets alternate
    // between them, so most deliveries cross from one node to the other.
    if (nodes === 2) {
      parley2 = await withServers([node(db, 1)], ([s2]) =>
        uncontended('fan-out, Parley on 2 nodes', () =>
          driveFanout([s, s2!], { ...baseInput, url: '', groups }, 'Parley, 2 nodes'),
        ),
      );
    }
    return { ...side, rssFresh: round(rssFresh, 1), rssConnected: firstConnected };
  });

  const membership = {
    tokens: Object.fromEntries(groups.flatMap((g) => g.members.map((m) => [m.token, m.actorId]))),
    groups: Object.fromEntries(groups.map((g) => [g.id, g.members.map((m) => m.actorId)])),
  };
  const membershipFile = join(work, 'fanout', 'membership.json');
  writeFileSync(membershipFile, JSON.stringify(membership));
  const relay = await withServer(startBaseline('relay-server.ts', [membershipFile]), async (s) => {
    const rssFresh = rssMiB(s.pid)?.rss ?? Number.NaN;
    let firstConnected = Number.NaN;
    const side = await uncontended('fan-out, relay', async () => {
      const r = await driveFanout(
        s,
        { ...baseInput, url: `${s.url.replace('http', 'ws')}/v1/stream`, groups },
        'relay',
      );
      if (Number.isNaN(firstConnected)) firstConnected = r.rssConnected;
      return r;
    });
    return { ...side, rssFresh: round(rssFresh, 1), rssConnected: firstConnected };
  });

  // The durable floor (bench/relay-server.ts with a database): the relay writing each message
  // as Parley does, on a copy of Parley's database, before fanning it out.
  // Only when the fan-out's rows are printed (not for --only memory), and on SQLite (the floor
  // writes Parley's SQLite schema with node:sqlite).
  const floor = only.has('fanout') && !cluster ? await fanoutFloor() : null;
  async function fanoutFloor() {
    const floorFile = join(work, 'fanout', 'floor.db');
    copyFileSync(dbPath, floorFile);
    if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${floorFile}-wal`);
    return withServer(startBaseline('relay-server.ts', [membershipFile, floorFile]), (s) =>
      uncontended('fan-out, durable floor', () =>
        driveFanout(s, { ...baseInput, url: `${s.url.replace('http', 'ws')}/v1/stream`, groups }, 'floor'),
      ),
    );
  }

  details.fanout = { parley, parley2, relay, floor };
  const pb = parley.result.best;
  const rb = relay.result.best;
  if (only.has('fanout')) {
    row({
      scenario: 'fanout',
      figure: 'deliveries/s, p99 < 100 ms',
      parley: pb?.deliveriesPerSec ?? 0,
      baseline: rb?.deliveriesPerSec ?? null,
      baselineName: 'in-memory ws relay',
      target: '>= 70% of baseline',
      pass: pb && rb ? pb.deliveriesPerSec >= 0.7 * rb.deliveriesPerSec : false,
    });
    if (floor) {
      row({
        scenario: 'fanout',
        figure: "deliveries/s, floor: a send's rows",
        parley: floor.result.best?.deliveriesPerSec ?? 0,
        baseline: rb?.deliveriesPerSec ?? null,
        baselineName: 'in-memory ws relay',
        target: '',
        pass: null,
      });
    }
    const p2 = (parley2 as FanoutSide | null)?.result.best;
    if (nodes === 2) {
      row({
        scenario: 'fanout',
        figure: 'deliveries/s, 2 nodes, p99 < 100 ms',
        parley: p2?.deliveriesPerSec ?? 0,
        baseline: pb?.deliveriesPerSec ?? null,
        baselineName: '1 node',
        target: '',
        pass: null,
      });
    }
    row({
      scenario: 'fanout',
      figure: 'msgs/s sent at that rate',
      parley: pb?.sentPerSec ?? 0,
      baseline: rb?.sentPerSec ?? null,
      baselineName: 'in-memory ws relay',
      target: '',
      pass: null,
    });
    // Latencies at the same rate on both sides: Parley's best rate (the relay climbed past it).
    const same = pb ? relay.result.steps.filter((st) => st.rate === pb.rate && st.pass).at(-1) : undefined;
    row({
      scenario: 'fanout',
      figure: `p99 ms at ${pb?.rate ?? '-'} msgs/s`,
      parley: pb?.p99 ?? Number.NaN,
      baseline: same?.p99 ?? null,
      baselineName: 'relay, same rate',
      target: '< 100 ms',
      pass: pb ? pb.p99 < 100 : false,
    });
    row({
      scenario: 'fanout',
      figure: `p50 ms at ${pb?.rate ?? '-'} msgs/s`,
      parley: pb?.p50 ?? Number.NaN,
      baseline: same?.p50 ?? null,
      baselineName: 'relay, same rate',
      target: '',
      pass: null,
    });
    row({
      scenario: 'fanout',
      figure: `server CPU % at ${pb?.rate ?? '-'} msgs/s`,
      parley: pb?.serverCpuPct ?? Number.NaN,
      baseline: same?.serverCpuPct ?? null,
      baselineName: 'relay, same rate',
      target: '',
      pass: null,
    });
    // CPU per message at one fixed rate below every ceiling: steadier than a ceiling, which
    // turns on one step's p99 (see docs/performance.md).
    const cpuAt = (steps: StepResult[], rate: number) => {
      const st = steps.filter((x) => x.rate === rate && x.pass).at(-1);
      return st && st.sentPerSec > 0 ? round((st.serverCpuPct / 100) * (1e6 / st.sentPerSec), 0) : null;
    };
    const fixed = 1000;
    row({
      scenario: 'fanout',
      figure: `server CPU us per msg at ${fixed} msgs/s`,
      parley: cpuAt(parley.result.steps, fixed) ?? Number.NaN,
      baseline: cpuAt(relay.result.steps, fixed),
      baselineName: 'in-memory ws relay',
      target: '',
      pass: null,
    });
    if (floor) {
      row({
        scenario: 'fanout',
        figure: `floor CPU us per msg at ${fixed} msgs/s`,
        parley: cpuAt(floor.result.steps, fixed) ?? Number.NaN,
        baseline: cpuAt(relay.result.steps, fixed),
        baselineName: 'in-memory ws relay',
        target: '',
        pass: null,
      });
    }
    if (cluster) {
      // The cluster's CPU per message at the same fixed rate (or Parley's best, if lower).
      const pgAt = (steps: StepResult[] | undefined, rate: number) => {
        const st = steps?.filter((x) => x.rate === rate && x.pass).at(-1);
        return st?.pgCpuMs !== undefined && st.sent > 0
          ? round((st.pgCpuMs * 1000) / st.sent, 0)
          : Number.NaN;
      };
      // (With two nodes: the lower of both bests, so both figures are at one rate.)
      const pgRate = Math.min(fixed, pb?.rate ?? fixed, nodes === 2 ? (p2?.rate ?? fixed) : fixed);
      const one = pgAt(parley.result.steps, pgRate);
      row({
        scenario: 'fanout',
        figure: `PostgreSQL CPU us per msg at ${pgRate} msgs/s`,
        parley: one,
        baseline: null,
        baselineName: '',
        target: '<= 500 us',
        pass: one <= 500,
      });
      if (nodes === 2) {
        const two = pgAt((parley2 as FanoutSide | null)?.result.steps, pgRate);
        row({
          scenario: 'fanout',
          figure: `PostgreSQL CPU us per msg at ${pgRate} msgs/s, 2 nodes`,
          parley: two,
          baseline: one,
          baselineName: '1 node',
          target: '<= 500 us',
          pass: two <= 500,
        });
        row({
          scenario: 'fanout',
          figure: `server CPU us per msg at ${pgRate} msgs/s, 2 nodes`,
          parley: cpuAt((parley2 as FanoutSide | null)?.result.steps ?? [], pgRate) ?? Number.NaN,
          baseline: cpuAt(parley.result.steps, pgRate),
          baselineName: '1 node',
          target: '',
          pass: null,
        });
      }
    }
    row({
      scenario: 'fanout',
      figure: `ack p99 ms at ${pb?.rate ?? '-'} msgs/s`,
      parley: pb?.ackP99 ?? Number.NaN,
      baseline: same?.ackP99 ?? null,
      baselineName: 'relay, same rate',
      target: '',
      pass: null,
    });
  }
  if (only.has('memory')) {
    const mem = (figure: string, p: number, r: number) =>
      row({
        scenario: 'memory',
        figure,
        parley: p,
        baseline: r,
        baselineName: 'in-memory ws relay',
        target: '',
        pass: null,
      });
    mem('RSS MiB idle, fresh start', parley.rssFresh, relay.rssFresh);
    mem(`RSS MiB idle, ${G * M} sockets`, parley.rssConnected, relay.rssConnected);
    mem('RSS MiB at the fan-out peak', parley.rssPeak, relay.rssPeak);
  }
}

// ---------------------------------------------------------------------------------------------
// list

/**
 * search (only when named in --only): the list scenario's store (1M messages, 100k with
 * --quick), searched in process as its owner, a member of every conversation: a word in most
 * messages, one in a fifteenth of them, and one in a single message; the first page of 20.
 */
async function scenarioSearch() {
  const L = C.list;
  log(`\n== search: ${L.messages} messages in ${L.conversations} conversations`);
  const db = await database('search');
  const org = await createOrgCli(db.env, 'bench-search');
  const setup = forkChild('setup-list.ts');
  const rare = String(Math.floor(L.messages / 3));
  setup.send({
    sqlitePath: db.sqlitePath,
    ...(db.url ? { databaseUrl: db.url } : {}),
    orgId: org.orgId,
    ownerId: org.ownerId,
    conversations: L.conversations,
    messages: L.messages,
    deepPages: 0,
    iterations: quick ? 200 : 1000,
    search: [
      { label: 'common word', q: 'the' },
      { label: 'one word in 15', q: 'lunch' },
      { label: 'two words', q: 'deploy review' },
      { label: 'rare word', q: rare },
      { label: 'no match', q: 'zebra' },
    ],
  } satisfies ListSetupInput);
  const built = (await setup.result) as ListSetupResult;
  log(`  built in ${built.buildMs} ms (${built.fileMiB} MiB)`);
  details.search = built;
  for (const s of built.search ?? []) {
    log(
      `  ${s.label} (q=${s.q}): p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.hits} on the first page; plan: ${s.plan.join(' | ')}`,
    );
    row({
      scenario: 'search',
      figure: `${s.label} p99 ms`,
      parley: s.p99,
      baseline: null,
      baselineName: '',
      target: '< 50 ms',
      pass: s.p99 < 50,
    });
  }
}

async function scenarioList() {
  const L = C.list;
  log(`\n== list: a user with ${L.conversations} conversations in a ${L.messages}-message store`);
  const dir = join(work, 'list');
  const db = await database('list');
  const org = await createOrgCli(db.env, 'bench-list');
  const setup = forkChild('setup-list.ts');
  setup.send({
    sqlitePath: db.sqlitePath,
    ...(db.url ? { databaseUrl: db.url } : {}),
    orgId: org.orgId,
    ownerId: org.ownerId,
    conversations: L.conversations,
    messages: L.messages,
    deepPages: L.deepPages,
    iterations: L.iterations,
  } satisfies ListSetupInput);
  const built = (await setup.result) as ListSetupResult;
  log(
    `  built in ${built.buildMs} ms (${built.fileMiB} MiB); in-process query: first page p50 ${built.query.firstP50} ms ` +
      `p99 ${built.query.firstP99} ms, page ${L.deepPages + 1} p50 ${built.query.deepP50} ms p99 ${built.query.deepP99} ms`,
  );
  log(`  plan, first page: ${built.plan.join(' | ')}`);
  log(`  plan, after a cursor: ${built.planDeep.join(' | ')}`);

  const headers = { authorization: `Bearer ${org.token}`, accept: 'application/json' };
  const firstPath = '/v1/conversations?limit=50';
  const parley = await withServers([node(db)], async ([first0]) => {
    const s = first0!;
    await liftRateLimit(s.url, org.token);
    const first = await fetch(`${s.url}${firstPath}`, { headers });
    const firstBody = await first.text();
    const page = JSON.parse(firstBody) as { items: unknown[]; next_cursor: string | null };
    if (first.status !== 200 || page.items.length !== 50)
      throw new Error(`first page: ${first.status} ${firstBody.slice(0, 300)}`);
    let cursor = page.next_cursor;
    for (let p = 0; p < L.deepPages && cursor; p++) {
      const r = await api(s.url, org.token, 'GET', `${firstPath}&cursor=${encodeURIComponent(cursor)}`);
      cursor = r.next_cursor;
    }
    if (!cursor) throw new Error('the list ended before the deep page');
    const deepPath = `${firstPath}&cursor=${encodeURIComponent(cursor)}`;
    const get = (path: string, connections: number, onMeasuring?: () => void) =>
      httpLoad(
        s.pid,
        {
          url: s.url,
          connections,
          durationS: L.durationS,
          warmupS: L.warmupS,
          requests: [{ method: 'GET', path, headers }],
        },
        onMeasuring,
      );
    const firstPage = await uncontended('list first page', () => get(firstPath, 1));
    const deepPage = await uncontended('list deep page', () => get(deepPath, 1));
    const profiler = await maybeProfile(s, 'list');
    const firstPage8 = await uncontended('list 8 connections', () => get(firstPath, 8, profiler.start));
    await profiler.stop();
    writeFileSync(join(dir, 'page.json'), firstBody);
    return { firstPage, deepPage, firstPage8, bytes: Buffer.byteLength(firstBody) };
  });
  const bare = await withServer(startBaseline('bare-server.ts', [join(dir, 'page.json')]), async (s) => {
    const get = (connections: number) =>
      httpLoad(s.pid, {
        url: s.url,
        connections,
        durationS: L.durationS,
        warmupS: L.warmupS,
        requests: [{ method: 'GET', path: firstPath, headers }],
      });
    return {
      one: await uncontended('list, bare', () => get(1)),
      eight: await uncontended('list 8 connections, bare', () => get(8)),
    };
  });
  log(
    `  Parley first page (1 conn): p50 ${parley.firstPage.p50} ms, p99 ${parley.firstPage.p99} ms, ${parley.firstPage.rps} req/s`,
  );
  log(
    `  Parley page ${L.deepPages + 1} (1 conn):  p50 ${parley.deepPage.p50} ms, p99 ${parley.deepPage.p99} ms`,
  );
  log(`  Parley first page (8 conn): ${parley.firstPage8.rps} req/s, p99 ${parley.firstPage8.p99} ms`);
  log(
    `  bare, same ${parley.bytes} bytes (1 conn): p50 ${bare.one.p50} ms, p99 ${bare.one.p99} ms; 8 conn ${bare.eight.rps} req/s`,
  );
  details.list = { built, parley, bare };
  const base = { scenario: 'list', baselineName: 'bare node:http, same bytes' };
  row({
    ...base,
    figure: 'first page p50 ms',
    parley: parley.firstPage.p50,
    baseline: bare.one.p50,
    target: '',
    pass: null,
  });
  row({
    ...base,
    figure: 'first page p99 ms',
    parley: parley.firstPage.p99,
    baseline: bare.one.p99,
    target: '< 10 ms',
    pass: parley.firstPage.p99 < 10,
  });
  row({
    ...base,
    figure: `page ${L.deepPages + 1} p50 ms`,
    parley: parley.deepPage.p50,
    baseline: bare.one.p50,
    target: '',
    pass: null,
  });
  row({
    ...base,
    figure: `page ${L.deepPages + 1} p99 ms`,
    parley: parley.deepPage.p99,
    baseline: bare.one.p99,
    target: '< 10 ms',
    pass: parley.deepPage.p99 < 10,
  });
  row({
    ...base,
    figure: 'first page req/s (8 conn)',
    parley: parley.firstPage8.rps,
    baseline: bare.eight.rps,
    target: '',
    pass: null,
  });
  row({
    scenario: 'list',
    figure: 'in-process query p99 ms (first/deep)',
    parley: Math.max(built.query.firstP99, built.query.deepP99),
    baseline: null,
    baselineName: '',
    target: '',
    pass: null,
  });
}

// ---------------------------------------------------------------------------------------------
// members: the per-member cost curve

async function scenarioMembers() {
  const M = C.members;
  log(`\n== members: CPU per send in process into groups of ${M.sizes.join(', ')} members`);
  const dbs: ('sqlite' | 'postgres')[] = cluster ? ['sqlite', 'postgres'] : ['sqlite'];
  const curves: Record<string, (SendCpuResult & { pgUs: number })[]> = {};
  for (const kind of dbs) {
    const curve: (SendCpuResult & { pgUs: number })[] = [];
    curves[kind] = curve;
    for (const members of M.sizes) {
      const n = M.sends(members);
      const input: SendCpuInput = {
        n,
        members,
        concurrency: M.concurrency,
        groups: Math.min(16, Math.max(2, Math.floor(M.memberRows / members))),
        warmup: Math.max(20, Math.floor(n / 4)),
        ...(kind === 'postgres' && cluster
          ? { databaseUrl: await cluster.createDatabase(`bench_members_${members}`), poolSize }
          : {}),
      };
      const pgCpu = pgMeter();
      const others = othersMeter(() => [process.pid, child.child.pid ?? 0], servicesMs);
      let pgMs = Number.NaN;
      const child = forkChild('diag-cpu.ts', (msg) => {
        if (msg.type === 'measuring') {
          pgCpu.start();
          others.start();
        } else if (msg.type === 'measured') {
          pgMs = pgCpu.stop();
          othersMax = Math.max(othersMax, others.stop());
        }
      });
      child.send(input);
      const r = (await child.result) as SendCpuResult;
      const pgUs = kind === 'postgres' ? round((pgMs * 1000) / n, 0) : Number.NaN;
      curve.push({ ...r, pgUs });
      log(
        `  ${kind.padEnd(8)} ${String(members).padStart(5)} members (${r.groups} groups, setup ${Math.round(r.setupMs / 1000)} s): ` +
          `${r.cpuUs} us CPU per send, ${r.msgsPerSec} msgs/s${kind === 'postgres' ? `; PostgreSQL ${pgUs} us per send` : ''}`,
      );
    }
    const at = (members: number) => curve.find((c) => c.members === members);
    const base = at(20);
    for (const c of curve) {
      const last = c.members === M.sizes.at(-1);
      row({
        scenario: 'members',
        figure: `${kind}: CPU us per send, ${c.members} members`,
        parley: c.cpuUs,
        baseline: base?.cpuUs ?? null,
        baselineName: '20 members',
        target: last ? '<= 1.5x of 20 members' : '',
        pass: last && base ? c.cpuUs <= 1.5 * base.cpuUs : null,
      });
    }
    if (kind === 'postgres') {
      for (const c of curve) {
        const last = c.members === M.sizes.at(-1);
        row({
          scenario: 'members',
          figure: `postgres: PostgreSQL CPU us per send, ${c.members} members`,
          parley: c.pgUs,
          baseline: base?.pgUs ?? null,
          baselineName: '20 members',
          target: last ? '<= 1.5x of 20 members' : '',
          pass: last && base ? c.pgUs <= 1.5 * base.pgUs : null,
        });
      }
    }
  }
  details.members = curves;
}

// ---------------------------------------------------------------------------------------------

function machine() {
  // fsync of a 4 KiB append: what one durable commit costs on this disk at least.
  const f = join(work, 'fsync.probe');
  const fd = openSync(f, 'w');
  const buf = Buffer.alloc(4096, 1);
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    writeSync(fd, buf);
    const t = performance.now();
    fsyncSync(fd);
    lat.push(performance.now() - t);
  }
  closeSync(fd);
  rmSync(f);
  let fs = '?';
  try {
    fs = execFileSync('df', ['-T', work], { encoding: 'utf8' }).split('\n')[1]?.split(/\s+/)[1] ?? '?';
  } catch {
    // df missing: leave it unknown
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memGiB: round(totalmem() / 2 ** 30, 1),
    freeGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    loadavg: loadavg().map((l) => round(l, 2)),
    tmp: work,
    fs,
    fsyncP50ms: round(percentile(lat, 50), 3),
    fsyncP99ms: round(percentile(lat, 99), 3),
  };
}

/** Which code was measured: the commit and the files changed on top of it. */
function tree() {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    head: git(['rev-parse', 'HEAD']),
    changed: git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean),
  };
}

function fmt(n: number | null): string {
  if (n === null || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function table(): string {
  const head = ['scenario', 'figure', 'Parley', 'baseline', 'ratio', 'target', 'pass?'];
  const body = rows.map((r) => [
    r.scenario,
    r.figure,
    fmt(r.parley),
    r.baseline === null ? '-' : `${fmt(r.baseline)} (${r.baselineName})`,
    r.ratio === null ? '-' : `${r.ratio.toFixed(r.ratio < 1 ? 3 : 2)}x`,
    r.target || '-',
    r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** --db postgres: the throwaway cluster and Redis, said in the output and in bench.json. */
async function startServices() {
  cluster = await startPostgres({ keep: opts.keep });
  if (!redisUrl) {
    redis = await startRedis();
    redisUrl = redis.url;
  }
  log(
    `  PostgreSQL ${cluster.version} (throwaway cluster, ${cluster.base}), Redis ${opts['redis-url'] ? redisUrl : `${redisUrl} (throwaway, no persistence)`}; ` +
      `Parley: ${nodes} node${nodes > 1 ? 's' : ''}, DATABASE_POOL_SIZE ${poolSize}`,
  );
  log(
    `  PostgreSQL settings: ${Object.entries(cluster.shown)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  details.postgres = {
    version: cluster.version,
    settings: PG_SETTINGS,
    shown: cluster.shown,
    poolSize,
    nodes,
  };
}

async function main() {
  const started = performance.now();
  const m = machine();
  log(`parley bench${quick ? ' --quick' : ''}: ${m.cpus} x ${m.cpuModel}, ${m.memGiB} GiB, Node ${m.node}`);
  log(`  databases in ${m.tmp} (${m.fs}); fsync of 4 KiB: p50 ${m.fsyncP50ms} ms, p99 ${m.fsyncP99ms} ms`);
  if (opts.profile)
    log(
      '  --profile: Parley is CPU-profiled during each measured load; these figures are not the ones to report',
    );
  if (onPg) await startServices();
  if (only.has('send')) {
    await quiet('send');
    await scenarioSend();
  }
  if (only.has('fanout') || only.has('memory')) {
    await quiet('fanout');
    await scenarioFanout();
  }
  if (only.has('list')) {
    await quiet('list');
    await scenarioList();
  }
  if (only.has('members')) {
    await quiet('members');
    await scenarioMembers();
  }
  if (only.has('search')) {
    await quiet('search');
    await scenarioSearch();
  }
  const seconds = round((performance.now() - started) / 1000, 0);
  const out = table();
  const contended =
    othersMax >= 10
      ? `; WARNING: other processes used up to ${othersMax}% of the machine during a measurement: figures are low`
      : `; other processes used at most ${othersMax}% of the machine during the measurements`;
  const db = onPg ? `, PostgreSQL${nodes === 2 ? ', 2 nodes' : ''}` : '';
  log(
    `\n${out}\n\n(${seconds} s${quick ? ', --quick' : ''}${db}${opts.profile ? ', --profile' : ''}${contended})`,
  );
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'test-results', 'bench.json'),
    `${JSON.stringify({ at: new Date().toISOString(), quick, profile: opts.profile, db: onPg ? 'postgres' : 'sqlite', nodes, seconds, machine: m, quietness, othersMax, tree: tree(), config: C, rows, table: out, details, profiles }, null, 2)}\n`,
  );
  log('written to test-results/bench.json');
}

main()
  .catch(async (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    if (opts.keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
    clearTimeout(watchdog);
  });
