import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { markMissedChats } from '../../../src/services/support.ts';
import { createStore } from '../../../src/store/db.ts';
import { transitionChat } from '../../../src/store/repos/support.ts';
import { call } from '../../support/app.ts';
import { testDialect } from '../../support/db.ts';
import {
  closeAfterConcurrency,
  makeDepartment,
  makeOrg,
  type Person,
  startWaitingChat,
  type TestOrg,
} from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp({}, { close: closeAfterConcurrency });

/** An org with two departments (Alice serves Sales, Bob serves Billing), Una serving all, and a visitor. */
async function setup() {
  const o = await makeOrg(t.ctx);
  const alice = await o.user('operator', 'Alice');
  const bob = await o.user('operator', 'Bob');
  const una = await o.user('operator', 'Una');
  const sales = await makeDepartment(t.ctx, o, 'Sales', [alice.actor]);
  const billing = await makeDepartment(t.ctx, o, 'Billing', [bob.actor]);
  const james = await o.visitor('James');
  return { o, alice, bob, una, sales, billing, james };
}

async function start(
  person: Person,
  departmentId: string,
  question = 'Can you help me with the payment process?',
) {
  return call(t.app, person.token, 'POST', '/v1/support/chats', { department_id: departmentId, question });
}

async function eventsOf(conversationId: string) {
  const rows = await t.ctx.db
    .selectFrom('event')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({
    type: r.type,
    recipients: JSON.parse(r.recipients) as string[],
    payload: JSON.parse(r.payload),
  }));
}

describe('departments', () => {
  test('admins create departments and set their operators; everyone in the org can list them', async () => {
    const o = await makeOrg(t.ctx);
    const op = await o.user('operator', 'Olga');
    const created = await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Sales' });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'Sales');
    assert.deepEqual(created.body.operator_ids, []);
    const set = await call(t.app, o.owner.token, 'PUT', `/v1/departments/${created.body.id}/operators`, {
      operator_ids: [op.actor.id, o.owner.actor.id, op.actor.id],
    });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body.operator_ids, [op.actor.id, o.owner.actor.id].sort());
    const visitor = await o.visitor();
    const list = await call(t.app, visitor.token, 'GET', '/v1/departments');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((d: any) => d.name),
      ['Sales'],
    );
    const one = await call(t.app, op.token, 'GET', `/v1/departments/${created.body.id}`);
    assert.equal(one.body.id, created.body.id);
    const cleared = await call(t.app, o.owner.token, 'PUT', `/v1/departments/${created.body.id}/operators`, {
      operator_ids: [],
    });
    assert.deepEqual(cleared.body.operator_ids, []);
  });

  test('bad inputs: duplicates, non-admins, unknown and foreign ids, non-operators', async () => {
    const o = await makeOrg(t.ctx);
    const other = await makeOrg(t.ctx);
    const op = await o.user('operator');
    const member = await o.user('member');
    const visitor = await o.visitor();
    const d = await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Sales' });
    const dup = await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Sales' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'department_name_taken');
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'A', extra: 1 }, { name: 5 }]) {
      const res = await call(t.app, o.owner.token, 'POST', '/v1/departments', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'invalid_request');
    }
    const byOperator = await call(t.app, op.token, 'POST', '/v1/departments', { name: 'Mine' });
    assert.equal(byOperator.status, 403);
    assert.equal(byOperator.body.error.code, 'admin_role_required');
    const url = `/v1/departments/${d.body.id}/operators`;
    for (const [body, status, code] of [
      [{ operator_ids: [member.actor.id] }, 400, 'not_an_operator'],
      [{ operator_ids: [visitor.actor.id] }, 400, 'not_an_operator'],
      [{ operator_ids: ['12345'] }, 404, 'operator_not_found'],
      [{ operator_ids: [other.owner.actor.id] }, 404, 'operator_not_found'],
      [{ operator_ids: ['abc'] }, 400, 'invalid_request'],
      [{}, 400, 'invalid_request'],
    ] as const) {
      const res = await call(t.app, o.owner.token, 'PUT', url, body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(res.body.error.code, code);
    }
    const notAdmin = await call(t.app, op.token, 'PUT', url, { operator_ids: [op.actor.id] });
    assert.equal(notAdmin.status, 403);
    const foreign = await call(t.app, other.owner.token, 'PUT', url, { operator_ids: [] });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 'department_not_found');
    assert.equal((await call(t.app, other.owner.token, 'GET', `/v1/departments/${d.body.id}`)).status, 404);
    assert.deepEqual(
      (await call(t.app, o.owner.token, 'GET', `/v1/departments/${d.body.id}`)).body.operator_ids,
      [],
    );
  });
});

describe('starting chats', () => {
  test('a visitor starts a waiting chat; the question is its first message', async () => {
    const { o, alice, sales, james } = await setup();
    const res = await start(james, sales.id);
    assert.equal(res.status, 201);
    const chat = res.body;
    assert.equal(chat.state, 'waiting');
    assert.equal(chat.reference_id, '1');
    assert.equal(chat.department.id, sales.id);
    assert.equal(chat.visitor.id, james.actor.id);
    assert.equal(chat.visitor.channel, 'website');
    assert.equal(chat.owner, null);
    assert.equal(chat.attender, null);
    assert.deepEqual(chat.participants, []);
    assert.equal(chat.attended_at, null);
    const mine = await call(t.app, james.token, 'GET', '/v1/conversations');
    assert.deepEqual(
      mine.body.items.map((c: any) => [c.id, c.kind]),
      [[chat.id, 'support']],
    );
    const history = await call(t.app, james.token, 'GET', `/v1/conversations/${chat.id}/messages`);
    assert.equal(history.body.items[0].text, 'Can you help me with the payment process?');
    assert.equal(history.body.items[0].sender_id, james.actor.id);
    // The operators of the department are told, and the visitor.
    const [waiting] = await eventsOf(chat.id);
    assert.equal(waiting!.type, 'support.waiting');
    assert.ok(waiting!.recipients.includes(alice.actor.id));
    assert.ok(waiting!.recipients.includes(james.actor.id));
    assert.ok(waiting!.recipients.includes(o.owner.actor.id));
    const second = await start(james, (await makeDepartment(t.ctx, o, 'Other')).id);
    assert.equal(second.body.reference_id, '2');
  });

  test('at most one open chat per visitor per department, even when requests race', async () => {
    const { sales, billing, james, alice } = await setup();
    const results = await Promise.all(Array.from({ length: 10 }, () => start(james, sales.id)));
    const created = results.filter((r) => r.status === 201);
    assert.equal(created.length, 1);
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'visitor_has_open_chat');
      assert.equal(r.body.error.details.conversation_id, created[0]!.body.id);
    }
    // Another department is fine; after the chat ends the visitor may start again.
    assert.equal((await start(james, billing.id)).status, 201);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${created[0]!.body.id}/pickup`);
    assert.equal((await start(james, sales.id)).status, 409);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${created[0]!.body.id}/end`);
    assert.equal((await start(james, sales.id)).status, 201);
  });

  test('staff start a chat on behalf of a visitor; others may not', async () => {
    const { o, alice, sales, james } = await setup();
    const member = await o.user('member');
    const bot = (await call(t.app, o.owner.token, 'POST', '/v1/actors', { kind: 'bot', name: 'Bot' })).body;
    const onBehalf = await call(t.app, alice.token, 'POST', '/v1/support/chats', {
      department_id: sales.id,
      question: 'Called in',
      visitor_id: james.actor.id,
      channel: 'ios',
      uvid: 'c9db3d6f-1',
    });
    assert.equal(onBehalf.status, 201);
    assert.equal(onBehalf.body.visitor.id, james.actor.id);
    assert.equal(onBehalf.body.channel, 'ios');
    assert.equal(onBehalf.body.uvid, 'c9db3d6f-1');
    const other = await o.visitor('Vera');
    const cases: [Person, unknown, number, string][] = [
      [alice, { department_id: sales.id, question: 'q' }, 400, 'visitor_id_required'],
      [
        alice,
        { department_id: sales.id, question: 'q', visitor_id: member.actor.id },
        404,
        'visitor_not_found',
      ],
      [alice, { department_id: sales.id, question: 'q', visitor_id: bot.id }, 404, 'visitor_not_found'],
      [alice, { department_id: sales.id, question: 'q', visitor_id: '999' }, 404, 'visitor_not_found'],
      [
        member,
        { department_id: sales.id, question: 'q', visitor_id: james.actor.id },
        403,
        'visitor_or_operator_required',
      ],
      [
        other,
        { department_id: sales.id, question: 'q', visitor_id: james.actor.id },
        403,
        'cannot_start_for_others',
      ],
      [other, { department_id: '999', question: 'q' }, 404, 'department_not_found'],
      [other, { department_id: sales.id, question: '' }, 400, 'invalid_request'],
      [other, { department_id: sales.id, question: 'x'.repeat(2001) }, 400, 'invalid_request'],
      [other, { department_id: sales.id }, 400, 'invalid_request'],
      [other, { department_id: 'sales', question: 'q' }, 400, 'invalid_request'],
      [other, { department_id: sales.id, question: 'q', channel: 'fax' }, 400, 'invalid_request'],
      [other, { department_id: sales.id, question: 'q', priority: 1 }, 400, 'invalid_request'],
    ];
    for (const [person, body, status, code] of cases) {
      const res = await call(t.app, person.token, 'POST', '/v1/support/chats', body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(res.body.error.code, code, JSON.stringify(body));
    }
    const foreign = await makeOrg(t.ctx);
    const foreignDept = await makeDepartment(t.ctx, foreign, 'Theirs');
    const res = await start(other, foreignDept.id);
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'department_not_found');
    // None of the refused starts left a chat behind.
    const count = await t.ctx.db
      .selectFrom('conversation')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('org_id', '=', o.org.id)
      .where('kind', '=', 'support')
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 1);
  });
});

describe('the queue', () => {
  test('waiting chats of my departments, oldest first, a page at a time', async () => {
    const { o, alice, bob, una, sales, billing } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const v = await o.visitor(`V${i}`);
      ids.push((await startWaitingChat(t.ctx, o, v.actor, sales, `q${i}`)).id);
      t.clock.advance(1000);
    }
    const billingChat = await startWaitingChat(t.ctx, o, (await o.visitor()).actor, billing);
    const aliceQueue = await call(t.app, alice.token, 'GET', '/v1/support/queue');
    assert.deepEqual(
      aliceQueue.body.items.map((c: any) => c.id),
      ids,
    );
    const bobQueue = await call(t.app, bob.token, 'GET', '/v1/support/queue');
    assert.deepEqual(
      bobQueue.body.items.map((c: any) => c.id),
      [billingChat.id],
    );
    const all = await call(t.app, una.token, 'GET', '/v1/support/queue');
    assert.deepEqual(
      all.body.items.map((c: any) => c.id),
      [...ids, billingChat.id],
    );
    const first = await call(t.app, o.owner.token, 'GET', '/v1/support/queue?limit=2');
    assert.equal(first.body.items.length, 2);
    const rest = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/support/queue?limit=2&cursor=${first.body.next_cursor}`,
    );
    assert.deepEqual(
      [...first.body.items, ...rest.body.items].map((c: any) => c.id),
      [...ids, billingChat.id],
    );
    assert.equal(rest.body.next_cursor, null);
    const onlyBilling = await call(t.app, una.token, 'GET', `/v1/support/queue?department_id=${billing.id}`);
    assert.deepEqual(
      onlyBilling.body.items.map((c: any) => c.id),
      [billingChat.id],
    );
    // A picked-up chat leaves the queue.
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${ids[0]}/pickup`);
    assert.equal((await call(t.app, alice.token, 'GET', '/v1/support/queue')).body.items.length, 2);
  });

  test('only staff, only their departments', async () => {
    const { o, alice, billing, james } = await setup();
    const member = await o.user('member');
    for (const person of [member, james]) {
      const res = await call(t.app, person.token, 'GET', '/v1/support/queue');
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'operator_role_required');
    }
    const notMine = await call(t.app, alice.token, 'GET', `/v1/support/queue?department_id=${billing.id}`);
    assert.equal(notMine.status, 403);
    assert.equal(notMine.body.error.code, 'not_in_department');
    assert.equal((await call(t.app, alice.token, 'GET', '/v1/support/queue?department_id=77')).status, 404);
    assert.equal((await call(t.app, alice.token, 'GET', '/v1/support/queue?department_id=x')).status, 400);
    assert.equal((await call(t.app, alice.token, 'GET', '/v1/support/queue?cursor=bad')).status, 400);
    assert.equal((await call(t.app, alice.token, 'GET', '/v1/support/queue?limit=101')).status, 400);
  });
});

describe('pickup', () => {
  test('the operator becomes owner, attender and participant; events and audit follow', async () => {
    const { o, alice, sales, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    t.clock.advance(27_340);
    const res = await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'connected');
    assert.equal(res.body.owner.id, alice.actor.id);
    assert.equal(res.body.attender.id, alice.actor.id);
    assert.deepEqual(
      res.body.participants.map((p: any) => p.id),
      [alice.actor.id],
    );
    assert.equal(res.body.attended_at, new Date(t.clock.now()).toISOString());
    assert.equal(res.body.unread_count, 0);
    // Alice is now a member: the chat is in her list and she can read and write it.
    const got = await call(t.app, alice.token, 'GET', `/v1/conversations/${chat.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.me.role, 'owner');
    assert.equal(got.body.participant_count, 2);
    const reply = await call(t.app, alice.token, 'POST', `/v1/conversations/${chat.id}/messages`, {
      text: 'Sure!',
    });
    assert.equal(reply.status, 201);
    const visitorView = await call(t.app, james.token, 'GET', `/v1/support/chats/${chat.id}`);
    assert.equal(visitorView.body.unread_count, 1);
    const events = await eventsOf(chat.id);
    const picked = events.find((e) => e.type === 'support.picked_up')!;
    assert.equal(picked.payload.owner_id, alice.actor.id);
    assert.ok(picked.recipients.includes(james.actor.id));
    assert.ok(picked.recipients.includes(alice.actor.id));
    const audit = await call(t.app, o.owner.token, 'GET', `/v1/audit-events?target_id=${chat.id}`);
    assert.deepEqual(
      audit.body.items.map((e: any) => [e.action, e.actor_id]),
      [['support.picked_up', alice.actor.id]],
    );
  });

  test('a chat that is not waiting answers 409 naming its owner', async () => {
    const { o, alice, una, sales, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    for (const person of [una, alice, o.owner]) {
      const res = await call(t.app, person.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'chat_not_waiting');
      assert.deepEqual(res.body.error.details, {
        state: 'connected',
        owner: { id: alice.actor.id, name: 'Alice' },
      });
    }
  });

  test('who may pick up: 403 for other departments and visitors, 404 for those who cannot see it', async () => {
    const { o, bob, sales, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    const url = `/v1/support/chats/${chat.id}/pickup`;
    const other = await makeOrg(t.ctx);
    const member = await o.user('member');
    const otherVisitor = await o.visitor();
    const cases: [Person, number, string][] = [
      [bob, 403, 'not_in_department'],
      [james, 403, 'operator_role_required'],
      [member, 404, 'conversation_not_found'],
      [otherVisitor, 404, 'conversation_not_found'],
      [other.owner, 404, 'conversation_not_found'],
    ];
    for (const [person, status, code] of cases) {
      const res = await call(t.app, person.token, 'POST', url);
      assert.equal(res.status, status, person.actor.name);
      assert.equal(res.body.error.code, code);
    }
    assert.equal((await call(t.app, null, 'POST', url)).status, 401);
    const noScope = await o.token(o.owner.actor, ['support:read']);
    const scoped = await call(t.app, noScope, 'POST', url);
    assert.equal(scoped.status, 403);
    assert.equal(scoped.body.error.code, 'insufficient_scope');
    assert.equal((await call(t.app, o.owner.token, 'POST', '/v1/support/chats/123/pickup')).status, 404);
    assert.equal((await call(t.app, o.owner.token, 'POST', '/v1/support/chats/abc/pickup')).status, 400);
    assert.equal((await call(t.app, o.owner.token, 'POST', url, { force: true })).status, 400);
    // A group conversation is not a support chat, even for its own members.
    const group = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'g',
    });
    assert.equal(
      (await call(t.app, o.owner.token, 'POST', `/v1/support/chats/${group.body.id}/pickup`)).status,
      404,
    );
    // Still waiting: none of that changed it.
    const still = await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${chat.id}`);
    assert.equal(still.body.state, 'waiting');
    assert.equal(still.body.owner, null);
  });

  test('the compare-and-set also checks what the permission was decided on', async () => {
    const { o, sales, billing, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    const now = t.clock.now();
    const changes = { state: 'connected' as const, owner_id: o.owner.actor.id, updated_at: now };
    // Decided while the chat was in Billing (it is in Sales now): no change.
    assert.equal(
      await transitionChat(t.ctx.db, o.org.id, chat.id, ['waiting'], changes, { departmentId: billing.id }),
      undefined,
    );
    assert.equal(await transitionChat(t.ctx.db, o.org.id, chat.id, ['connected'], changes), undefined);
    assert.equal(
      await transitionChat(t.ctx.db, o.org.id, chat.id, ['waiting'], changes, { attenderId: '42' }),
      undefined,
    );
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${chat.id}`)).body.state,
      'waiting',
    );
    const done = await transitionChat(t.ctx.db, o.org.id, chat.id, ['waiting'], changes, {
      departmentId: sales.id,
      attenderId: null,
    });
    assert.equal(done?.state, 'connected');
  });

  test('race: of 20 operators picking up at once, exactly one wins', async () => {
    const { o, sales, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    const operators: Person[] = [];
    for (let i = 0; i < 20; i++) operators.push(await o.user('operator', `Op ${i}`));

    // On PostgreSQL, half the requests go to a second app ("node") with its own connection pool.
    let second: { app: FastifyInstance; close(): Promise<void> } | undefined;
    if (testDialect === 'postgres') {
      const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(t.ctx.db);
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${rows[0]!.name}`;
      const store = createStore({ databaseUrl: url.toString(), sqlitePath: '', poolSize: 10 });
      const built = await buildApp(loadConfig({ NODE_ID: '8', BODY_LIMIT: '65536' }), {
        store,
        clock: t.clock,
      });
      await built.app.ready();
      second = {
        app: built.app,
        async close() {
          await built.app.close();
          await store.close();
        },
      };
    }
    try {
      const results = await Promise.all(
        operators.map((op, i) =>
          call(
            second && i % 2 === 1 ? second.app : t.app,
            op.token,
            'POST',
            `/v1/support/chats/${chat.id}/pickup`,
          ),
        ),
      );
      const winners = results.filter((r) => r.status === 200);
      assert.equal(winners.length, 1, results.map((r) => r.status).join(','));
      const winner = winners[0]!.body.owner;
      const losers = results.filter((r) => r.status !== 200);
      assert.equal(losers.length, 19);
      for (const r of losers) {
        assert.equal(r.status, 409);
        assert.equal(r.body.error.code, 'chat_not_waiting');
        assert.deepEqual(r.body.error.details.owner, { id: winner.id, name: winner.name });
      }
      // The database agrees: one owner, one new member, one event, one audit record.
      const members = await t.ctx.db
        .selectFrom('member')
        .select('actor_id')
        .where('conversation_id', '=', chat.id)
        .execute();
      assert.deepEqual(members.map((m) => String(m.actor_id)).sort(), [james.actor.id, winner.id].sort());
      assert.equal((await eventsOf(chat.id)).filter((e) => e.type === 'support.picked_up').length, 1);
      const audit = await t.ctx.db
        .selectFrom('audit_event')
        .select('actor_id')
        .where('target_id', '=', chat.id)
        .execute();
      assert.deepEqual(
        audit.map((a) => String(a.actor_id)),
        [winner.id],
      );
    } finally {
      await second?.close();
    }
  });
});

describe('transfer', () => {
  test('a connected chat goes to another operator: new attender, same owner', async () => {
    const { o, alice, una, sales, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    const res = await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/transfer`, {
      operator_id: una.actor.id,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'connected');
    assert.equal(res.body.owner.id, alice.actor.id);
    assert.equal(res.body.attender.id, una.actor.id);
    assert.deepEqual(
      res.body.participants.map((p: any) => p.id),
      [alice.actor.id, una.actor.id],
    );
    assert.equal((await call(t.app, una.token, 'GET', `/v1/conversations/${chat.id}`)).status, 200);
    const transferred = (await eventsOf(chat.id)).find((e) => e.type === 'support.transferred')!;
    assert.equal(transferred.payload.attender_id, una.actor.id);
    assert.equal(transferred.payload.from_attender_id, alice.actor.id);
    assert.ok(transferred.recipients.includes(una.actor.id));
    // Una, now attending, re-files it under another department and keeps it...
    const refunds = await makeDepartment(t.ctx, o, 'Refunds');
    const refiled = await call(t.app, una.token, 'POST', `/v1/support/chats/${chat.id}/transfer`, {
      operator_id: una.actor.id,
      department_id: refunds.id,
    });
    assert.equal(refiled.status, 200);
    assert.equal(refiled.body.department.id, refunds.id);
    assert.equal(refiled.body.attender.id, una.actor.id);
    // ...but cannot hand it to Alice, who does not serve that department.
    const refused = await call(t.app, una.token, 'POST', `/v1/support/chats/${chat.id}/transfer`, {
      operator_id: alice.actor.id,
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'operator_not_in_department');
    assert.equal(
      (await call(t.app, una.token, 'GET', `/v1/support/chats/${chat.id}`)).body.attender.id,
      una.actor.id,
    );
  });

  test('a waiting chat moves to another department queue', async () => {
    const { o, alice, bob, sales, billing, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    const res = await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/transfer`, {
      department_id: billing.id,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'waiting');
    assert.equal(res.body.department.id, billing.id);
    assert.deepEqual(
      (await call(t.app, bob.token, 'GET', '/v1/support/queue')).body.items.map((c: any) => c.id),
      [chat.id],
    );
    assert.equal((await call(t.app, alice.token, 'GET', '/v1/support/queue')).body.items.length, 0);
    // Alice no longer serves its department; the visitor's slot moved with it.
    const again = await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    assert.equal(again.body.error.code, 'not_in_department');
    assert.equal((await start(james, sales.id)).status, 201);
    const blocked = await start(james, billing.id);
    assert.equal(blocked.body.error.code, 'visitor_has_open_chat');
  });

  test('bad transfers change nothing', async () => {
    const { o, alice, bob, una, sales, billing, james } = await setup();
    const member = await o.user('member');
    const waiting = await startWaitingChat(t.ctx, o, james.actor, sales);
    const other = await startWaitingChat(t.ctx, o, james.actor, billing);
    const v2 = await o.visitor();
    const connected = await startWaitingChat(t.ctx, o, v2.actor, sales);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${connected.id}/pickup`);
    const tr = (person: Person, id: string, body: unknown) =>
      call(t.app, person.token, 'POST', `/v1/support/chats/${id}/transfer`, body);
    const cases: [Person, string, unknown, number, string][] = [
      [alice, connected.id, {}, 400, 'invalid_request'],
      [alice, connected.id, { operator_id: 'x' }, 400, 'invalid_request'],
      [alice, connected.id, { operator_id: una.actor.id, note: 'hi' }, 400, 'invalid_request'],
      [alice, connected.id, { operator_id: member.actor.id }, 400, 'not_an_operator'],
      [alice, connected.id, { operator_id: '4242' }, 404, 'operator_not_found'],
      [alice, connected.id, { operator_id: bob.actor.id }, 409, 'operator_not_in_department'],
      [alice, connected.id, { operator_id: alice.actor.id }, 409, 'already_attending'],
      [alice, connected.id, { department_id: '4242' }, 404, 'department_not_found'],
      [alice, connected.id, { department_id: billing.id }, 409, 'chat_not_waiting'],
      [una, connected.id, { operator_id: una.actor.id }, 403, 'not_chat_attender'],
      [alice, waiting.id, { department_id: sales.id }, 409, 'already_in_department'],
      [alice, waiting.id, { department_id: billing.id }, 409, 'visitor_has_open_chat'],
      [o.owner, waiting.id, { operator_id: una.actor.id }, 409, 'chat_not_connected'],
      [bob, waiting.id, { department_id: billing.id }, 403, 'not_in_department'],
      [james, waiting.id, { department_id: billing.id }, 403, 'operator_role_required'],
      [member, waiting.id, { department_id: billing.id }, 404, 'conversation_not_found'],
    ];
    for (const [person, id, body, status, code] of cases) {
      const res = await tr(person, id, body);
      assert.equal(res.status, status, `${person.actor.name} ${JSON.stringify(body)}`);
      assert.equal(res.body.error.code, code, `${person.actor.name} ${JSON.stringify(body)}`);
    }
    const c = (await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${connected.id}`)).body;
    assert.equal(c.attender.id, alice.actor.id);
    assert.equal(c.department.id, sales.id);
    const w = (await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${waiting.id}`)).body;
    assert.equal(w.department.id, sales.id);
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${other.id}`)).body.state,
      'waiting',
    );
  });
});

describe('end and missed', () => {
  test('the visitor or the attender ends a chat; ending twice is a conflict', async () => {
    const { o, alice, una, sales, billing, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    const refused = await call(t.app, una.token, 'POST', `/v1/support/chats/${chat.id}/end`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'not_chat_attender');
    t.clock.advance(60_000);
    const ended = await call(t.app, james.token, 'POST', `/v1/support/chats/${chat.id}/end`);
    assert.equal(ended.status, 200);
    assert.equal(ended.body.state, 'ended');
    assert.equal(ended.body.ended_at, new Date(t.clock.now()).toISOString());
    const twice = await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/end`);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'chat_not_open');
    assert.equal((await eventsOf(chat.id)).filter((e) => e.type === 'support.ended').length, 1);
    // A waiting chat is ended by staff of its department.
    const waiting = await startWaitingChat(t.ctx, o, james.actor, billing);
    assert.equal((await call(t.app, alice.token, 'POST', `/v1/support/chats/${waiting.id}/end`)).status, 403);
    assert.equal((await call(t.app, una.token, 'POST', `/v1/support/chats/${waiting.id}/end`)).status, 200);
  });

  test('a chat nobody picks up becomes missed after the org’s wait', async () => {
    const { o, alice, sales, billing, james } = await setup();
    const settings = await call(t.app, alice.token, 'GET', '/v1/support/settings');
    assert.deepEqual(settings.body, { recycle_bin_days: 90, missed_after_seconds: 180 });
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    t.clock.advance(179_999);
    await markMissedChats(t.ctx);
    assert.equal(
      (await call(t.app, alice.token, 'GET', `/v1/support/chats/${chat.id}`)).body.state,
      'waiting',
    );
    t.clock.advance(1);
    assert.ok((await markMissedChats(t.ctx)) >= 1);
    const missed = (await call(t.app, alice.token, 'GET', `/v1/support/chats/${chat.id}`)).body;
    assert.equal(missed.state, 'missed');
    assert.equal(missed.missed_at, new Date(t.clock.now()).toISOString());
    const late = await call(t.app, alice.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'chat_not_waiting');
    assert.equal((await eventsOf(chat.id)).filter((e) => e.type === 'support.missed').length, 1);
    // The visitor may ask again; a shorter wait applies from now on.
    const shorter = await call(t.app, o.owner.token, 'PATCH', '/v1/support/settings', {
      missed_after_seconds: 30,
    });
    assert.deepEqual(shorter.body, { recycle_bin_days: 90, missed_after_seconds: 30 });
    const again = await startWaitingChat(t.ctx, o, james.actor, sales);
    const picked = await startWaitingChat(t.ctx, o, james.actor, billing);
    await call(t.app, o.owner.token, 'POST', `/v1/support/chats/${picked.id}/pickup`);
    t.clock.advance(30_000);
    await markMissedChats(t.ctx, { chunk: 1 });
    assert.equal(
      (await call(t.app, alice.token, 'GET', `/v1/support/chats/${again.id}`)).body.state,
      'missed',
    );
    assert.equal(
      (await call(t.app, alice.token, 'GET', `/v1/support/chats/${picked.id}`)).body.state,
      'connected',
    );
  });

  test('settings: admins only, values in range', async () => {
    const { o, alice } = await setup();
    const byOperator = await call(t.app, alice.token, 'PATCH', '/v1/support/settings', {
      recycle_bin_days: 5,
    });
    assert.equal(byOperator.status, 403);
    assert.equal(byOperator.body.error.code, 'admin_role_required');
    for (const body of [
      {},
      { recycle_bin_days: 0 },
      { recycle_bin_days: 3651 },
      { recycle_bin_days: 1.5 },
      { missed_after_seconds: 9 },
      { missed_after_seconds: '60' },
      { retention: 5 },
    ]) {
      const res = await call(t.app, o.owner.token, 'PATCH', '/v1/support/settings', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.deepEqual((await call(t.app, alice.token, 'GET', '/v1/support/settings')).body, {
      recycle_bin_days: 90,
      missed_after_seconds: 180,
    });
  });
});

describe('reading support chats', () => {
  test('staff and the chat’s visitor read it; nobody else sees it', async () => {
    const { o, bob, sales, james } = await setup();
    const chat = await startWaitingChat(t.ctx, o, james.actor, sales);
    const url = `/v1/support/chats/${chat.id}`;
    assert.equal(
      (await call(t.app, bob.token, 'GET', url)).status,
      200,
      'staff of another department still see it',
    );
    assert.equal((await call(t.app, james.token, 'GET', url)).status, 200);
    const other: TestOrg = await makeOrg(t.ctx);
    for (const person of [await o.user('member'), await o.visitor(), other.owner]) {
      const res = await call(t.app, person.token, 'GET', url);
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'conversation_not_found');
    }
  });
});
