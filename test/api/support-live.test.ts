import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, call, type TestApp, visitorCaller } from '../support/app.ts';
import { makeOrg, type Person, type TestOrg } from '../support/factories.ts';
import { connectStream, type StreamClient } from '../support/stream.ts';

/**
 * Live support state on the streams: `support.availability` when an operator's availability or a
 * department's hours change which departments can take a live chat (to the org's staff and the
 * widget's visitors, with no operator id for visitors), and `support.read` to the visitor when an
 * operator reads their chat (stored: a reconnect with `since` gets it).
 */

let t: TestApp;
let base: string;
before(async () => {
  t = await buildTestApp({}, { gateway: { pingMs: 1000, gapFillMs: 50 } });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await t.close();
});

const visitorCall = visitorCaller(() => t.app);

interface Setup {
  o: TestOrg;
  op: Person;
  op2: Person;
  sales: { id: string };
  billing: { id: string };
  widget: { public_key: string };
}

async function setup(): Promise<Setup> {
  const o = await makeOrg(t.ctx);
  const op = await o.user('operator', 'Olga Operator');
  const op2 = await o.user('operator', 'Otto Operator');
  const sales = (await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Sales' })).body;
  const billing = (await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Billing' })).body;
  await call(t.app, o.owner.token, 'PUT', `/v1/departments/${sales.id}/operators`, {
    operator_ids: [op.actor.id],
  });
  await call(t.app, o.owner.token, 'PUT', `/v1/departments/${billing.id}/operators`, {
    operator_ids: [op2.actor.id],
  });
  const widget = (
    await call(t.app, o.owner.token, 'POST', '/v1/widgets', {
      allowed_origins: ['https://shop.example'],
      department_ids: [sales.id],
    })
  ).body;
  return { o, op, op2, sales, billing, widget };
}

async function visitor(s: Setup): Promise<{ token: string; stream: StreamClient }> {
  const sess = await visitorCall(null, 'POST', '/v1/widget/sessions', { key: s.widget.public_key });
  assert.equal(sess.status, 201, sess.raw);
  const stream = await connectStream(base, {
    token: sess.body.token,
    via: 'protocol',
    path: '/v1/widget/stream',
  });
  await stream.next((f) => f.type === 'ready');
  return { token: sess.body.token, stream };
}

const setAvailability = (who: Person, status: 'available' | 'away') =>
  call(t.app, who.token, 'PUT', '/v1/support/availability', { status });
const isAvailability = (f: any) => f.type === 'event' && f.event === 'support.availability';

describe('support.availability', () => {
  test("an operator's switch reaches the widget's visitors and the other operators", async () => {
    const s = await setup();
    const v = await visitor(s);
    const colleague = await connectStream(base, { token: s.op2.token });
    await colleague.next((f) => f.type === 'ready');

    assert.equal((await setAvailability(s.op, 'available')).status, 200);
    const on = await v.stream.next(isAvailability);
    assert.equal(on.seq, 0, 'ephemeral');
    assert.equal(on.conversation_id, null);
    assert.deepEqual(on.data, {
      actor_id: null,
      status: null,
      departments: [{ id: s.sales.id, online: true }],
    });
    const seen = await colleague.next(isAvailability);
    assert.deepEqual(seen.data, {
      actor_id: s.op.actor.id,
      status: 'available',
      departments: [{ id: s.sales.id, online: true }],
    });
    const config = await visitorCall(null, 'GET', `/v1/widget/config?key=${s.widget.public_key}`);
    assert.equal(config.body.online, true);

    // Otto serves Billing only, which this widget does not show: the visitor is not told, the
    // operators are. (The visitor's next frame is Olga going away, below.)
    assert.equal((await setAvailability(s.op2, 'available')).status, 200);
    const otto = await colleague.next(isAvailability);
    assert.deepEqual(otto.data, {
      actor_id: s.op2.actor.id,
      status: 'available',
      departments: [{ id: s.billing.id, online: true }],
    });
    // Setting the same again changes no department.
    assert.equal((await setAvailability(s.op, 'available')).status, 200);
    const same = await colleague.next(isAvailability);
    assert.deepEqual(same.data.departments, []);

    assert.equal((await setAvailability(s.op, 'away')).status, 200);
    const off = await v.stream.next(isAvailability);
    assert.deepEqual(off.data.departments, [{ id: s.sales.id, online: false }]);
    assert.equal(v.stream.seen(isAvailability).length, 2, 'only the changes of its departments');
    await v.stream.close();
    await colleague.close();
  });

  test("an admin setting an operator's availability, and a department's hours, are announced", async () => {
    const s = await setup();
    const v = await visitor(s);
    const set = await call(t.app, s.o.owner.token, 'PUT', `/v1/support/availability/${s.op.actor.id}`, {
      status: 'available',
    });
    assert.equal(set.status, 200, set.raw);
    assert.deepEqual((await v.stream.next(isAvailability)).data.departments, [
      { id: s.sales.id, online: true },
    ]);
    // Hours that are closed now (the test clock is a Saturday): Sales goes offline.
    const hours = await call(t.app, s.o.owner.token, 'PUT', `/v1/departments/${s.sales.id}/hours`, {
      hours: { time_zone: 'Europe/Paris', weekly: { mon: [{ start: '09:00', end: '17:00' }] } },
    });
    assert.equal(hours.status, 200, hours.raw);
    assert.deepEqual((await v.stream.next(isAvailability)).data.departments, [
      { id: s.sales.id, online: false },
    ]);
    // Bad hours change nothing and announce nothing; removing the hours opens it again.
    const bad = await call(t.app, s.o.owner.token, 'PUT', `/v1/departments/${s.sales.id}/hours`, {
      hours: { time_zone: 'Nowhere/Land', weekly: {} },
    });
    assert.equal(bad.status, 400);
    const cleared = await call(t.app, s.o.owner.token, 'PUT', `/v1/departments/${s.sales.id}/hours`, {
      hours: null,
    });
    assert.equal(cleared.status, 200);
    assert.deepEqual((await v.stream.next(isAvailability)).data.departments, [
      { id: s.sales.id, online: true },
    ]);
    assert.equal(v.stream.seen(isAvailability).length, 3);
    await v.stream.close();
  });
});

describe('support.read', () => {
  test("the operator's read position reaches the visitor live, and on reconnect", async () => {
    const s = await setup();
    await setAvailability(s.op, 'available');
    const v = await visitor(s);
    const started = await visitorCall(v.token, 'POST', '/v1/widget/chats', { question: 'hello' });
    assert.equal(started.status, 201, started.raw);
    const chatId = started.body.id;
    assert.equal((await call(t.app, s.op.token, 'POST', `/v1/support/chats/${chatId}/pickup`)).status, 200);
    const second = await visitorCall(v.token, 'POST', `/v1/widget/chats/${chatId}/messages`, {
      text: 'are you there?',
    });
    assert.equal(second.status, 201);
    const read = await call(t.app, s.op.token, 'POST', `/v1/conversations/${chatId}/read`, {});
    assert.equal(read.status, 200, read.raw);
    const ev = await v.stream.next((f) => f.type === 'event' && f.event === 'support.read');
    assert.ok(ev.seq > 0, 'stored');
    assert.equal(ev.conversation_id, chatId);
    assert.deepEqual(ev.data, {
      conversation_id: chatId,
      actor_id: s.op.actor.id,
      operator_read_message_id: second.body.id,
    });
    const chat = await visitorCall(v.token, 'GET', `/v1/widget/chats/${chatId}`);
    assert.equal(chat.body.operator_read_message_id, second.body.id, 'the same as the chat reads');

    // The visitor's own reads tell nobody; reading the same again is no new event.
    await visitorCall(v.token, 'POST', `/v1/widget/chats/${chatId}/read`, {});
    await call(t.app, s.op.token, 'POST', `/v1/conversations/${chatId}/read`, {});
    const third = await visitorCall(v.token, 'POST', `/v1/widget/chats/${chatId}/messages`, {
      text: 'hello?',
    });
    await call(t.app, s.op.token, 'POST', `/v1/conversations/${chatId}/read`, {});
    const next = await v.stream.next((f) => f.type === 'event' && f.event === 'support.read');
    assert.equal(next.data.operator_read_message_id, third.body.id, 'the next one is the next read');
    await v.stream.close();

    // A reconnect from before the first read gets both, in order.
    const again = await connectStream(base, {
      token: v.token,
      via: 'protocol',
      path: '/v1/widget/stream',
      since: ev.seq - 1,
    });
    await again.next((f) => f.type === 'ready');
    const replayed = again.seen((f) => f.type === 'event' && f.event === 'support.read');
    assert.deepEqual(
      replayed.map((f) => f.data.operator_read_message_id),
      [second.body.id, third.body.id],
    );
    await again.close();
  });

  test('another visitor never gets it', async () => {
    const s = await setup();
    await setAvailability(s.op, 'available');
    const a = await visitor(s);
    const b = await visitor(s);
    const started = await visitorCall(a.token, 'POST', '/v1/widget/chats', { question: 'hi' });
    const chatId = started.body.id;
    await call(t.app, s.op.token, 'POST', `/v1/support/chats/${chatId}/pickup`);
    await call(t.app, s.op.token, 'POST', `/v1/conversations/${chatId}/read`, {});
    await a.stream.next((f) => f.type === 'event' && f.event === 'support.read');
    // b's stream: a later event that b does get (Olga going away) arrives with no support.read before it.
    await setAvailability(s.op, 'away');
    await b.stream.next(isAvailability);
    assert.deepEqual(
      b.stream.seen((f) => f.event === 'support.read' || f.event === 'support.picked_up'),
      [],
    );
    await a.stream.close();
    await b.stream.close();
  });
});
