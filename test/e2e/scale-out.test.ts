/**
 * Scale-out: two identical `parley serve` processes on one PostgreSQL database and one Redis.
 * A socket on node A receives what is sent through node B; a node killed mid-stream loses no
 * acknowledged message, and its clients catch up on the other node. Needs TEST_DATABASE_URL
 * and TEST_REDIS_URL (CI sets both when the servers answer); skipped otherwise, saying why.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type RunningServer, seedDemo, startServer } from '../support/server.ts';
import { connectStream } from '../support/stream.ts';

const pgUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
const skip =
  !pgUrl || !redisUrl
    ? 'TEST_DATABASE_URL and TEST_REDIS_URL are both needed: the scale-out test runs two nodes on PostgreSQL and Redis'
    : process.env.TEST_DB === 'postgres'
      ? 'runs once, in the first pass (it brings its own PostgreSQL database)'
      : false;

let db: TestDatabase | undefined;
const nodes: RunningServer[] = [];
let ada: string;
let bob: string;
let bobId: string;
let channel: string;

async function api(node: RunningServer, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

before(async () => {
  if (skip) return;
  db = await createTestDatabase({ dialect: 'postgres', serverUrl: pgUrl! });
  const env = (nodeId: string) => ({
    ...process.env,
    SQLITE_PATH: '',
    DATABASE_URL: db!.url!,
    REDIS_URL: redisUrl,
    NODE_ID: nodeId,
  });
  ada = await seedDemo(env('1'));
  nodes.push(await startServer(env('2')), await startServer(env('3')));
  const [a] = nodes;
  const people = await api(a!, ada, 'GET', '/v1/actors?kind=user');
  bobId = people.body.items.find((x: { email: string }) => x.email === 'bob@demo.parley.local').id;
  bob = (
    await api(a!, ada, 'POST', '/v1/tokens', {
      name: 'bob',
      scopes: ['messages:read', 'conversations:read'],
      actor_id: bobId,
    })
  ).body.token;
  const list = await api(a!, ada, 'GET', '/v1/conversations?kind=channel');
  channel = list.body.items[0].id;
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  await db?.drop();
});

test('a socket on node A receives what is sent through node B', { skip }, async () => {
  const [a, b] = nodes as [RunningServer, RunningServer];
  const s = await connectStream(a.url, { token: bob });
  await s.next((f) => f.type === 'ready');
  const sent = await api(b, ada, 'POST', `/v1/conversations/${channel}/messages`, { text: 'across nodes' });
  assert.equal(sent.status, 201);
  const ev = await s.next((f) => f.type === 'event' && f.event === 'message.created', 5000);
  assert.equal(ev.data.message.id, sent.body.id);
  await s.close();
});

test('team-chat events cross nodes: mention, reaction, thread, receipt, presence', { skip }, async () => {
  const [a, b] = nodes as [RunningServer, RunningServer];
  const isEvent = (type: string) => (f: any) => f.type === 'event' && f.event === type;
  const s = await connectStream(a.url, { token: bob });
  await s.next((f) => f.type === 'ready');
  const root = await api(b, ada, 'POST', `/v1/conversations/${channel}/messages`, { text: `hi <@${bobId}>` });
  assert.equal(root.status, 201);
  assert.deepEqual(root.body.mentions, [bobId]);
  const mention = await s.next(isEvent('mention.created'), 5000);
  assert.equal(mention.data.message_id, root.body.id);
  const react = await api(
    b,
    ada,
    'PUT',
    `/v1/conversations/${channel}/messages/${root.body.id}/reactions/%F0%9F%8E%89`,
  );
  assert.equal(react.status, 200);
  const reaction = await s.next(isEvent('reaction.added'), 5000);
  assert.equal(reaction.data.emoji, '🎉');
  const reply = await api(b, ada, 'POST', `/v1/conversations/${channel}/messages`, {
    text: 'in the thread',
    reply_to: root.body.id,
  });
  assert.equal(reply.status, 201);
  const thread = await s.next(isEvent('thread.updated'), 5000);
  assert.equal(thread.data.thread_id, root.body.id);
  assert.equal(thread.data.reply_count, 1);
  const dm = await api(b, ada, 'POST', '/v1/conversations', { kind: 'direct', member_ids: [bobId] });
  const bobWrite = (
    await api(a, ada, 'POST', '/v1/tokens', { name: 'bob-w', scopes: ['messages:write'], actor_id: bobId })
  ).body.token;
  const fromBob = await api(a, bobWrite, 'POST', `/v1/conversations/${dm.body.id}/messages`, {
    text: 'direct',
  });
  assert.equal(fromBob.status, 201);
  await api(b, ada, 'POST', `/v1/conversations/${dm.body.id}/read`, {});
  const receipt = await s.next(isEvent('receipt.updated'), 5000);
  assert.equal(receipt.data.conversation_id, dm.body.id);
  assert.equal(receipt.data.read_message_id, fromBob.body.id);
  // Ada's socket on node B: Bob on node A is told she is online, and node A reads it from Redis.
  const adaSocket = await connectStream(b.url, { token: ada });
  await adaSocket.next((f) => f.type === 'ready');
  const online = await s.next((f) => isEvent('presence.changed')(f) && f.data.status === 'online', 10_000);
  const adaId = online.data.actor_id as string;
  const read = await api(a, bob, 'GET', `/v1/presence?ids=${adaId}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.items[0].status, 'online', 'node A sees a socket on node B');
  await adaSocket.close();
  const offline = await s.next(
    (f) => isEvent('presence.changed')(f) && f.data.actor_id === adaId && f.data.status === 'offline',
    10_000,
  );
  assert.ok(offline);
  await s.close();
});

test("live support crosses nodes: availability and the operator's read reach a widget visitor on node B", {
  skip,
}, async () => {
  const [a, b] = nodes as [RunningServer, RunningServer];
  const dept = await api(a, ada, 'POST', '/v1/departments', { name: 'Scale-out support' });
  assert.equal(dept.status, 201);
  const widget = await api(a, ada, 'POST', '/v1/widgets', {
    allowed_origins: ['https://shop.example'],
    department_ids: [dept.body.id],
  });
  assert.equal(widget.status, 201);
  assert.equal((await api(a, ada, 'PUT', '/v1/support/availability', { status: 'away' })).status, 200);
  const sess = await fetch(`${b.url}/v1/widget/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: widget.body.public_key }),
  });
  assert.equal(sess.status, 201);
  const visitor = (await sess.json()) as { token: string };
  const v = await connectStream(b.url, { token: visitor.token, via: 'protocol', path: '/v1/widget/stream' });
  await v.next((f) => f.type === 'ready');
  const ours = (online: boolean) => (f: any) =>
    f.type === 'event' &&
    f.event === 'support.availability' &&
    f.data.departments.some(
      (d: { id: string; online: boolean }) => d.id === dept.body.id && d.online === online,
    );

  // Ada (an owner serves every department) becomes available through node A.
  assert.equal((await api(a, ada, 'PUT', '/v1/support/availability', { status: 'available' })).status, 200);
  const on = await v.next(ours(true), 5000);
  assert.equal(on.data.actor_id, null, 'visitors are not told who');

  // A chat started on node B, picked up and read on node A: "Seen" reaches the visitor on B.
  const started = await fetch(`${b.url}/v1/widget/chats`, {
    method: 'POST',
    headers: { authorization: `Bearer ${visitor.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ question: 'across nodes?' }),
  });
  assert.equal(started.status, 201);
  const chat = (await started.json()) as { id: string };
  assert.equal((await api(a, ada, 'POST', `/v1/support/chats/${chat.id}/pickup`)).status, 200);
  assert.equal((await api(a, ada, 'POST', `/v1/conversations/${chat.id}/read`, {})).status, 200);
  const read = await v.next((f) => f.type === 'event' && f.event === 'support.read', 5000);
  assert.equal(read.conversation_id, chat.id);
  assert.ok(read.data.operator_read_message_id);
  assert.equal((await api(a, ada, 'POST', `/v1/support/chats/${chat.id}/end`)).status, 200);

  assert.equal((await api(a, ada, 'PUT', '/v1/support/availability', { status: 'away' })).status, 200);
  await v.next(ours(false), 5000);
  await v.close();
});

test('a lower position committed last by another writer reaches node A after the higher one is held back', {
  skip,
}, async () => {
  const [a, b] = nodes as [RunningServer, RunningServer];
  const s = await connectStream(a.url, { token: bob });
  await s.next((f) => f.type === 'ready');
  const isMessage = (f: any) => f.type === 'event' && f.event === 'message.created';
  // A third writer (as another node would) takes its transaction id, so its position, first.
  const writer = new pg.Client({ connectionString: db!.url });
  await writer.connect();
  try {
    await writer.query('begin');
    await writer.query('select pg_current_xact_id()');
    const sent = await api(b, ada, 'POST', `/v1/conversations/${channel}/messages`, { text: 'higher' });
    assert.equal(sent.status, 201);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(s.seen(isMessage).length, 0, 'the higher position waits while the lower one is open');
    const { rows } = await writer.query('select org_id from conversation where id = $1', [channel]);
    await writer.query(
      `insert into event (seq, org_id, type, conversation_id, recipients, payload, created_at)
       values ((pg_current_xact_id()::text::bigint << 16), $1, 'message.created', $2, $3, $4, $5)`,
      [
        rows[0].org_id,
        channel,
        JSON.stringify([bobId]),
        JSON.stringify({ message: { id: 'lower', text: 'lower, committed last' } }),
        Date.now(),
      ],
    );
    await writer.query('commit');
    // Nothing announces the lower event on the bus: node A reads it from the log, in order.
    const first = await s.next(isMessage, 5000);
    const second = await s.next(isMessage, 5000);
    assert.equal(first.data.message.id, 'lower');
    assert.equal(second.data.message.id, sent.body.id);
    assert.ok(first.seq < second.seq);
  } finally {
    await writer.end();
    await s.close();
  }
});

test('a node killed mid-stream loses no acknowledged message; its clients catch up on the other node', {
  skip,
}, async () => {
  const [a, b] = nodes as [RunningServer, RunningServer];
  const s = await connectStream(a.url, { token: bob });
  const ready = await s.next((f) => f.type === 'ready');
  const acknowledged: string[] = [];
  let stop = false;
  // Senders hammer node A until it dies; only 201 answers count as acknowledged.
  const senders = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; !stop && i < 500; i++) {
      try {
        const res = await api(a, ada, 'POST', `/v1/conversations/${channel}/messages`, {
          text: `w${w}-${i}`,
          client_id: `w${w}-${i}`,
        });
        if (res.status === 201 || res.status === 200) acknowledged.push(res.body.id);
      } catch {
        return; // the node is gone
      }
    }
  });
  while (acknowledged.length < 40) await new Promise((r) => setTimeout(r, 10));
  await a.stop('SIGKILL');
  stop = true;
  await Promise.all(senders);
  await s.closed;
  const lastSeen = Math.max(ready.seq, ...s.seen((f) => f.type === 'event').map((f) => f.seq));

  // Every acknowledged message is in the database, read through node B.
  const stored = new Set<string>();
  let cursor: string | null = null;
  do {
    const page = await api(
      b,
      ada,
      'GET',
      `/v1/conversations/${channel}/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    for (const m of page.body.items) stored.add(m.id);
    cursor = page.body.next_cursor;
  } while (cursor);
  const lost = acknowledged.filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged messages lost`);

  // Bob reconnects to node B with the last event he saw and gets exactly the rest.
  const again = await connectStream(b.url, { token: bob, since: lastSeen });
  await again.next((f) => f.type === 'ready', 10_000);
  const before = new Set(s.seen((f) => f.event === 'message.created').map((f) => f.data.message.id));
  const caught = again.seen((f) => f.event === 'message.created').map((f) => f.data.message.id);
  assert.equal(new Set(caught).size, caught.length, 'nothing twice');
  for (const id of caught) assert.ok(!before.has(id), 'nothing already seen');
  const union = new Set([...before, ...caught]);
  const missing = acknowledged.filter((id) => !union.has(id));
  assert.deepEqual(missing, [], 'every acknowledged message reached bob across the two connections');
  await again.close();
});

test('team-chat events cross nodes: reaction removed, edit mentions, deleted reply, member.read, away', {
  skip,
}, async () => {
  // The test before killed node A: a fresh node takes its place (same database and Redis).
  const a = await startServer({
    ...process.env,
    SQLITE_PATH: '',
    DATABASE_URL: db!.url!,
    REDIS_URL: redisUrl,
    NODE_ID: '4',
  });
  nodes.push(a);
  const b = nodes[1]!;
  const isEvent = (type: string) => (f: any) => f.type === 'event' && f.event === type;
  const bobAll = (
    await api(a, ada, 'POST', '/v1/tokens', {
      name: 'bob-all',
      scopes: ['messages:read', 'messages:write', 'conversations:read', 'conversations:write'],
      actor_id: bobId,
    })
  ).body.token;
  const s = await connectStream(a.url, { token: bob });
  await s.next((f) => f.type === 'ready');
  const root = await api(b, ada, 'POST', `/v1/conversations/${channel}/messages`, { text: 'no mention yet' });
  assert.equal(root.status, 201);
  // An edit on node B that mentions Bob: node A hears the mention and the edited message with it.
  const edited = await api(b, ada, 'PATCH', `/v1/conversations/${channel}/messages/${root.body.id}`, {
    text: `now <@${bobId}>`,
  });
  assert.equal(edited.status, 200);
  const mention = await s.next(isEvent('mention.created'), 5000);
  assert.equal(mention.data.message_id, root.body.id);
  const edit = await s.next(isEvent('message.edited'), 5000);
  assert.deepEqual(edit.data.message.mentions, [bobId]);
  // A reaction added and removed on node B.
  const path = `/v1/conversations/${channel}/messages/${root.body.id}/reactions/%F0%9F%91%8D`;
  assert.equal((await api(b, ada, 'PUT', path)).status, 200);
  assert.equal((await s.next(isEvent('reaction.added'), 5000)).data.count, 1);
  assert.equal((await api(b, ada, 'DELETE', path)).status, 200);
  const removed = await s.next(isEvent('reaction.removed'), 5000);
  assert.equal(removed.data.emoji, '👍');
  assert.equal(removed.data.count, 0);
  // A reply, then deleted for everyone on node B: node A gets the lower count.
  const reply = await api(b, ada, 'POST', `/v1/conversations/${channel}/messages`, {
    text: 'short-lived reply',
    reply_to: root.body.id,
  });
  assert.equal((await s.next(isEvent('thread.updated'), 5000)).data.reply_count, 1);
  assert.equal(
    (await api(b, ada, 'DELETE', `/v1/conversations/${channel}/messages/${reply.body.id}`)).status,
    200,
  );
  const dropped = await s.next(isEvent('thread.updated'), 5000);
  assert.equal(dropped.data.thread_id, root.body.id);
  assert.equal(dropped.data.reply_count, 0);
  assert.equal(dropped.data.last_reply_at, null);
  // Bob reads on node B: his own socket on node A gets member.read (his other device).
  assert.equal((await api(b, bobAll, 'POST', `/v1/conversations/${channel}/read`, {})).status, 200);
  const read = await s.next(isEvent('member.read'), 5000);
  assert.equal(read.data.conversation_id, channel);
  assert.equal(read.data.me.unread_count, 0);
  // Ada online on node B, then away (said on node B): Bob on node A sees both.
  const adaSocket = await connectStream(b.url, { token: ada });
  await adaSocket.next((f) => f.type === 'ready');
  const online = await s.next((f) => isEvent('presence.changed')(f) && f.data.status === 'online', 10_000);
  assert.equal((await api(b, ada, 'PUT', '/v1/presence/me', { status: 'away' })).status, 200);
  const away = await s.next(
    (f) =>
      isEvent('presence.changed')(f) && f.data.actor_id === online.data.actor_id && f.data.status === 'away',
    10_000,
  );
  assert.ok(away);
  await adaSocket.close();
  await s.close();
});
