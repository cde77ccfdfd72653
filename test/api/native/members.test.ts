import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call } from '../../support/app.ts';
import { makeOrg } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp();

describe('members', () => {
  test('list with fields projection; unknown fields are refused', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user('member', 'Bob');
    const c = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      member_ids: [bob.actor.id],
    });
    const full = await call(t.app, bob.token, 'GET', `/v1/conversations/${c.body.id}/members`);
    assert.equal(full.status, 200);
    assert.equal(full.body.items.length, 2);
    const b = full.body.items.find((m: { id: string }) => m.id === bob.actor.id);
    assert.deepEqual(Object.keys(b).sort(), [
      'email',
      'external_id',
      'id',
      'joined_at',
      'kind',
      'name',
      'role',
    ]);
    const slim = await call(
      t.app,
      bob.token,
      'GET',
      `/v1/conversations/${c.body.id}/members?fields=name,email`,
    );
    assert.deepEqual(
      slim.body.items.map((m: object) => Object.keys(m).sort()),
      [
        ['email', 'name'],
        ['email', 'name'],
      ],
    );
    for (const f of ['password', '', 'name,,nope']) {
      const bad = await call(t.app, bob.token, 'GET', `/v1/conversations/${c.body.id}/members?fields=${f}`);
      assert.equal(bad.status, 400, f);
      assert.equal(bad.body.error.details[0].path, 'query.fields');
    }
    const paged = await call(t.app, bob.token, 'GET', `/v1/conversations/${c.body.id}/members?limit=1`);
    const rest = await call(
      t.app,
      bob.token,
      'GET',
      `/v1/conversations/${c.body.id}/members?limit=1&cursor=${paged.body.next_cursor}`,
    );
    assert.notEqual(rest.body.items[0].id, paged.body.items[0].id);
    assert.equal(rest.body.next_cursor, null);
  });

  test('add, remove and leave change the participant count; direct chats cannot be left', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const carl = await o.user();
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      member_ids: [bob.actor.id],
    });
    const id = g.body.id;
    assert.equal(
      (
        await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/members`, {
          actor_ids: [carl.actor.id],
        })
      ).status,
      204,
    );
    assert.equal((await call(t.app, carl.token, 'GET', `/v1/conversations/${id}`)).body.participant_count, 3);
    // adding again is a no-op
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/members`, { actor_ids: [carl.actor.id] });
    assert.equal((await call(t.app, carl.token, 'GET', `/v1/conversations/${id}`)).body.participant_count, 3);
    // a plain member cannot remove others; the owner can
    const refused = await call(
      t.app,
      bob.token,
      'DELETE',
      `/v1/conversations/${id}/members/${carl.actor.id}`,
    );
    assert.equal(refused.status, 403);
    assert.equal(
      (await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/members/${carl.actor.id}`)).status,
      204,
    );
    assert.equal((await call(t.app, carl.token, 'GET', `/v1/conversations/${id}`)).status, 404);
    assert.equal(
      (await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/members/${carl.actor.id}`)).status,
      404,
    );
    // leaving
    assert.equal((await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/leave`)).status, 204);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).status, 404);
    assert.equal((await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/leave`)).status, 404);
    const list = await call(t.app, bob.token, 'GET', '/v1/conversations');
    assert.ok(!list.body.items.some((c: { id: string }) => c.id === id));
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`)).body.participant_count,
      1,
    );
    // rejoin
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/members`, {
      actor_ids: [bob.actor.id],
    });
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).status, 200);

    const d = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [bob.actor.id],
    });
    const leaveDirect = await call(t.app, bob.token, 'POST', `/v1/conversations/${d.body.id}/leave`);
    assert.equal(leaveDirect.status, 403);
    assert.equal(leaveDirect.body.error.code, 'cannot_leave_direct_chat');
    const addDirect = await call(t.app, bob.token, 'POST', `/v1/conversations/${d.body.id}/members`, {
      actor_ids: [carl.actor.id],
    });
    assert.equal(addDirect.status, 403);
  });

  test('when the owner leaves, the longest-standing member becomes owner', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const carl = await o.user();
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'channel',
      title: 'c',
      member_ids: [bob.actor.id],
    });
    t.clock.advance(1000);
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${g.body.id}/members`, {
      actor_ids: [carl.actor.id],
    });
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${g.body.id}/leave`);
    assert.equal(
      (await call(t.app, bob.token, 'GET', `/v1/conversations/${g.body.id}`)).body.me.role,
      'owner',
    );
    assert.equal(
      (await call(t.app, carl.token, 'GET', `/v1/conversations/${g.body.id}`)).body.me.role,
      'member',
    );
  });

  test('bad inputs: empty list, bad ids, other org actors', async () => {
    const o = await makeOrg(t.ctx);
    const other = await makeOrg(t.ctx);
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group' });
    for (const [body, status] of [
      [{}, 400],
      [{ actor_ids: [] }, 400],
      [{ actor_ids: ['x'] }, 400],
      [{ actor_ids: [other.owner.actor.id] }, 404],
    ] as const) {
      const res = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${g.body.id}/members`, body);
      assert.equal(res.status, status, JSON.stringify(body));
    }
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/conversations/${g.body.id}`)).body.participant_count,
      1,
    );
    assert.equal(
      (await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${g.body.id}/members/abc`)).status,
      400,
    );
  });
});
