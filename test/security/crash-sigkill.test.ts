/**
 * Crash and restart (issue 8), on the database under test (test/support/db.ts: a SQLite file in
 * the first pass of `npm test`, a PostgreSQL database in the second). A real `parley serve`
 * process is driven by concurrent sends (HTTP, and over the stream with client ids),
 * operators racing to pick up support chats and a deletion job, and is killed with SIGKILL at a
 * random moment, several times (seeded: PARLEY_CRASH_SEED replays a run), then restarted on the
 * same database. After every kill the database must hold a consistent state: every acknowledged
 * message exactly once with its text and its event, no client id twice, every support chat
 * either waiting with no operator or picked up by exactly one (member iff assigned, one event,
 * one audit record, the acknowledged one), the deletion job's counts equal to what is gone, no
 * event number twice. At the end the job completes with exact counts, the unacknowledged sends
 * retried with their client ids land once, and a client that follows the stream across all the
 * restarts (reconnecting with `since`) has received every acknowledged message exactly once.
 * PARLEY_SOAK=1 runs 20+ cycles with longer load.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase, testDialect } from '../support/db.ts';
import { makeDepartment, makeOrg, type Person, seedConversations } from '../support/factories.ts';
import { type RunningServer, startServer } from '../support/server.ts';
import { connectStream, type StreamClient } from '../support/stream.ts';

const SOAK = process.env.PARLEY_SOAK === '1';
const CYCLES = SOAK ? 24 : 3;
const SEED = Number(process.env.PARLEY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const HTTP_SENDERS = 6;
const STREAM_SENDERS = 3;
const OPERATORS = 6;
const SUPPORT_WORKERS = 2;
const DEPARTMENTS = 4;
/** A visitor may have one open chat per department, so each visitor gives DEPARTMENTS chats. */
const VISITORS = SOAK ? 150 : 40;
/** Each cycle queues a deletion job over this many conversations of its own. */
const TARGETS = 16;
const TARGET_MESSAGES = 30;
const KEEP = 3;
const KEEP_MESSAGES = 7;

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let database: TestDatabase;
let env: NodeJS.ProcessEnv;
let server: RunningServer | undefined;

before(async () => {
  database = await createTestDatabase();
  env = {
    ...process.env,
    REDIS_URL: '',
    ...database.env,
    NODE_ID: '31',
    DELETION_WINDOW: 'any',
    // Small steps, so the job spans several kills.
    DELETION_CHUNK_SIZE: '2',
    DELETION_BATCH_SIZE: '10',
    DELETION_DUTY_PERCENT: '20',
  };
});

after(async () => {
  await server?.stop('SIGKILL');
  await database?.drop();
});

interface Reply {
  status: number;
  body: any;
}

/** One request with a deadline: a server that hangs fails the test instead of stalling it. */
async function api(token: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${server!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

interface Attempt {
  clientId: string;
  text: string;
  sender: Person;
  /** The stored message id, once a send was acknowledged. */
  ackedId?: string;
}

/** Everything the clients were told, to hold the files against after each kill. */
const attempts = new Map<string, Attempt>();
const unexpected: string[] = [];
const supportChats = new Map<string, { visitorId: string }>();
const ackedPickups = new Map<string, string>();
const waiting = new Set<string>();
let pickupConflicts = 0;

test('SIGKILL at random moments loses nothing acknowledged and leaves nothing half done', {
  timeout: SOAK ? 1_800_000 : 120_000,
}, async () => {
  process.stdout.write(
    `# crash-sigkill (${testDialect}) seed: ${SEED} (PARLEY_CRASH_SEED=${SEED} replays its kill times and choices)\n`,
  );
  const started = Date.now();

  // Seed through the services on the same file, before the server owns it.
  const seeding = await buildApp(loadConfig({ ...(env as Record<string, string>), NODE_ID: '32' }));
  const { ctx } = seeding;
  const o = await makeOrg(ctx);
  const senders: Person[] = [];
  for (let i = 0; i < HTTP_SENDERS + STREAM_SENDERS; i++) senders.push(await o.user('member', `Sender ${i}`));
  const observer = await o.user('member', 'Observer');
  const operators: Person[] = [];
  for (let i = 0; i < OPERATORS; i++) operators.push(await o.user('operator', `Operator ${i}`));
  const departments: Awaited<ReturnType<typeof makeDepartment>>[] = [];
  for (let i = 0; i < DEPARTMENTS; i++)
    departments.push(
      await makeDepartment(
        ctx,
        o,
        `Crash desk ${i}`,
        operators.map((p) => p.actor),
      ),
    );
  const visitors: Person[] = [];
  for (let i = 0; i < VISITORS; i++) visitors.push(await o.visitor(`Visitor ${i}`));
  const room = (
    await seedConversations(ctx, {
      orgId: o.org.id,
      members: [o.owner.actor, ...senders.map((s) => s.actor), observer.actor],
      count: 1,
      messagesEach: 0,
    })
  )[0]!;
  const targets = await seedConversations(ctx, {
    orgId: o.org.id,
    members: [o.owner.actor],
    count: TARGETS * CYCLES,
    messagesEach: TARGET_MESSAGES,
  });
  const keep = await seedConversations(ctx, {
    orgId: o.org.id,
    members: [o.owner.actor],
    count: KEEP,
    messagesEach: KEEP_MESSAGES,
  });
  await seeding.app.close();
  const owner = o.owner.token;
  const operatorById = new Map(operators.map((p) => [p.actor.id, p]));

  const jobs: { id: string; targets: string[] }[] = [];
  let lastSeen = 0;
  let firstSeq = 0;
  const observed = new Map<string, number>();
  let slowConsumerReconnects = 0;
  let nextChat = 0;
  let kills = 0;
  const jobAtKill: string[] = [];

  /** The observer: a member of the room that follows the stream across restarts with `since`. */
  const follow = async (since: number | undefined): Promise<StreamClient> => {
    for (;;) {
      const s = await connectStream(server!.url, {
        token: observer.token,
        ...(since === undefined ? {} : { since }),
      });
      try {
        const ready = await s.next((f) => f.type === 'ready', 20_000);
        if (since === undefined) firstSeq = ready.seq;
        return s;
      } catch (err) {
        // A long catch-up may outrun the socket: the server closes it as a slow consumer
        // (4008) and the client goes on from the last event it got.
        if ((await s.closed).code !== 4008) throw err;
        takeObserved(s);
        since = lastSeen;
        slowConsumerReconnects++;
      }
    }
  };
  const takeObserved = (s: StreamClient) => {
    for (const f of s.seen((x) => x.type === 'event')) {
      lastSeen = Math.max(lastSeen, f.seq);
      if (f.event === 'message.created' && f.conversation_id === room) {
        const id: string = f.data.message.id;
        observed.set(id, (observed.get(id) ?? 0) + 1);
      }
    }
    const ready = s.seen((x) => x.type === 'ready')[0];
    if (ready) lastSeen = Math.max(lastSeen, ready.seq);
  };

  for (let cycle = 0; cycle <= CYCLES; cycle++) {
    const last = cycle === CYCLES;
    server = await startServer(env, 30_000);
    if (cycle === 0) {
      const settings = await api(owner, 'PATCH', '/v1/support/settings', { missed_after_seconds: 86_400 });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
      const limits = await api(owner, 'PUT', '/v1/rate-limits/native', {
        points: 1_000_000,
        duration_s: 60,
        block_s: 0,
      });
      assert.equal(limits.status, 200, JSON.stringify(limits.body));
    }
    if (last) break;
    // A deletion job per cycle (queued behind any unfinished one), to be killed mid-way.
    const batch = targets.slice(cycle * TARGETS, (cycle + 1) * TARGETS);
    const queued = await api(owner, 'POST', '/v1/deletion-jobs', { conversation_ids: batch });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    jobs.push({ id: queued.body.id, targets: batch });
    const stream = await follow(cycle === 0 ? undefined : lastSeen);

    let stopped = false;
    const alive = () => !stopped;
    const note = (what: string) => {
      if (alive()) unexpected.push(what);
    };

    const httpSender = async (w: number) => {
      const sender = senders[w]!;
      for (let i = 0; alive(); i++) {
        const clientId = `h${cycle}-${w}-${i}`;
        const a: Attempt = { clientId, text: `http ${clientId} ${random().toString(36).slice(2)}`, sender };
        attempts.set(clientId, a);
        try {
          const res = await api(sender.token, 'POST', `/v1/conversations/${room}/messages`, {
            text: a.text,
            client_id: clientId,
          });
          if (res.status === 201 && res.body?.text === a.text) a.ackedId = res.body.id;
          else note(`send ${clientId}: ${res.status} ${JSON.stringify(res.body)}`);
        } catch {
          return; // the server is gone; this send's outcome is unknown
        }
      }
    };

    const streamSender = async (w: number) => {
      const sender = senders[HTTP_SENDERS + w]!;
      let s: StreamClient;
      try {
        s = await connectStream(server!.url, { token: sender.token });
        await s.next((f) => f.type === 'ready', 10_000);
      } catch {
        return;
      }
      for (let i = 0; alive(); i++) {
        const clientId = `s${cycle}-${w}-${i}`;
        const a: Attempt = { clientId, text: `stream ${clientId} ${random().toString(36).slice(2)}`, sender };
        attempts.set(clientId, a);
        try {
          s.send({ type: 'send', conversation_id: room, text: a.text, client_id: clientId });
          const f = await s.next(
            (x) => x.client_id === clientId && (x.type === 'ack' || x.type === 'error'),
            10_000,
          );
          if (f.type === 'ack' && f.created === true && f.message.text === a.text) a.ackedId = f.message.id;
          // The socket's frame budget: a well-behaved client waits as told (the send is not stored).
          else if (f.code === 'rate_limited') await sleep(f.retry_after_ms);
          else note(`stream send ${clientId}: ${JSON.stringify(f)}`);
        } catch {
          return; // socket closed by the kill
        }
      }
    };

    /** All operators at once on one waiting chat: at most one may be told it won. */
    const race = async (chatId: string) => {
      const results = await Promise.allSettled(
        operators.map((op) => api(op.token, 'POST', `/v1/support/chats/${chatId}/pickup`)),
      );
      const winners: string[] = [];
      let settled = true;
      for (const [i, r] of results.entries()) {
        if (r.status === 'rejected') {
          settled = false;
          continue;
        }
        const { status, body } = r.value;
        if (status === 200) {
          winners.push(operators[i]!.actor.id);
          if (body.owner?.id !== operators[i]!.actor.id)
            note(`pickup ${chatId}: owner ${JSON.stringify(body)}`);
        } else if (status === 409 && body?.error?.code === 'chat_not_waiting') {
          pickupConflicts++;
        } else note(`pickup ${chatId}: ${status} ${JSON.stringify(body)}`);
      }
      assert.ok(winners.length <= 1, `chat ${chatId} picked up by ${winners.length} operators at once`);
      if (winners.length === 1) {
        assert.ok(!ackedPickups.has(chatId), `chat ${chatId} picked up twice`);
        ackedPickups.set(chatId, winners[0]!);
      }
      if (settled || winners.length > 0) waiting.delete(chatId);
    };

    const supportWorker = async () => {
      while (alive()) {
        const old = [...waiting];
        if (old.length > 0 && random() < 0.3) {
          await race(old[Math.floor(random() * old.length)]!);
          continue;
        }
        // Each cycle gets its share of the chats, spread over its load.
        if (
          nextChat >=
          Math.min(visitors.length * DEPARTMENTS, ((cycle + 1) * visitors.length * DEPARTMENTS) / CYCLES)
        ) {
          await sleep(20);
          continue;
        }
        const n = nextChat++;
        const visitor = visitors[n % visitors.length]!;
        const department = departments[Math.floor(n / visitors.length)]!;
        let chatId: string;
        try {
          const res = await api(visitor.token, 'POST', '/v1/support/chats', {
            department_id: department.id,
            question: `help ${visitor.actor.id}`,
          });
          if (res.status !== 201) {
            note(`start chat: ${res.status} ${JSON.stringify(res.body)}`);
            continue;
          }
          chatId = res.body.id;
          supportChats.set(chatId, { visitorId: visitor.actor.id });
          waiting.add(chatId);
        } catch {
          return;
        }
        // Some chats stay waiting for a while, to be raced over after a restart.
        if (random() < 0.7) await race(chatId);
      }
    };

    const load = [
      ...Array.from({ length: HTTP_SENDERS }, (_, w) => httpSender(w)),
      ...Array.from({ length: STREAM_SENDERS }, (_, w) => streamSender(w)),
      ...Array.from({ length: SUPPORT_WORKERS }, () => supportWorker()),
    ];
    const killAfter = Math.floor((SOAK ? 300 : 250) + random() * (SOAK ? 2500 : 1000));
    await sleep(killAfter);
    stopped = true;
    await server.stop('SIGKILL');
    kills++;
    await Promise.all(load);
    await stream.closed;
    takeObserved(stream);
    server = undefined;
    const states = await checkDatabase({ orgId: o.org.id, room, jobs, keep, operatorById, final: false });
    jobAtKill.push(`${killAfter} ms (jobs ${states.join(' ')})`);
  }

  // The last start: the server stays up. The jobs resume and complete with exact counts.
  const deadline = Date.now() + 60_000;
  for (const { id } of jobs) {
    let job: any;
    for (;;) {
      job = (await api(owner, 'GET', `/v1/deletion-jobs/${id}`)).body;
      if (job.status !== 'running' && job.status !== 'queued') break;
      assert.ok(
        Date.now() < deadline,
        `a deletion job did not finish after the restarts: ${JSON.stringify(job)}`,
      );
      await sleep(50);
    }
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.deepEqual(job.counts, {
      conversations_deleted: TARGETS,
      messages_deleted: TARGETS * TARGET_MESSAGES,
      conversations_skipped: 0,
    });
  }

  // The observer followed the stream across every restart: each acknowledged message once.
  const stream = await follow(lastSeen);
  await sleep(300);
  await stream.close();
  takeObserved(stream);
  const acked = [...attempts.values()].filter((a) => a.ackedId);
  const missed = acked.filter((a) => !observed.has(a.ackedId!)).map((a) => a.clientId);
  assert.deepEqual(missed, [], `${missed.length} acknowledged messages never reached the stream`);
  const twice = [...observed].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'a message reached the following client twice');

  // A fresh client catching up from before the first send gets every acknowledged message.
  const caught: string[] = [];
  for (let since = firstSeq; ; ) {
    const fresh = await connectStream(server!.url, { token: observer.token, since });
    const done = await fresh
      .next((f) => f.type === 'ready', 20_000)
      .then(
        () => true,
        async (err) => {
          if ((await fresh.closed).code !== 4008) throw err;
          slowConsumerReconnects++;
          return false;
        },
      );
    const events = fresh.seen((f) => f.type === 'event');
    for (const f of events)
      if (f.event === 'message.created' && f.conversation_id === room) caught.push(f.data.message.id);
    since = Math.max(since, ...events.map((f) => f.seq as number));
    await fresh.close();
    if (done) break;
  }
  assert.equal(new Set(caught).size, caught.length, 'catch-up sends nothing twice');
  const caughtSet = new Set(caught);
  assert.deepEqual(
    acked.filter((a) => !caughtSet.has(a.ackedId!)).map((a) => a.clientId),
    [],
    'catch-up after the restarts gives every acknowledged message',
  );

  // Retrying every send whose answer was lost, with its client id, lands it exactly once.
  let retried = 0;
  let alreadyThere = 0;
  for (const a of attempts.values()) {
    if (a.ackedId) continue;
    const res = await api(a.sender.token, 'POST', `/v1/conversations/${room}/messages`, {
      text: a.text,
      client_id: a.clientId,
    });
    assert.ok(
      res.status === 200 || res.status === 201,
      `retry of ${a.clientId}: ${res.status} ${JSON.stringify(res.body)}`,
    );
    assert.equal(res.body.text, a.text);
    a.ackedId = res.body.id;
    retried++;
    if (res.status === 200) alreadyThere++;
  }
  await server!.stop();
  server = undefined;
  await checkDatabase({ orgId: o.org.id, room, jobs, keep, operatorById, final: true });

  assert.deepEqual(unexpected, [], 'answers that were neither a success nor the expected conflict');
  const pickedUp = ackedPickups.size;
  process.stdout.write(
    `# crash: ${kills} kills survived, ${acked.length} acknowledged messages, 0 lost, 0 duplicated\n` +
      `# crash: ${retried} unanswered sends retried with their client id (${alreadyThere} had been stored), every client id once\n` +
      `# crash: ${supportChats.size} support chats, ${pickedUp} acknowledged pickups, ${pickupConflicts} losing pickups (409), 0 half done\n` +
      `# crash: stream clients reconnected ${slowConsumerReconnects} times after a slow-consumer close during catch-up\n` +
      `# crash: kills at ${jobAtKill.join('; ')}\n` +
      `# crash: ${jobs.length} deletion jobs completed across ${kills} kills, each exactly ${TARGETS} conversations and ${TARGETS * TARGET_MESSAGES} messages; ${KEEP} conversations outside them untouched\n` +
      `# crash: ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
});

/**
 * Reads the database of the dead (or stopped) server directly and checks every invariant the
 * clients may rely on; `final` adds what holds once every send was answered.
 */
async function checkDatabase(opts: {
  orgId: string;
  room: string;
  jobs: { id: string; targets: string[] }[];
  keep: string[];
  operatorById: Map<string, Person>;
  final: boolean;
}): Promise<string[]> {
  const store = database.open(2);
  try {
    /** A query with `?` placeholders, numbered for PostgreSQL; ids come back as text on both. */
    const rows = async <T>(text: string, ...params: (string | number)[]): Promise<T[]> => {
      let n = 0;
      const query = database.dialect === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text;
      const { rows } = await store.db.executeQuery(CompiledQuery.raw(query, params));
      // Plain objects (node:sqlite's rows have no prototype), for assert.deepEqual.
      return rows.map((r) => ({ ...(r as object) }) as T);
    };
    const { orgId, room } = opts;

    // Messages: every acknowledged one once, with its text; no client id twice; one event each.
    const stored = await rows<{ id: string; client_id: string | null; text: string; sender_id: string }>(
      'SELECT id, client_id, text, sender_id FROM message WHERE conversation_id = ?',
      room,
    );
    const byClient = new Map<string, typeof stored>();
    for (const m of stored) {
      assert.ok(m.client_id, `message ${m.id} without a client id in the room`);
      byClient.set(m.client_id, [...(byClient.get(m.client_id) ?? []), m]);
    }
    for (const [clientId, list] of byClient) {
      assert.equal(list.length, 1, `client id ${clientId} stored ${list.length} times`);
      const a = attempts.get(clientId);
      assert.ok(a, `a message with a client id nobody sent: ${clientId}`);
      assert.equal(list[0]!.text, a.text, `the text of ${clientId}`);
      assert.equal(list[0]!.sender_id, a.sender.actor.id);
      if (a.ackedId) assert.equal(list[0]!.id, a.ackedId, `${clientId} is stored under its acknowledged id`);
    }
    for (const a of attempts.values()) {
      if (a.ackedId) assert.ok(byClient.has(a.clientId), `acknowledged message ${a.clientId} lost`);
      if (opts.final) assert.ok(byClient.has(a.clientId), `${a.clientId} missing after its retry`);
    }
    const created = (
      await rows<{ payload: string }>(
        "SELECT payload FROM event WHERE org_id = ? AND conversation_id = ? AND type = 'message.created'",
        orgId,
        room,
      )
    ).map((e) => (JSON.parse(e.payload) as { message: { id: string } }).message.id);
    assert.equal(new Set(created).size, created.length, 'one message.created event per message');
    assert.deepEqual(
      new Set(created),
      new Set(stored.map((m) => m.id)),
      'every stored message has its event',
    );

    // Events: no sequence number twice, none above what the org handed out.
    const dupes = await rows<{ seq: number; n: number }>(
      'SELECT seq, COUNT(*) AS n FROM event WHERE org_id = ? GROUP BY seq HAVING COUNT(*) > 1',
      orgId,
    );
    assert.deepEqual(dupes, [], 'event sequence numbers are unique per org');
    const [top] = await rows<{ max: number | null }>(
      'SELECT MAX(seq) AS max FROM event WHERE org_id = ?',
      orgId,
    );
    // SQLite hands positions out from AUTOINCREMENT's counter, never twice; PostgreSQL from
    // transaction ids (no counter to compare with: the primary key keeps them unique).
    if (database.dialect === 'sqlite') {
      const [counter] = await rows<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'event'");
      assert.ok(
        Number(top!.max ?? 0) <= Number(counter?.seq ?? 0),
        'the position counter is ahead of every event',
      );
    }

    // Support chats: waiting with nobody, or connected to exactly one operator, all of it.
    const chats = await rows<{
      id: string;
      state: string;
      owner_id: string | null;
      attender_id: string | null;
      visitor_id: string;
      member_count: number;
    }>(
      "SELECT id, state, owner_id, attender_id, visitor_id, member_count FROM conversation WHERE org_id = ? AND kind = 'support'",
      orgId,
    );
    const chatIds = new Set(chats.map((c) => c.id));
    for (const id of supportChats.keys()) assert.ok(chatIds.has(id), `acknowledged support chat ${id} lost`);
    const pickedEvents = new Map<string, string[]>();
    for (const e of await rows<{ conversation_id: string; payload: string }>(
      "SELECT conversation_id, payload FROM event WHERE org_id = ? AND type = 'support.picked_up'",
      orgId,
    )) {
      const op = (JSON.parse(e.payload) as { operator: { id: string } }).operator.id;
      pickedEvents.set(e.conversation_id, [...(pickedEvents.get(e.conversation_id) ?? []), op]);
    }
    const pickedAudit = new Map<string, string[]>();
    for (const r of await rows<{ target_id: string; actor_id: string }>(
      "SELECT target_id, actor_id FROM audit_event WHERE org_id = ? AND action = 'support.picked_up'",
      orgId,
    ))
      pickedAudit.set(r.target_id, [...(pickedAudit.get(r.target_id) ?? []), r.actor_id]);
    for (const c of chats) {
      const members = await rows<{ actor_id: string; role: string }>(
        'SELECT actor_id, role FROM member WHERE conversation_id = ? AND left_at IS NULL',
        c.id,
      );
      const staff = members.filter((m) => m.actor_id !== c.visitor_id);
      assert.ok(
        members.some((m) => m.actor_id === c.visitor_id),
        `chat ${c.id}: the visitor is a member`,
      );
      assert.equal(Number(c.member_count), members.length, `chat ${c.id}: member count`);
      const acked = ackedPickups.get(c.id);
      if (c.state === 'waiting') {
        assert.equal(c.owner_id, null, `waiting chat ${c.id} has no owner`);
        assert.equal(c.attender_id, null, `waiting chat ${c.id} has no attender`);
        assert.deepEqual(staff, [], `waiting chat ${c.id} has no operator member`);
        assert.equal(pickedEvents.get(c.id), undefined, `waiting chat ${c.id} has no pickup event`);
        assert.equal(pickedAudit.get(c.id), undefined, `waiting chat ${c.id} has no pickup audit`);
        assert.equal(acked, undefined, `chat ${c.id} was acknowledged as picked up but is waiting`);
      } else {
        assert.equal(c.state, 'connected', `chat ${c.id} is waiting or connected`);
        assert.ok(c.owner_id && opts.operatorById.has(c.owner_id), `chat ${c.id} is owned by an operator`);
        assert.equal(c.attender_id, c.owner_id);
        assert.deepEqual(
          staff,
          [{ actor_id: c.owner_id, role: 'owner' }],
          `chat ${c.id}: its operator, and only its operator, is a member`,
        );
        assert.deepEqual(
          pickedEvents.get(c.id),
          [c.owner_id],
          `chat ${c.id}: one pickup event, for its owner`,
        );
        assert.deepEqual(
          pickedAudit.get(c.id),
          [c.owner_id],
          `chat ${c.id}: one pickup audit, for its owner`,
        );
        if (acked) assert.equal(c.owner_id, acked, `chat ${c.id}: the acknowledged pickup is the stored one`);
      }
    }

    // Each deletion job: what is gone is exactly what its counts say; nothing else is touched.
    const states: string[] = [];
    for (const { id, targets } of opts.jobs) {
      const [job] = await rows<{ status: string; conversations_deleted: number; messages_deleted: number }>(
        'SELECT status, conversations_deleted, messages_deleted FROM deletion_job WHERE id = ?',
        id,
      );
      assert.ok(job, 'the deletion job is stored');
      const marks = targets.map(() => '?').join(',');
      const [left] = await rows<{ n: number }>(
        `SELECT COUNT(*) AS n FROM message WHERE conversation_id IN (${marks})`,
        ...targets,
      );
      const [convsLeft] = await rows<{ n: number }>(
        `SELECT COUNT(*) AS n FROM conversation WHERE id IN (${marks})`,
        ...targets,
      );
      assert.equal(
        Number(job.messages_deleted),
        TARGETS * TARGET_MESSAGES - Number(left!.n),
        `messages deleted match the job's count (${job.status})`,
      );
      assert.equal(
        Number(job.conversations_deleted),
        TARGETS - Number(convsLeft!.n),
        `conversations deleted match the job's count (${job.status})`,
      );
      if (opts.final) assert.equal(job.status, 'completed');
      states.push(`${job.status}:${job.conversations_deleted}/${TARGETS}`);
    }
    const keepMarks = opts.keep.map(() => '?').join(',');
    const [kept] = await rows<{ n: number }>(
      `SELECT COUNT(*) AS n FROM message WHERE conversation_id IN (${keepMarks})`,
      ...opts.keep,
    );
    assert.equal(Number(kept!.n), KEEP * KEEP_MESSAGES, 'conversations outside the job are untouched');
    const [roomRow] = await rows<{ n: number }>('SELECT COUNT(*) AS n FROM conversation WHERE id = ?', room);
    assert.equal(Number(roomRow!.n), 1, 'the room is untouched');
    if (opts.final) {
      const all = opts.jobs.flatMap((job) => job.targets);
      const purged = await rows<{ target_id: string }>(
        "SELECT target_id FROM audit_event WHERE org_id = ? AND action = 'conversation.purged'",
        orgId,
      );
      assert.equal(purged.length, all.length, 'one purge audit record per conversation, none twice');
      assert.deepEqual(new Set(purged.map((p) => p.target_id)), new Set(all));
      const completed = await rows<{ n: number }>(
        "SELECT COUNT(*) AS n FROM event WHERE org_id = ? AND type = 'deletion_job.completed'",
        orgId,
      );
      assert.equal(Number(completed[0]!.n), opts.jobs.length, 'one completion event per job');
    }
    return states;
  } finally {
    await store.close();
  }
}
