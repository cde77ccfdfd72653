/**
 * Benchmark: do live sends keep their throughput while a deletion job deletes 100k messages?
 *
 *   npm run bench:deletion            (SQLite; BENCH_DATABASE_URL=postgres://... for PostgreSQL)
 *
 * 1. Seeds a fresh database: an org, a live group conversation, and CONVERSATIONS conversations
 *    holding MESSAGES messages in all (the job's work), straight through Kysely in big batches.
 * 2. Starts `parley serve` (its job runner included) with the off-peak window open.
 * 3. A load generator (this file with --load, a child process) sends messages over HTTP at a
 *    fixed concurrency for the whole run and reports completed sends per 250 ms.
 * 4. It queues the deletion job and then opens and closes the org's off-peak window every
 *    PHASE_MS, so the job runs in every other phase (the runner pauses at its next step and
 *    resumes within a second). Send throughput in the phases with the job is compared with the
 *    phases without it (medians of 250 ms windows; means and a per-phase paired ratio are
 *    printed too), so a drift of the send rate over the run cancels out. The ratio must stay >= 0.8.
 *
 * Prints both figures, the ratio, the job's duration and counts, and send latencies.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { Scope } from '../src/domain/scopes.ts';
import { createOrg } from '../src/services/orgs.ts';
import { issueToken } from '../src/services/tokens.ts';
import { createTestDatabase } from '../test/support/db.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const MESSAGES = num('BENCH_MESSAGES', 100_000);
const CONVERSATIONS = num('BENCH_CONVERSATIONS', 200);
const CONCURRENCY = num('BENCH_CONCURRENCY', 16);
const WARMUP_MS = num('BENCH_WARMUP_MS', 3_000);
const PHASE_MS = num('BENCH_PHASE_MS', 5_000);
/** Left out at the start of each phase: the runner needs up to a second to notice the window changed. */
const SETTLE_MS = 1_250;
const JOB_TIMEOUT_MS = num('BENCH_JOB_TIMEOUT_MS', 180_000);
const TICK_MS = 250;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/* The load generator (child process). */

interface LoadInput {
  url: string;
  token: string;
  conversationId: string;
  concurrency: number;
}

async function loadMain(input: LoadInput): Promise<void> {
  let stop = false;
  let done = 0;
  let failed = 0;
  const latencies: number[] = [];
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') stop = true;
  });
  const ticker = setInterval(() => {
    process.send!({ type: 'tick', at: Date.now(), done, failed });
    done = 0;
    failed = 0;
  }, TICK_MS);
  const body = JSON.stringify({ text: 'a live message while a deletion job runs' });
  const worker = async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${input.url}/v1/conversations/${input.conversationId}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${input.token}`, 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        if (res.status === 201) {
          done++;
          latencies.push(performance.now() - t0);
        } else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, worker));
  clearInterval(ticker);
  const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  await send({ type: 'tick', at: Date.now(), done, failed });
  await send({ type: 'latencies', values: latencies });
}

/* The driver. */

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function startServer(
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error('server not healthy in 30 s');
    await sleep(100);
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Seeds the org, the live conversation and the job's conversations; returns what the run needs. */
async function seed(env: Record<string, string>) {
  const { app, ctx } = await buildApp(loadConfig({ ...env, NODE_ID: '30' }));
  try {
    const slug = `bench-${randomBytes(3).toString('hex')}`;
    const { org, owner } = await createOrg(ctx, {
      slug,
      name: slug,
      ownerName: 'Owner',
      ownerEmail: `o@${slug}.test`,
    });
    const { token } = await issueToken(ctx, {
      orgId: org.id,
      actorId: owner.id,
      name: 'bench',
      scopes: [...Scope],
    });
    const now = Date.now();
    const conversation = (id: string, title: string) => ({
      id,
      org_id: org.id,
      kind: 'group',
      title,
      creator_id: owner.id,
      direct_key: null,
      member_count: 1,
      last_message_id: null,
      last_activity_at: now,
      created_at: now,
      updated_at: now,
    });
    const member = (conversationId: string) => ({
      conversation_id: conversationId,
      actor_id: owner.id,
      org_id: org.id,
      role: 'owner',
      joined_at: now,
      left_at: null,
      muted_until: null,
      read_message_id: null,
      read_ordinal: 0,
      unread_excluded: 0,
      draft: null,
      draft_updated_at: null,
      hidden: 0,
      hidden_ordinal: 0,
      pinned: 0,
    });
    const live = ctx.ids.next();
    const targets = Array.from({ length: CONVERSATIONS }, () => ctx.ids.next());
    await ctx.db.transaction().execute(async (tx) => {
      await tx.insertInto('conversation').values(conversation(live, 'live')).execute();
      await tx.insertInto('membership').values(member(live)).execute();
      for (let i = 0; i < targets.length; i += 100) {
        const ids = targets.slice(i, i + 100);
        await tx
          .insertInto('conversation')
          .values(ids.map((id, k) => conversation(id, `old ${i + k}`)))
          .execute();
        await tx.insertInto('membership').values(ids.map(member)).execute();
      }
      const rows = [];
      for (let m = 0; m < MESSAGES; m++) {
        rows.push({
          id: ctx.ids.next(),
          org_id: org.id,
          conversation_id: targets[m % targets.length]!,
          sender_id: owner.id,
          type: 'text',
          text: `an old message ${m}, kept for a while and now to be deleted`,
          metadata: null,
          reply_to_id: null,
          client_id: null,
          created_at: now - (MESSAGES - m),
          edited_at: null,
          deleted_at: null,
        });
        if (rows.length === 500) await tx.insertInto('message').values(rows.splice(0)).execute();
      }
      if (rows.length > 0) await tx.insertInto('message').values(rows).execute();
    });
    return { orgId: org.id, token, live, targets };
  } finally {
    await app.close();
  }
}

async function api(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

type Tick = { at: number; done: number; failed: number };

/** Ticks report the sends completed in the TICK_MS before `at`; those wholly inside [from, to]. */
const within = (ticks: Tick[], from: number, to: number) =>
  ticks.filter((t) => t.at - TICK_MS >= from && t.at <= to);

/** Sends per second over some ticks: the mean, and the median of the per-tick rates. */
function rate(ticks: Tick[]) {
  const perTick = ticks.map((t) => (t.done * 1000) / TICK_MS).sort((a, b) => a - b);
  const mean = perTick.length === 0 ? 0 : perTick.reduce((s, v) => s + v, 0) / perTick.length;
  const median = perTick.length === 0 ? 0 : perTick[Math.floor(perTick.length / 2)]!;
  return { mean, median, ticks: perTick.length };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function driverMain(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-bench-deletion-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    REDIS_URL: '',
    DATABASE_URL: '',
    SQLITE_PATH: join(dir, 'bench.db'),
    NODE_ID: '31',
  };
  let drop: (() => Promise<void>) | undefined;
  if (process.env.BENCH_DATABASE_URL) {
    const database = await createTestDatabase({
      dialect: 'postgres',
      serverUrl: process.env.BENCH_DATABASE_URL,
    });
    env.DATABASE_URL = database.url!;
    drop = database.drop;
  }
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let load: ChildProcess | undefined;
  try {
    const database = env.DATABASE_URL ? 'PostgreSQL' : 'SQLite';
    process.stdout.write(`seeding ${MESSAGES} messages in ${CONVERSATIONS} conversations (${database})...\n`);
    const s = await seed(env);
    server = await startServer(env);
    const url = server.url;
    // The bench org may send as fast as it can: no rate limit in the way.
    await api(url, s.token, 'PUT', '/v1/rate-limits/native', {
      points: 1_000_000,
      duration_s: 60,
      block_s: 0,
    });

    const ticks: Tick[] = [];
    let latencies: number[] = [];
    load = fork(fileURLToPath(import.meta.url), ['--load'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    load.on('message', (m: any) => {
      if (m.type === 'tick') ticks.push(m);
      if (m.type === 'latencies') latencies = m.values;
    });
    load.send({
      type: 'start',
      input: { url, token: s.token, conversationId: s.live, concurrency: CONCURRENCY },
    });

    // The job runs in alternating phases: the org's window is opened and closed every PHASE_MS
    // (the runner pauses the job at its next step and resumes it within a second), so every
    // phase with the job is compared with the phases without it just before and after, and a
    // drift of the send rate over the run (or another process on the machine) cancels out.
    const hour = new Date().getUTCHours();
    const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    const closed = { start: hh(hour + 2), end: hh(hour + 3), time_zone: 'UTC' };
    await api(url, s.token, 'PUT', '/v1/deletion-jobs/window', closed);
    const job = await api(url, s.token, 'POST', '/v1/deletion-jobs', { conversation_ids: s.targets });
    await sleep(WARMUP_MS);
    const phases: { on: boolean; from: number; to: number }[] = [];
    let state: any = job;
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    const finished = () => state.status === 'completed' || state.status === 'failed';
    for (let on = false; ; on = !on) {
      if (!finished())
        await api(url, s.token, 'PUT', '/v1/deletion-jobs/window', on ? { any_time: true } : closed);
      const from = Date.now();
      while (Date.now() - from < PHASE_MS) {
        await sleep(100);
        if (on && !finished()) state = await api(url, s.token, 'GET', `/v1/deletion-jobs/${job.id}`);
      }
      // A phase with the job ends when the job does.
      const to = on && finished() ? Math.min(Date.now(), Date.parse(state.finished_at)) : Date.now();
      phases.push({ on, from: from + SETTLE_MS, to });
      if (!on && finished()) break;
      if (Date.now() > deadline)
        throw new Error(`the job did not finish in ${JOB_TIMEOUT_MS} ms: ${JSON.stringify(state)}`);
    }
    const jobFrom = Date.parse(state.started_at);
    const jobTo = Date.parse(state.finished_at);
    const exited = once(load, 'exit');
    load.send({ type: 'stop' });
    await exited;
    load = undefined;

    const pick = (on: boolean) =>
      phases.filter((p) => p.on === on).flatMap((p) => within(ticks, p.from, p.to));
    const without = rate(pick(false));
    const withJob = rate(pick(true));
    // Each phase with the job against the mean of its neighbours without it.
    const pairs = phases
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => p.on && p.to - p.from >= 1000)
      .map(({ p, i }) => {
        const around = [phases[i - 1], phases[i + 1]].filter((q) => q !== undefined);
        const base = rate(around.flatMap((q) => within(ticks, q.from, q.to))).mean;
        return rate(within(ticks, p.from, p.to)).mean / base;
      })
      .sort((x, y) => x - y);
    const pairRatio = pairs.length === 0 ? Number.NaN : pairs[Math.floor(pairs.length / 2)]!;
    const runningMs = phases.filter((p) => p.on).reduce((ms, p) => ms + (p.to - p.from + SETTLE_MS), 0);
    const failures = ticks.reduce((n, t) => n + t.failed, 0);
    latencies.sort((x, y) => x - y);
    const ratio = withJob.median / without.median;
    const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
    const result = {
      database,
      concurrency: CONCURRENCY,
      job: {
        status: state.status,
        wallS: round((jobTo - jobFrom) / 1000, 2),
        runningS: round(runningMs / 1000, 1),
        conversationsDeleted: state.counts.conversations_deleted,
        messagesDeleted: state.counts.messages_deleted,
        messagesPerRunningSec: round(state.counts.messages_deleted / (runningMs / 1000), 0),
      },
      sendsPerSec: {
        withoutJob: round(without.median),
        withJob: round(withJob.median),
        meanWithoutJob: round(without.mean),
        meanWithJob: round(withJob.mean),
      },
      ratio: round(ratio, 3),
      pairRatio: round(pairRatio, 3),
      phases: phases.length,
      failedSends: failures,
      sendLatencyMs: { p50: round(pct(latencies, 50), 2), p99: round(pct(latencies, 99), 2) },
      pass: ratio >= 0.8 && state.status === 'completed' && state.counts.messages_deleted === MESSAGES,
    };
    process.stdout.write(
      [
        '',
        `deletion under load (${database}, ${CONCURRENCY} concurrent senders, ${PHASE_MS / 1000} s phases with and without the job)`,
        `  job: ${result.job.messagesDeleted} messages in ${result.job.conversationsDeleted} conversations; ${result.job.runningS} s of running (${result.job.messagesPerRunningSec} messages/s), ${result.job.wallS} s from start to end`,
        `  live sends/s (median of ${TICK_MS} ms windows): without the job ${result.sendsPerSec.withoutJob}, with it ${result.sendsPerSec.withJob}`,
        `  means: without ${result.sendsPerSec.meanWithoutJob}, with ${result.sendsPerSec.meanWithJob}; median ratio of each phase to its neighbours ${result.pairRatio}`,
        `  ratio: ${result.ratio} (must be >= 0.8): ${result.pass ? 'PASS' : 'FAIL'}`,
        `  send latency over the run: p50 ${result.sendLatencyMs.p50} ms, p99 ${result.sendLatencyMs.p99} ms; failed sends ${failures}`,
        '',
        JSON.stringify(result),
        '',
      ].join('\n'),
    );
    process.exitCode = result.pass ? 0 : 1;
  } finally {
    load?.kill('SIGKILL');
    await server?.stop();
    await drop?.();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--load')) {
  process.once('message', (m: { type: string; input: LoadInput }) => {
    void loadMain(m.input).then(() => process.exit(0));
  });
} else {
  await driverMain();
}
