import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catchUpPage, newestEventSettled } from '../../../src/services/events.ts';
import { buildTestApp, call, type TestApp } from '../../support/app.ts';
import { closeAfterConcurrency, orgWithGroup } from '../../support/factories.ts';

/**
 * The two paths of a send (services/messages.ts): on PostgreSQL a plain send (text only: no
 * reply, no attachment, no `@`) is one statement in autocommit; every other send, and every
 * plain send the statement declines (a refusal, a retried client id, an org with a webhook for
 * message.created), takes the transaction path. Both must answer and store exactly the same.
 * On SQLite every send takes the transaction path (its group commit); the same assertions hold.
 */
const METRICS_TOKEN = 'metrics-token-send-paths-0123';
let t: TestApp;
before(async () => {
  t = await buildTestApp({ METRICS_TOKEN });
});
after(async () => closeAfterConcurrency(t));

const oneStatement = () => t.ctx.caps.oneStatementSend;
const paths = () => ({ ...t.ctx.sendPaths });
/** How many sends took each path since `before`. */
const since = (before: { oneStatement: number; transaction: number }) => ({
  oneStatement: t.ctx.sendPaths.oneStatement - before.oneStatement,
  transaction: t.ctx.sendPaths.transaction - before.transaction,
});
/**
 * Catch-up of `actorId` once every stored event is settled: on PostgreSQL a write transaction
 * still open anywhere in the cluster (another test file's) holds the horizon, and catch-up
 * rightly reads nothing above it until it ends.
 */
async function settledCatchUp(orgId: string, actorId: string) {
  for (let i = 0; i < 200 && !(await newestEventSettled(t.ctx)); i++)
    await new Promise((r) => setTimeout(r, 50));
  return catchUpPage(t.ctx, orgId, actorId, 0);
}
const send = (token: string, id: string, body: unknown) =>
  call(t.app, token, 'POST', `/v1/conversations/${id}/messages`, body);
const history = async (token: string, id: string) =>
  (await call(t.app, token, 'GET', `/v1/conversations/${id}/messages?limit=100`)).body.items as any[];

describe('a plain send', () => {
  test('takes the one-statement path on PostgreSQL and stores what the transaction path stores', async () => {
    const { o, bob, id } = await orgWithGroup(t, ['Bob', 'Cleo']);
    const before = paths();
    const first = await send(o.owner.token, id, { text: 'plain one', metadata: { k: 1 } });
    assert.equal(first.status, 201);
    assert.deepEqual(
      since(before),
      oneStatement() ? { oneStatement: 1, transaction: 0 } : { oneStatement: 0, transaction: 1 },
    );
    // A send that is not plain (a reply) takes the transaction path everywhere.
    const reply = await send(bob.token, id, { text: 'a reply', reply_to: first.body.id });
    assert.equal(reply.status, 201);
    assert.equal(since(before).transaction, oneStatement() ? 1 : 2);

    // The same answers and rows whichever path: the sender has read it, the others have not.
    assert.equal(first.body.text, 'plain one');
    assert.deepEqual(first.body.metadata, { k: 1 });
    assert.equal(first.body.reply_to_id, null);
    const mine = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(mine.body.unread_count, 1, 'the reply, not the own message');
    assert.equal(mine.body.last_message.id, reply.body.id);
    const bobs = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(bobs.body.unread_count, 0, 'Bob replied: he has read up to his reply');
    const cleo = await call(t.app, o.owner.token, 'GET', `/v1/conversations`);
    assert.equal(cleo.body.items[0].id, id);
    const items = await history(o.owner.token, id);
    assert.deepEqual(
      items.map((m) => m.id),
      [reply.body.id, first.body.id],
    );
    const { reply_count, last_reply_at, reactions, ...stored } = items[1];
    const { reply_count: _c, last_reply_at: _l, ...answered } = first.body;
    assert.deepEqual(stored, answered, 'history shows what the send answered');
    assert.equal(reply_count, 1);
    assert.equal(last_reply_at, reply.body.created_at);
    assert.deepEqual(reactions, []);

    // Its event: once, in catch-up for every member (none for an outsider), carrying the answer.
    const page = await settledCatchUp(o.org.id, bob.actor.id);
    const created = page.events.filter((e) => e.type === 'message.created');
    assert.deepEqual(
      created.map((e) => (e.payload.message as any).id),
      [first.body.id, reply.body.id],
    );
    assert.deepEqual(created[0]!.payload.message, first.body);
    assert.ok(created[0]!.seq < created[1]!.seq);
  });

  test('the metric counts sends by path', async () => {
    const { o, id } = await orgWithGroup(t);
    assert.equal((await send(o.owner.token, id, { text: 'counted' })).status, 201);
    const res = await call(t.app, METRICS_TOKEN, 'GET', '/metrics');
    assert.equal(res.status, 200);
    const value = (path: string) =>
      Number(new RegExp(`parley_message_sends_total\\{path="${path}"\\} (\\d+)`).exec(res.raw)?.[1] ?? -1);
    assert.equal(value('one_statement'), t.ctx.sendPaths.oneStatement);
    assert.equal(value('transaction'), t.ctx.sendPaths.transaction);
    assert.ok(value(oneStatement() ? 'one_statement' : 'transaction') >= 1);
  });
});

describe('client ids', () => {
  test('a retry returns the first message (200) and a different text is refused (409)', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const first = await send(o.owner.token, id, { text: 'once', client_id: 'c-1' });
    assert.equal(first.status, 201);
    const retry = await send(o.owner.token, id, { text: 'once', client_id: 'c-1' });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.id, first.body.id);
    const reused = await send(o.owner.token, id, { text: 'another', client_id: 'c-1' });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.error.code, 'idempotency_key_reused');
    // Another sender may use the same client id.
    const bobs = await send(bob.token, id, { text: 'once', client_id: 'c-1' });
    assert.equal(bobs.status, 201);
    assert.notEqual(bobs.body.id, first.body.id);
    assert.deepEqual(
      (await history(o.owner.token, id)).map((m) => m.id),
      [bobs.body.id, first.body.id],
    );
    const bobView = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(bobView.body.unread_count, 0, 'the retry and the refusal counted nothing');
    const ownerView = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(ownerView.body.unread_count, 1);
  });

  test('twelve concurrent sends with one client id store one message and all answer it', async () => {
    const { o, id } = await orgWithGroup(t);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => send(o.owner.token, id, { text: 'race', client_id: 'same' })),
    );
    assert.ok(
      answers.every((a) => a.status === 201 || a.status === 200),
      answers.map((a) => a.raw).join(),
    );
    assert.equal(answers.filter((a) => a.status === 201).length, 1);
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    assert.equal((await history(o.owner.token, id)).length, 1);
    const page = await settledCatchUp(o.org.id, o.owner.actor.id);
    assert.equal(page.events.filter((e) => e.type === 'message.created').length, 1);
  });
});

describe('refusals write nothing', () => {
  test('an outsider, a member who left and a conversation in the bin get 404', async () => {
    const { o, bob, others, id } = await orgWithGroup(t, ['Bob'], ['Olga']);
    const olga = others[0]!;
    const before = await history(o.owner.token, id);
    const outsider = await send(olga.token, id, { text: 'let me in' });
    assert.equal(outsider.status, 404);
    assert.equal(outsider.body.error.code, 'conversation_not_found');
    assert.equal((await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/leave`)).status, 204);
    const left = await send(bob.token, id, { text: 'after leaving' });
    assert.equal(left.status, 404);
    assert.equal(left.body.error.code, 'conversation_not_found');
    const unknown = await send(o.owner.token, '01ZZZZZZZZZZZZZZZZZZZZZZZZ', { text: 'nowhere' });
    assert.ok(unknown.status === 404 || unknown.status === 400, unknown.raw);
    assert.deepEqual(await history(o.owner.token, id), before);
    const conv = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(conv.body.last_message, before[0] ?? null);
    const page = await settledCatchUp(o.org.id, o.owner.actor.id);
    assert.equal(page.events.filter((e) => e.type === 'message.created').length, 0);
  });
});

describe('batches of plain sends (PostgreSQL)', () => {
  const pgOnly = () => (t.ctx.sendBatcher ? false : 'the send batcher is PostgreSQL only');
  /** A plain send as the service builds it, submitted to the batcher (not awaited). */
  const submit = (
    orgId: string,
    conversationId: string,
    senderId: string,
    text: string,
    clientId?: string,
  ) => {
    const message = {
      id: t.ctx.ids.next(),
      orgId,
      conversationId,
      senderId,
      type: 'text',
      text,
      metadata: null,
      replyToId: null,
      clientId: clientId ?? null,
      createdAt: t.ctx.clock.now(),
      editedAt: null,
      deletedAt: null,
      mentions: null,
      threadId: null,
    };
    const payload = JSON.stringify({ message: { id: message.id, text } });
    return {
      id: message.id,
      stored: t.ctx.sendBatcher!.submit(message, {
        type: 'message.created',
        payload,
        createdAt: message.createdAt,
      }),
    };
  };

  test('one statement stores each send in order, refuses the outsider alone, and moves counts and reads', async (c) => {
    const skip = pgOnly();
    if (skip) return c.skip(skip);
    const { o, members, others, id: a } = await orgWithGroup(t, ['Bob', 'Cleo'], ['Olga']);
    const [bob, cleo] = members as [(typeof members)[0], (typeof members)[0]];
    const b = (
      await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
        kind: 'group',
        title: 'b',
        member_ids: [cleo.actor.id],
      })
    ).body.id as string;
    const org = o.org.id;
    // Submitted in one turn of the event loop: one batch.
    const batch = [
      submit(org, a, o.owner.actor.id, 'a1'),
      submit(org, a, bob.actor.id, 'a2'),
      submit(org, a, o.owner.actor.id, 'a3'),
      submit(org, b, o.owner.actor.id, 'b1'),
      submit(org, b, cleo.actor.id, 'b2'),
      submit(org, a, others[0]!.actor.id, 'from an outsider'),
      submit(org, a, bob.actor.id, 'a4'),
    ];
    const results = await Promise.all(batch.map((s) => s.stored));
    assert.equal(results[5], null, 'the outsider is refused (the general path answers it)');
    const stored = results.filter((r) => r !== null);
    assert.equal(stored.length, 6);
    const seqs = stored.map((r) => r!.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      'positions in the order of the sends',
    );
    assert.deepEqual(
      [results[0], results[1], results[2], results[6]].map((r) => r!.ordinal),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      [results[3], results[4]].map((r) => r!.ordinal),
      [1, 2],
    );
    const texts = async (token: string, id: string) =>
      (await history(token, id)).map((m) => m.text).reverse();
    assert.deepEqual(await texts(o.owner.token, a), ['a1', 'a2', 'a3', 'a4']);
    assert.deepEqual(await texts(o.owner.token, b), ['b1', 'b2']);
    const view = async (token: string, id: string) =>
      (await call(t.app, token, 'GET', `/v1/conversations/${id}`)).body;
    assert.equal((await view(o.owner.token, a)).unread_count, 1, 'the owner read up to a3');
    assert.equal((await view(bob.token, a)).unread_count, 0, 'Bob read up to a4');
    assert.equal((await view(cleo.token, a)).unread_count, 4);
    assert.equal((await view(cleo.token, a)).last_message.text, 'a4');
    assert.equal((await view(o.owner.token, b)).unread_count, 1);
    assert.equal((await view(cleo.token, b)).unread_count, 0);
    const page = await settledCatchUp(org, cleo.actor.id);
    const created = page.events.filter((e) => e.type === 'message.created');
    assert.deepEqual(
      created.map((e) => (e.payload.message as { text: string }).text),
      ['a1', 'a2', 'a3', 'b1', 'b2', 'a4'],
    );
    assert.deepEqual(
      created.map((e) => e.seq),
      seqs,
    );
  });

  test('a batch that fails as a whole is sent one by one: one client id twice stores one message', async (c) => {
    const skip = pgOnly();
    if (skip) return c.skip(skip);
    const { o, id } = await orgWithGroup(t);
    const org = o.org.id;
    const batch = [
      submit(org, id, o.owner.actor.id, 'first', 'twice'),
      submit(org, id, o.owner.actor.id, 'unrelated'),
      submit(org, id, o.owner.actor.id, 'first', 'twice'),
    ];
    const results = await Promise.all(batch.map((s) => s.stored));
    assert.notEqual(results[1], null, 'the other send is stored');
    assert.equal(
      results.filter((r) => r === null).length,
      1,
      'one of the two with the same client id declines',
    );
    assert.deepEqual((await history(o.owner.token, id)).map((m) => m.text).sort(), ['first', 'unrelated']);
    const metrics = await call(t.app, METRICS_TOKEN, 'GET', '/metrics');
    assert.match(metrics.raw, /parley_send_batch_size_count \d+/);
  });
});

describe('webhooks', () => {
  test('an org with a webhook for message.created gets a delivery for a plain send', async () => {
    const { o, id } = await orgWithGroup(t);
    const hook = await call(t.app, o.owner.token, 'POST', '/v1/webhooks', {
      url: 'https://example.com/hooks/sends',
      events: ['message.created'],
    });
    assert.equal(hook.status, 201);
    const before = paths();
    const sent = await send(o.owner.token, id, { text: 'hooked' });
    assert.equal(sent.status, 201);
    assert.equal(since(before).transaction, 1, 'the statement declines, the transaction path runs the sink');
    const deliveries = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.body.id}/deliveries`);
    assert.equal(deliveries.body.items.length, 1);
    assert.equal(deliveries.body.items[0].event, 'message.created');

    // A webhook for other events only does not stop the one statement.
    const other = await orgWithGroup(t);
    await call(t.app, other.o.owner.token, 'POST', '/v1/webhooks', {
      url: 'https://example.com/hooks/other',
      events: ['member.joined'],
    });
    const before2 = paths();
    assert.equal((await send(other.o.owner.token, other.id, { text: 'not hooked' })).status, 201);
    assert.deepEqual(
      since(before2),
      oneStatement() ? { oneStatement: 1, transaction: 0 } : { oneStatement: 0, transaction: 1 },
    );
  });
});
