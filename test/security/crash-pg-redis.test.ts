/**
 * Dependency restarts under load (issue 8). Two `parley serve` nodes on a throwaway PostgreSQL
 * cluster and a throwaway Redis (never the machine's shared ones) keep taking sends over HTTP
 * and over the stream while Redis is killed and started again, then PostgreSQL is stopped
 * (immediate mode: a crash) and started again. Parley is never restarted: the nodes must
 * recover by themselves. During an outage every answer is a success or a clean 503 in the
 * native error shape, within a deadline (never a hang, never a 500, never a crash); afterwards
 * every acknowledged message is stored once, a client that followed the stream on the other
 * node has all of them (including those sent while Redis was away), cross-node delivery works
 * again and the rate limits are shared through Redis again.
 * Runs in the PostgreSQL pass (TEST_DB=postgres, see test/support/db.ts) and needs TEST_REDIS_URL
 * (the suites' signal that Redis tests run) plus the redis-server, initdb and pg_ctl binaries;
 * skipped otherwise, saying why.
 * PARLEY_SOAK=1 repeats the outages many times with longer load.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { setRatePolicy } from '../../src/services/rate-limits.ts';
import { createTestDatabase, onlyOn } from '../support/db.ts';
import { makeOrg, type Person, principalFor, seedConversations } from '../support/factories.ts';
import { freePort, type RunningServer, startServer } from '../support/server.ts';
import { connectStream, type StreamClient } from '../support/stream.ts';

const run = promisify(execFile);
const SOAK = process.env.PARLEY_SOAK === '1';
const OUTAGES = SOAK ? 10 : 1;
const SENDERS = 6;
/** An answer slower than this is a hang. */
const DEADLINE_MS = 15_000;
const LIMITED_POINTS = 10;

function onPath(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter))
    if (d && existsSync(join(d, name))) return join(d, name);
  return undefined;
}

function pgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = join(root, v, 'bin');
      if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
    }
  }
  const initdb = onPath('initdb');
  return initdb && onPath('pg_ctl') ? join(initdb, '..') : undefined;
}

const redisServer = onPath('redis-server');
const pgBinDir = pgBin();
const skip =
  onlyOn('postgres', 'it restarts PostgreSQL (and Redis) under two nodes') ||
  (!process.env.TEST_REDIS_URL
    ? 'TEST_REDIS_URL is needed: this test restarts Redis under two nodes (it brings a throwaway instance of its own)'
    : !redisServer
      ? 'redis-server is not installed: the test restarts a throwaway Redis of its own'
      : !pgBinDir
        ? 'initdb and pg_ctl are not installed (looked in /usr/lib/postgresql/*/bin and PATH): the test restarts a throwaway PostgreSQL cluster of its own'
        : false);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A throwaway PostgreSQL cluster in a temp dir (run as the postgres user when we are root). */
class ThrowawayPostgres {
  readonly dir: string;
  readonly port: number;
  readonly #as: { uid: number; gid: number } | undefined;
  constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      this.#as = { uid, gid };
    }
  }
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  #pg(tool: string, args: string[]) {
    return run(join(pgBinDir!, tool), args, { ...this.#as, cwd: this.dir, timeout: 60_000 });
  }
  async init(): Promise<void> {
    if (this.#as) await chown(this.dir, this.#as.uid, this.#as.gid);
    await this.#pg('initdb', ['-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }
  async start(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=80`;
    await this.#pg('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-o',
      opts,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }
  /** Immediate mode: every backend quits at once, no checkpoint; the next start recovers from WAL. */
  async crash(): Promise<void> {
    await this.#pg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }
}

/** A throwaway Redis without persistence on its own port; restart = SIGKILL, then start again. */
class ThrowawayRedis {
  readonly port: number;
  #child: ChildProcess | undefined;
  constructor(port: number) {
    this.port = port;
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.#child = spawn(
      redisServer!,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (!(await this.#answers())) {
      assert.ok(Date.now() < deadline, 'redis-server did not start');
      await sleep(50);
    }
  }
  #answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect(this.port, '127.0.0.1');
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
  }
  async kill(): Promise<void> {
    const c = this.#child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGKILL');
    await exited;
  }
}

let dir: string | undefined;
let postgres: ThrowawayPostgres | undefined;
let redis: ThrowawayRedis | undefined;
const nodes: RunningServer[] = [];
let owner: string;
let ownerPerson: Person;
let room: string;
const senders: Person[] = [];
let observer: Person;
let limited: Person;
let limitedInOutage: Person;
let dbUrl: string;
/** Loops still running when a check fails, stopped before the nodes are. */
const cleanups = new Set<() => Promise<void>>();

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'parley-crash-pg-'));
  postgres = new ThrowawayPostgres(dir, await freePort());
  await postgres.init();
  await postgres.start();
  redis = new ThrowawayRedis(await freePort());
  await redis.start();
  // A database on the throwaway cluster (it goes with the cluster: never dropped).
  dbUrl = (await createTestDatabase({ dialect: 'postgres', serverUrl: postgres.url })).url!;

  // Seed through the services (migrating the database), then hand it to the nodes.
  const seeding = await buildApp(loadConfig({ DATABASE_URL: dbUrl, NODE_ID: '40', SQLITE_PATH: 'unused' }));
  const { ctx } = seeding;
  const o = await makeOrg(ctx);
  owner = o.owner.token;
  ownerPerson = o.owner;
  for (let i = 0; i < SENDERS + 1; i++) senders.push(await o.user('member', `Sender ${i}`));
  observer = await o.user('member', 'Observer');
  room = (
    await seedConversations(ctx, {
      orgId: o.org.id,
      members: [o.owner.actor, ...senders.map((s) => s.actor), observer.actor],
      count: 1,
      messagesEach: 0,
    })
  )[0]!;
  // Nobody in this org may be limited by the load; a second org has a small budget to count on.
  await setRatePolicy(ctx, ctx.rateLimits, principalFor(o, o.owner.actor), 'native', {
    points: 1_000_000,
    durationSec: 60,
    blockSec: 0,
  });
  const o2 = await makeOrg(ctx);
  await setRatePolicy(ctx, ctx.rateLimits, principalFor(o2, o2.owner.actor), 'native', {
    points: LIMITED_POINTS,
    durationSec: 600,
    blockSec: 0,
  });
  limited = await o2.user('member', 'Limited');
  limitedInOutage = await o2.user('member', 'Limited while Redis is away');
  await seeding.app.close();

  const env = (nodeId: string) => ({
    ...process.env,
    SQLITE_PATH: '',
    DATABASE_URL: dbUrl,
    REDIS_URL: redis!.url,
    NODE_ID: nodeId,
    DATABASE_POOL_SIZE: '8',
  });
  nodes.push(...(await Promise.all([startServer(env('41'), 30_000), startServer(env('42'), 30_000)])));
});

after(async () => {
  await Promise.all([...cleanups].map((c) => c().catch(() => undefined)));
  for (const n of nodes) {
    const died = n.child.exitCode ?? n.child.signalCode;
    if (died !== null)
      process.stderr.write(`node ${n.url} died (${died}); its log ends with:\n${n.log().slice(-6000)}\n`);
  }
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  await redis?.kill();
  await postgres?.crash().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: any;
  ms: number;
}

async function api(
  node: RunningServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  const t0 = Date.now();
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(DEADLINE_MS),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any, ms: Date.now() - t0 };
}

/** What the clients saw, for the checks at the end. */
const stats = {
  requests: 0,
  ok: 0,
  unavailable: 0,
  slowest: 0,
  bad: [] as string[],
  streamErrors: new Map<string, number>(),
};
interface Sent {
  text: string;
  sender: Person;
  ackedId?: string;
}
const sent = new Map<string, Sent>();

/** A 503 must be the native error shape with a code; anything else not 2xx is a failure. */
function classify(what: string, r: Reply): 'ok' | 'unavailable' {
  stats.requests++;
  stats.slowest = Math.max(stats.slowest, r.ms);
  if (r.status >= 200 && r.status < 300) {
    stats.ok++;
    return 'ok';
  }
  const e = r.body?.error;
  if (r.status === 503 && typeof e?.code === 'string' && typeof e?.message === 'string' && 'details' in e) {
    stats.unavailable++;
    return 'unavailable';
  }
  stats.bad.push(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return 'unavailable';
}

/** Sends over HTTP through both nodes in turn (and a stream sender), until stopped. */
function startLoad(tag: string) {
  let stopped = false;
  const httpSender = async (w: number) => {
    const sender = senders[w]!;
    for (let i = 0; !stopped; i++) {
      const node = nodes[(w + i) % 2]!;
      const clientId = `${tag}-h${w}-${i}`;
      const s: Sent = { text: `text of ${clientId}`, sender };
      sent.set(clientId, s);
      try {
        const r = await api(node, sender.token, 'POST', `/v1/conversations/${room}/messages`, {
          text: s.text,
          client_id: clientId,
        });
        if (classify(`send ${clientId}`, r) === 'ok') {
          if (r.status === 201 && r.body.text === s.text) s.ackedId = r.body.id;
          else stats.bad.push(`send ${clientId}: ${r.status} ${JSON.stringify(r.body)}`);
        } else await sleep(100);
      } catch (err) {
        stats.requests++;
        stats.bad.push(`send ${clientId} through ${node.url}: ${(err as Error).message}`);
        await sleep(100);
      }
    }
  };
  const streamSender = async () => {
    const sender = senders[SENDERS]!;
    let s: StreamClient | undefined;
    for (let i = 0; !stopped; i++) {
      try {
        if (!s || s.ws.readyState !== s.ws.OPEN) {
          s = await connectStream(nodes[1]!.url, { token: sender.token });
          await s.next((f) => f.type === 'ready', DEADLINE_MS);
        }
      } catch (err) {
        const code = (err as { statusCode?: number }).statusCode;
        if (code !== 503) stats.bad.push(`stream connect: ${(err as Error).message}`);
        s = undefined;
        await sleep(200);
        continue;
      }
      const clientId = `${tag}-s-${i}`;
      const m: Sent = { text: `stream ${clientId}`, sender };
      sent.set(clientId, m);
      s.send({ type: 'send', conversation_id: room, text: m.text, client_id: clientId });
      try {
        const f = await s.next(
          (x) => x.client_id === clientId && (x.type === 'ack' || x.type === 'error'),
          DEADLINE_MS,
        );
        if (f.type === 'ack') m.ackedId = f.message.id;
        else if (f.code === 'rate_limited') {
          // The socket's frame budget (50 a second): a well-behaved client waits as told.
          stats.streamErrors.set(f.code, (stats.streamErrors.get(f.code) ?? 0) + 1);
          await sleep(f.retry_after_ms);
        } else {
          stats.streamErrors.set(f.code, (stats.streamErrors.get(f.code) ?? 0) + 1);
          if (f.code !== 'database_unavailable')
            stats.bad.push(`stream send ${clientId}: ${JSON.stringify(f)}`);
          await sleep(100);
        }
      } catch (err) {
        stats.bad.push(`stream send ${clientId}: ${(err as Error).message}`);
      }
    }
    await s?.close();
  };
  const loops = [...Array.from({ length: SENDERS }, (_, w) => httpSender(w)), streamSender()];
  const stop = async () => {
    stopped = true;
    cleanups.delete(stop);
    await Promise.all(loops);
  };
  cleanups.add(stop);
  return stop;
}

/** A client of node A that follows the stream all along, reconnecting with `since` when dropped. */
function follow() {
  const observed = new Map<string, number>();
  let lastSeen: number | undefined;
  let reconnects = 0;
  let stopped = false;
  let current: StreamClient | undefined;
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const take = (s: StreamClient) => {
    for (const f of s.frames) {
      if (f.type === 'ready' || f.type === 'event') lastSeen = Math.max(lastSeen ?? 0, f.seq);
      if (f.type === 'event' && f.event === 'message.created' && f.conversation_id === room) {
        const id: string = f.data.message.id;
        observed.set(id, (observed.get(id) ?? 0) + 1);
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        current = await connectStream(nodes[0]!.url, {
          token: observer.token,
          ...(lastSeen === undefined ? {} : { since: lastSeen }),
        });
        if (lastSeen === undefined) {
          lastSeen = (await current.next((f) => f.type === 'ready', DEADLINE_MS)).seq;
          onReady();
        }
      } catch {
        await sleep(200);
        continue;
      }
      const closed = await current.closed;
      take(current);
      if (!stopped) {
        reconnects++;
        if (closed.code === 1006 || closed.code >= 4000) {
          const err = current.frames.find((f) => f.type === 'error');
          if (err && err.code !== 'database_unavailable') stats.bad.push(`follower: ${JSON.stringify(err)}`);
        }
        await sleep(100);
      }
    }
  })();
  const stop = async () => {
    stopped = true;
    cleanups.delete(stop);
    await current?.close();
    await loop;
  };
  cleanups.add(stop);
  return {
    stop,
    /** Resolves once the first connection is ready. */
    ready,
    /** Every message.created id seen so far (including on the open socket), with its count. */
    seen(): Map<string, number> {
      const all = new Map(observed);
      if (current && current.ws.readyState === current.ws.OPEN) {
        for (const f of current.frames)
          if (f.type === 'event' && f.event === 'message.created' && f.conversation_id === room) {
            const id: string = f.data.message.id;
            all.set(id, (all.get(id) ?? 0) + 1);
          }
      }
      return all;
    },
    get reconnects() {
      return reconnects;
    },
  };
}

/** Waits until `ok()` holds, or fails naming `what` after `ms`. Returns how long it took. */
async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 30_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await ok()) return Date.now() - t0;
    assert.ok(
      Date.now() - t0 < ms,
      `${what}: not within ${ms} ms\n${nodes.map((n) => n.log().slice(-3000)).join('\n---\n')}`,
    );
    await sleep(100);
  }
}

let probes = 0;
/** A socket on node `to` receives a message sent through node `from`, within a short wait. */
async function crossNodeDelivery(from: RunningServer, to: RunningServer): Promise<boolean> {
  let s: StreamClient;
  try {
    s = await connectStream(to.url, { token: observer.token });
    await s.next((f) => f.type === 'ready', 5_000);
  } catch {
    return false;
  }
  try {
    const clientId = `probe-${probes++}`;
    const text = `probe ${clientId}`;
    const r = await api(from, owner, 'POST', `/v1/conversations/${room}/messages`, {
      text,
      client_id: clientId,
    });
    if (r.status !== 201) return false;
    sent.set(clientId, { text, sender: ownerPerson, ackedId: r.body.id });
    const ev = await s.next((f) => f.event === 'message.created' && f.data.message.id === r.body.id, 3_000);
    return ev.data.message.text === text;
  } catch {
    return false;
  } finally {
    await s.close();
  }
}

const nodesAlive = () => {
  for (const n of nodes)
    assert.equal(n.child.exitCode ?? n.child.signalCode, null, `a node died:\n${n.log().slice(-5000)}`);
};

test('two nodes ride out Redis and PostgreSQL restarts under load, losing nothing acknowledged', {
  skip,
  timeout: SOAK ? 1_800_000 : 120_000,
}, async () => {
  const started = Date.now();
  const [a, b] = nodes as [RunningServer, RunningServer];
  const follower = follow();
  await follower.ready;
  await until('cross-node delivery before any outage', () => crossNodeDelivery(b, a), 10_000);
  const recovery = { redis: [] as number[], postgres: [] as number[] };
  let outageAnswers = 0;

  for (let round = 0; round < OUTAGES; round++) {
    // Redis goes away while sends go on through both nodes; they need not fail at all.
    let stopLoad = startLoad(`r${round}`);
    await sleep(SOAK ? 2_000 : 700);
    await redis!.kill();
    const before = stats.requests;
    await sleep(SOAK ? 3_000 : 1_500);
    for (const n of nodes) {
      const ready = await api(n, owner, 'GET', '/readyz');
      assert.equal(ready.status, 200, 'ready while only Redis is away (rate limits fall back to each node)');
      classify('GET /v1/me while Redis is away', await api(n, owner, 'GET', '/v1/me'));
    }
    if (round === 0) {
      // Limits still hold while Redis is away: each node falls back to its own counters.
      const answers: number[] = [];
      for (let i = 0; i < LIMITED_POINTS + 2; i++)
        answers.push((await api(a, limitedInOutage.token, 'GET', '/v1/me')).status);
      assert.deepEqual(
        answers,
        [...Array(LIMITED_POINTS).fill(200), 429, 429],
        'the per-node fallback limiter counts while Redis is away',
      );
    }
    await stopLoad();
    outageAnswers += stats.requests - before;
    nodesAlive();
    await redis!.start();
    // Without any further send, the follower on node A gets what was sent through B meanwhile.
    const ackedNow = [...sent.values()].filter((s) => s.ackedId);
    recovery.redis.push(
      await until('the follower gets the messages sent while Redis was away', () => {
        const seen = follower.seen();
        const missing = ackedNow.filter((s) => !seen.has(s.ackedId!));
        return missing.length === 0;
      }),
    );
    await until('cross-node delivery after the Redis restart', () => crossNodeDelivery(b, a));
    await until('cross-node delivery after the Redis restart (other way)', () => crossNodeDelivery(a, b));

    // PostgreSQL crashes while sends go on: clean 503s, then the nodes reconnect by themselves.
    stopLoad = startLoad(`p${round}`);
    await sleep(SOAK ? 2_000 : 700);
    await postgres!.crash();
    const pgBefore = stats.requests;
    const downAt = Date.now();
    for (const n of nodes) {
      const ready = await api(n, owner, 'GET', '/readyz');
      assert.equal(ready.status, 503, 'not ready while the database is down');
      const me = await api(n, senders[0]!.token, 'POST', `/v1/conversations/${room}/messages`, {
        text: 'while the database is down',
        client_id: `down-${round}-${n.url}`,
      });
      assert.equal(me.status, 503, JSON.stringify(me.body));
      assert.equal(me.body.error.code, 'database_unavailable');
      assert.ok(me.ms < 5_000, `a 503 within 5 s (took ${me.ms} ms)`);
      sent.set(`down-${round}-${n.url}`, { text: 'while the database is down', sender: senders[0]! });
    }
    await sleep(Math.max(0, (SOAK ? 3_000 : 1_500) - (Date.now() - downAt)));
    await postgres!.start();
    const upAt = Date.now();
    await until('sends through both nodes after the PostgreSQL restart', async () => {
      const r = await Promise.all(nodes.map((n) => api(n, owner, 'GET', `/v1/conversations/${room}`)));
      return r.every((x) => x.status === 200);
    });
    await until('ready after the PostgreSQL restart', async () => {
      const r = await Promise.all(nodes.map((n) => api(n, owner, 'GET', '/readyz')));
      return r.every((x) => x.status === 200);
    });
    recovery.postgres.push(Date.now() - upAt);
    await sleep(SOAK ? 2_000 : 500);
    await stopLoad();
    outageAnswers += stats.requests - pgBefore;
    nodesAlive();
    await until('cross-node delivery after the PostgreSQL restart', () => crossNodeDelivery(b, a));
  }

  // Every acknowledged message is stored exactly once, and the follower has each once.
  const acked = [...sent.entries()].filter(([, s]) => s.ackedId);
  await until('the follower has every acknowledged message', () => {
    const seen = follower.seen();
    return acked.every(([, s]) => seen.has(s.ackedId!));
  });
  await follower.stop();
  const seen = follower.seen();
  const twice = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'the follower got a message twice');

  const check = new pg.Client({ connectionString: dbUrl });
  await check.connect();
  const { rows } = await check.query<{ id: string; client_id: string; text: string }>(
    'SELECT id::text AS id, client_id, text FROM message WHERE conversation_id = $1',
    [room],
  );
  const dupes = await check.query('SELECT org_id, seq FROM event GROUP BY org_id, seq HAVING COUNT(*) > 1');
  await check.end();
  assert.deepEqual(dupes.rows, [], 'no event sequence number twice');
  const byClient = new Map<string, number>();
  for (const r of rows) byClient.set(r.client_id, (byClient.get(r.client_id) ?? 0) + 1);
  assert.deepEqual(
    [...byClient].filter(([, n]) => n > 1),
    [],
    'no client id stored twice',
  );
  const stored = new Map(rows.map((r) => [r.id, r.text]));
  const lost = acked.filter(([, s]) => stored.get(s.ackedId!) !== s.text).map(([id]) => id);
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged messages lost`);
  for (const r of rows) assert.ok(sent.has(r.client_id), `a message nobody sent: ${r.client_id}`);

  // Rate limits are shared through Redis again: the budget counts across both nodes.
  const answers: number[] = [];
  for (let i = 0; i < LIMITED_POINTS + 4; i++) {
    const r = await api(nodes[i % 2]!, limited.token, 'GET', '/v1/me');
    answers.push(r.status);
    if (r.status === 429) {
      assert.equal(r.body.error.code, 'rate_limited');
      assert.ok(Number(r.body.error.details?.retry_after_ms) > 0);
    }
  }
  assert.deepEqual(
    answers,
    [...Array(LIMITED_POINTS).fill(200), ...Array(4).fill(429)],
    'one budget for both nodes (shared through Redis)',
  );

  nodesAlive();
  assert.deepEqual(stats.bad, [], 'answers during the outages that were neither a success nor a clean 503');
  const streamErrors = [...stats.streamErrors].map(([c, n]) => `${n} ${c}`).join(', ') || 'none';
  process.stdout.write(
    `# crash: ${OUTAGES * 2} dependency restarts survived (Redis SIGKILL, PostgreSQL immediate stop), ${acked.length} acknowledged messages, 0 lost, 0 duplicated\n` +
      `# crash: ${stats.requests} requests: ${stats.ok} ok, ${stats.unavailable} clean 503, 0 other; slowest answer ${stats.slowest} ms; ${outageAnswers} around the outages\n` +
      `# crash: stream send errors: ${streamErrors}; follower reconnects: ${follower.reconnects}\n` +
      `# crash: recovery after Redis came back (follower complete): ${recovery.redis.join(', ')} ms; after PostgreSQL came back: ${recovery.postgres.join(', ')} ms\n` +
      `# crash: ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
});
