import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { purgeExpired } from '../../../src/services/recycle-bin.ts';
import { markMissedChats } from '../../../src/services/support.ts';
import { call } from '../../support/app.ts';
import { testDialect } from '../../support/db.ts';
import {
  closeAfterConcurrency,
  makeDepartment,
  makeOrg,
  type Person,
  startWaitingChat,
} from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp({}, { close: closeAfterConcurrency });

const DAY = 24 * 60 * 60 * 1000;

async function setup() {
  const o = await makeOrg(t.ctx);
  const alice = await o.user('operator', 'Alice');
  const bob = await o.user('operator', 'Bob');
  const sales = await makeDepartment(t.ctx, o, 'Sales');
  const james = await o.visitor('James');
  /** A chat `op` picked up and then ended (or left waiting / connected), with a reply in it. */
  const chat = async (state: 'ended' | 'connected' | 'waiting' | 'missed' = 'ended', op: Person = alice) => {
    const visitor = await o.visitor();
    const c = await startWaitingChat(t.ctx, o, visitor.actor, sales, `question ${c_n++}`);
    if (state === 'waiting') return c.id;
    if (state === 'missed') {
      t.clock.advance(181_000);
      await markMissedChats(t.ctx);
      return c.id;
    }
    assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${c.id}/pickup`)).status, 200);
    await call(t.app, op.token, 'POST', `/v1/conversations/${c.id}/messages`, { text: `reply ${c_n++}` });
    if (state === 'ended')
      assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${c.id}/end`)).status, 200);
    return c.id;
  };
  return { o, alice, bob, sales, james, chat };
}
let c_n = 0;

const del = (person: Person, ids: unknown[], extra: Record<string, unknown> = {}) =>
  call(t.app, person.token, 'POST', '/v1/conversations/delete', { ids, ...extra });

describe('deleting to the recycle bin', () => {
  test('a binned conversation disappears from every list and read, and comes back on restore', async () => {
    const { o, alice, sales, james } = await setup();
    const c = await startWaitingChat(t.ctx, o, james.actor, sales);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${c.id}/pickup`);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${c.id}/end`);
    const lists = async (person: Person) =>
      (await call(t.app, person.token, 'GET', '/v1/conversations')).body.items.map((x: any) => x.id);
    assert.deepEqual(await lists(james), [c.id]);
    assert.deepEqual(await lists(alice), [c.id]);

    const res = await del(alice, [c.id]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      items: [{ id: c.id, result: 'done', code: null, message: null }],
      done: 1,
      refused: 0,
    });
    for (const person of [james, alice, o.owner]) {
      assert.deepEqual(await lists(person), []);
      for (const url of [
        `/v1/conversations/${c.id}`,
        `/v1/conversations/${c.id}/messages`,
        `/v1/conversations/${c.id}/members`,
        `/v1/support/chats/${c.id}`,
      ]) {
        const got = await call(t.app, person.token, 'GET', url);
        assert.equal(got.status, 404, `${person.actor.name} ${url}`);
        assert.equal(got.body.error.code, 'conversation_not_found');
      }
      const send = await call(t.app, person.token, 'POST', `/v1/conversations/${c.id}/messages`, {
        text: 'x',
      });
      assert.equal(send.status, 404);
    }
    const again = await del(alice, [c.id]);
    assert.equal(again.body.items[0].code, 'conversation_not_found');

    const bin = await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin');
    assert.equal(bin.status, 200);
    assert.equal(bin.body.items.length, 1);
    const item = bin.body.items[0];
    assert.equal(item.id, c.id);
    assert.equal(item.state, 'ended');
    assert.deepEqual(item.deleted_by, { id: alice.actor.id, name: 'Alice' });
    assert.equal(item.deleted_at, new Date(t.clock.now()).toISOString());
    assert.equal(item.purge_at, new Date(t.clock.now() + 90 * DAY).toISOString());

    const restored = await call(t.app, o.owner.token, 'POST', '/v1/recycle-bin/restore', { ids: [c.id] });
    assert.deepEqual(restored.body.items, [{ id: c.id, result: 'done', code: null, message: null }]);
    assert.deepEqual(await lists(james), [c.id]);
    assert.equal((await call(t.app, alice.token, 'GET', `/v1/conversations/${c.id}/messages`)).status, 200);
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items.length, 0);

    const audit = await call(t.app, o.owner.token, 'GET', `/v1/audit-events?target_id=${c.id}`);
    assert.deepEqual(
      audit.body.items.map((e: any) => [e.action, e.actor_id]),
      [
        ['conversation.restored', o.owner.actor.id],
        ['conversation.deleted', alice.actor.id],
        ['support.ended', alice.actor.id],
        ['support.picked_up', alice.actor.id],
      ],
    );
    const events = await t.ctx.db
      .selectFrom('event')
      .select(['type', 'recipients'])
      .where('conversation_id', '=', c.id)
      .execute();
    const deleted = events.find((e) => e.type === 'support.deleted')!;
    assert.ok(JSON.parse(deleted.recipients).includes(james.actor.id));
    assert.ok(events.some((e) => e.type === 'support.restored'));
  });

  test('per id: closed chats go, everything else is refused with a reason and left alone', async () => {
    const { o, alice, bob, james, chat } = await setup();
    const ended = await chat('ended');
    const missed = await chat('missed');
    const waiting = await chat('waiting');
    const connected = await chat('connected');
    const bobs = await chat('ended', bob);
    const group = await call(t.app, alice.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'team',
    });
    const hidden = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'admins',
    });
    const other = await makeOrg(t.ctx);
    const foreignGroup = await call(t.app, other.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'x',
    });
    const res = await del(alice, [
      ended,
      missed,
      waiting,
      connected,
      bobs,
      group.body.id,
      hidden.body.id,
      foreignGroup.body.id,
      '12345',
      ended,
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.map((i: any) => [i.id, i.result, i.code]),
      [
        [ended, 'done', null],
        [missed, 'refused', 'not_chat_owner'],
        [waiting, 'refused', 'chat_not_closed'],
        [connected, 'refused', 'chat_not_closed'],
        [bobs, 'refused', 'not_chat_owner'],
        [group.body.id, 'refused', 'not_a_support_chat'],
        [hidden.body.id, 'refused', 'conversation_not_found'],
        [foreignGroup.body.id, 'refused', 'conversation_not_found'],
        ['12345', 'refused', 'conversation_not_found'],
      ],
    );
    assert.deepEqual([res.body.done, res.body.refused], [1, 8]);
    // An admin may delete any closed chat; a visitor none.
    const byVisitor = await del(james, [bobs]);
    assert.equal(byVisitor.body.items[0].code, 'conversation_not_found', 'not their chat: not visible');
    const admin = await del(o.owner, [missed, bobs]);
    assert.deepEqual(
      admin.body.items.map((i: any) => i.result),
      ['done', 'done'],
    );
    // The refused ones are untouched.
    for (const [id, state] of [
      [waiting, 'waiting'],
      [connected, 'connected'],
    ]) {
      const got = await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${id}`);
      assert.equal(got.body.state, state);
    }
    assert.equal((await call(t.app, alice.token, 'GET', `/v1/conversations/${group.body.id}`)).status, 200);
  });

  test('the channel filter and the visitor’s own chats', async () => {
    const { o, alice, sales, chat } = await setup();
    const web = await chat('ended');
    const mobile = await o.visitor('Mo');
    const started = await call(t.app, alice.token, 'POST', '/v1/support/chats', {
      department_id: sales.id,
      question: 'from the app',
      visitor_id: mobile.actor.id,
      channel: 'android',
    });
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${started.body.id}/pickup`);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${started.body.id}/end`);
    const res = await del(alice, [web, started.body.id], { channel: 'android' });
    assert.deepEqual(
      res.body.items.map((i: any) => [i.result, i.code]),
      [
        ['refused', 'channel_mismatch'],
        ['done', null],
      ],
    );
    const own = await del(mobile, [started.body.id]);
    assert.equal(own.body.items[0].code, 'conversation_not_found');
    const visitorWeb = await del(await o.visitor(), [web]);
    assert.equal(visitorWeb.body.items[0].code, 'conversation_not_found');
  });

  test('bad requests: 400 naming the field, and nothing deleted', async () => {
    const { o, alice, chat } = await setup();
    const ended = await chat('ended');
    const cases: unknown[] = [
      {},
      { ids: [] },
      { ids: 'all' },
      { ids: [ended, 'abc'] },
      { ids: [ended, -1] },
      { ids: [ended, 1.5] },
      { ids: [ended, '99999999999999999999'] },
      { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) },
      { ids: [ended], channel: 'fax' },
      { ids: [ended], force: true },
    ];
    for (const body of cases) {
      const res = await call(t.app, alice.token, 'POST', '/v1/conversations/delete', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
    }
    const named = await call(t.app, alice.token, 'POST', '/v1/conversations/delete', { ids: [ended, 'abc'] });
    assert.equal(named.body.error.details[0].path, 'body.ids.1');
    assert.equal((await call(t.app, null, 'POST', '/v1/conversations/delete', { ids: [ended] })).status, 401);
    const readOnly = await o.token(alice.actor, ['conversations:read', 'support:write']);
    assert.equal(
      (await call(t.app, readOnly, 'POST', '/v1/conversations/delete', { ids: [ended] })).status,
      403,
    );
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items.length, 0);
  });

  test('a large id sent as a JSON number keeps every digit', async () => {
    const { alice, chat } = await setup();
    const ended = await chat('ended');
    // 2^53 + 1: as a double it would be 2^53 and match nothing.
    const raw = `{"ids": [${ended}, 9007199254740993]}`;
    const res = await call(t.app, alice.token, 'POST', '/v1/conversations/delete', raw, {
      'content-type': 'application/json',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.map((i: any) => [i.id, i.result]),
      [
        [ended, 'done'],
        ['9007199254740993', 'refused'],
      ],
    );
  });
});

describe('the bin: list, restore, purge', () => {
  test('admins only; other orgs’ ids are not found', async () => {
    const { o, alice, chat } = await setup();
    const ended = await chat('ended');
    await del(alice, [ended]);
    const other = await makeOrg(t.ctx);
    for (const [method, url, body] of [
      ['GET', '/v1/recycle-bin', undefined],
      ['POST', '/v1/recycle-bin/restore', { ids: [ended] }],
      ['POST', '/v1/recycle-bin/purge', { ids: [ended] }],
      ['GET', '/v1/audit-events', undefined],
    ] as const) {
      const res = await call(t.app, alice.token, method, url, body);
      assert.equal(res.status, 403, url);
      assert.equal(res.body.error.code, 'admin_role_required');
    }
    for (const url of ['/v1/recycle-bin/restore', '/v1/recycle-bin/purge']) {
      const res = await call(t.app, other.owner.token, 'POST', url, { ids: [ended] });
      assert.deepEqual(
        res.body.items.map((i: any) => i.code),
        ['conversation_not_found'],
      );
      assert.equal((await call(t.app, o.owner.token, 'POST', url, { ids: [] })).status, 400);
      assert.equal((await call(t.app, o.owner.token, 'POST', url, { ids: ['x'] })).status, 400);
    }
    assert.equal((await call(t.app, other.owner.token, 'GET', '/v1/recycle-bin')).body.items.length, 0);
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items.length, 1);
    const notBinned = await chat('ended');
    const restore = await call(t.app, o.owner.token, 'POST', '/v1/recycle-bin/restore', { ids: [notBinned] });
    assert.equal(restore.body.items[0].code, 'conversation_not_found');
    const purge = await call(t.app, o.owner.token, 'POST', '/v1/recycle-bin/purge', { ids: [notBinned] });
    assert.equal(purge.body.items[0].code, 'conversation_not_found');
    assert.equal((await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${notBinned}`)).status, 200);
  });

  test('list pages, newest deletion first', async () => {
    const { o, alice, chat } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await chat('ended');
      await del(alice, [id]);
      ids.push(id);
      t.clock.advance(1000);
    }
    const first = await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin?limit=2');
    const second = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/recycle-bin?limit=2&cursor=${first.body.next_cursor}`,
    );
    assert.deepEqual(
      [...first.body.items, ...second.body.items].map((i: any) => i.id),
      [...ids].reverse(),
    );
    assert.equal(second.body.next_cursor, null);
    const audit = await call(
      t.app,
      o.owner.token,
      'GET',
      '/v1/audit-events?action=conversation.deleted&limit=2',
    );
    assert.equal(audit.body.items.length, 2);
    const more = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/audit-events?action=conversation.deleted&cursor=${audit.body.next_cursor}`,
    );
    assert.equal(more.body.items.length, 1);
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/audit-events?action=nope')).status, 400);
  });

  test('purge leaves nothing of the conversation in any table but the audit log', async () => {
    const { o, alice, sales, james } = await setup();
    const marker = `purge-marker-${Date.now()}`;
    const c = await startWaitingChat(t.ctx, o, james.actor, sales, `${marker} question`);
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${c.id}/pickup`);
    const m1 = await call(t.app, alice.token, 'POST', `/v1/conversations/${c.id}/messages`, {
      text: `${marker} 1`,
    });
    const m2 = await call(t.app, james.token, 'POST', `/v1/conversations/${c.id}/messages`, {
      text: `${marker} 2`,
      reply_to: m1.body.id,
    });
    assert.equal(m1.status, 201, m1.raw);
    assert.equal(m2.status, 201, m2.raw);
    await call(t.app, alice.token, 'PUT', `/v1/conversations/${c.id}/pin`, { message_id: m2.body.id });
    await call(t.app, james.token, 'PUT', `/v1/conversations/${c.id}/draft`, { text: `${marker} draft` });
    await call(t.app, alice.token, 'POST', `/v1/support/chats/${c.id}/end`);
    const messageIds = (
      await t.ctx.db.selectFrom('message').select('id').where('conversation_id', '=', c.id).execute()
    ).map((r) => String(r.id));
    assert.equal(messageIds.length, 3);
    await del(alice, [c.id]);
    const purged = await call(t.app, o.owner.token, 'POST', '/v1/recycle-bin/purge', { ids: [c.id] });
    assert.deepEqual(purged.body.items, [{ id: c.id, result: 'done', code: null, message: null }]);

    const tables =
      testDialect === 'postgres'
        ? (
            await sql<{ name: string }>`select table_name as name from information_schema.tables
              where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(t.ctx.db)
          ).rows
        : (
            await sql<{ name: string }>`select name from sqlite_master where type = 'table'
              and name not like 'sqlite_%'`.execute(t.ctx.db)
          ).rows;
    const names = tables.map((r) => r.name).filter((n) => !n.startsWith('kysely_'));
    for (const expected of [
      'conversation',
      'membership',
      'message',
      'sticky_message',
      'event',
      'audit_event',
    ])
      assert.ok(names.includes(expected), `${expected} is among ${names}`);
    const needles = [c.id, ...messageIds, marker];
    let auditRows = 0;
    for (const table of names) {
      const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(t.ctx.db))
        .rows;
      for (const row of rows) {
        const text = JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
        const found = needles.filter((n) => text.includes(n));
        if (found.length === 0) continue;
        assert.equal(table, 'audit_event', `${table} still holds ${found.join(', ')}: ${text.slice(0, 200)}`);
        auditRows++;
      }
    }
    const audit = await call(t.app, o.owner.token, 'GET', `/v1/audit-events?target_id=${c.id}`);
    assert.equal(auditRows, audit.body.items.length);
    assert.deepEqual(audit.body.items.map((e: any) => [e.action, e.actor_id]).slice(0, 2), [
      ['conversation.purged', o.owner.actor.id],
      ['conversation.deleted', alice.actor.id],
    ]);
    assert.equal(audit.body.items[0].details.reason, 'admin');
    // Gone for good: not in the bin, not restorable, not readable.
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items.length, 0);
    const restore = await call(t.app, o.owner.token, 'POST', '/v1/recycle-bin/restore', { ids: [c.id] });
    assert.equal(restore.body.items[0].code, 'conversation_not_found');
    assert.deepEqual((await call(t.app, james.token, 'GET', '/v1/conversations')).body.items, []);
  });
});

describe('retention', () => {
  test('binned chats are purged after the org’s retention (90 days by default), not before', async () => {
    const { o, alice, chat } = await setup();
    const first = await chat('ended');
    await del(alice, [first]);
    t.clock.advance(90 * DAY - 1);
    await purgeExpired(t.ctx);
    assert.deepEqual(
      (await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items.map((i: any) => i.id),
      [first],
    );
    t.clock.advance(1);
    // Due now: no longer listed or restorable even before the job runs...
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items.length, 0);
    const late = await call(t.app, o.owner.token, 'POST', '/v1/recycle-bin/restore', { ids: [first] });
    assert.equal(late.body.items[0].code, 'conversation_not_found');
    // ...and the job removes it.
    assert.ok((await purgeExpired(t.ctx)) >= 1);
    assert.equal(
      await t.ctx.db.selectFrom('conversation').select('id').where('id', '=', first).executeTakeFirst(),
      undefined,
    );
    assert.equal(
      await t.ctx.db
        .selectFrom('message')
        .select('id')
        .where('conversation_id', '=', first)
        .executeTakeFirst(),
      undefined,
    );
    const audit = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/audit-events?target_id=${first}&action=conversation.purged`,
    );
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].actor_id, null);
    assert.equal(audit.body.items[0].details.reason, 'retention');
  });

  test('a shorter retention applies to what is already in the bin; the job works in chunks', async () => {
    const { o, alice, chat } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await chat('ended'));
    const res = await del(alice, ids);
    assert.equal(res.body.done, 5);
    const changed = await call(t.app, o.owner.token, 'PATCH', '/v1/support/settings', {
      recycle_bin_days: 2,
    });
    assert.equal(changed.body.recycle_bin_days, 2);
    const bin = await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin');
    assert.equal(bin.body.items[0].purge_at, new Date(t.clock.now() + 2 * DAY).toISOString());
    t.clock.advance(2 * DAY);
    assert.ok((await purgeExpired(t.ctx, { chunk: 2 })) >= 5);
    const left = await t.ctx.db.selectFrom('conversation').select('id').where('id', 'in', ids).execute();
    assert.deepEqual(left, []);
    // A newly deleted chat gets the new retention too.
    const next = await chat('ended');
    await del(alice, [next]);
    const item = (await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items[0];
    assert.equal(item.purge_at, new Date(t.clock.now() + 2 * DAY).toISOString());
  });

  test('the purge job yields to live requests between chunks', async () => {
    const { o, alice, chat } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await chat('ended'));
    await del(alice, ids);
    t.clock.advance(91 * DAY);
    let purgeDone = false;
    const job = purgeExpired(t.ctx, { chunk: 1 }).then((n) => {
      purgeDone = true;
      return n;
    });
    const live = await call(t.app, o.owner.token, 'GET', '/v1/me');
    assert.equal(live.status, 200);
    assert.equal(purgeDone, false, 'a request was served while the purge was still running');
    assert.ok((await job) >= 12);
  });
});
