import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call } from '../../support/app.ts';
import { orgWithGroup } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp();

const setup = () => orgWithGroup(t);

describe('mute / unmute', () => {
  test('mute until a time ends by itself; mute forever lasts until unmute', async () => {
    const { bob, id } = await setup();
    const until = t.clock.now() + 60_000;
    const m = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/mute`, { until });
    assert.equal(m.status, 200);
    assert.equal(m.body.muted, true);
    assert.equal(m.body.muted_until, until);
    t.clock.advance(60_001);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).body.muted, false);
    const forever = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/mute`);
    assert.equal(forever.body.muted_until, -1);
    t.clock.advance(10 * 365 * 86_400_000);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).body.muted, true);
    const un = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/unmute`);
    assert.equal(un.body.muted, false);
    assert.equal(un.body.muted_until, null);
  });

  test('mute is per member and bad times are refused', async () => {
    const { o, bob, id } = await setup();
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/mute`, {});
    assert.equal((await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`)).body.muted, false);
    for (const body of [
      { until: t.clock.now() - 1 },
      { until: -2 },
      { until: 'soon' },
      { until: 1.5 },
      { other: 1 },
    ]) {
      const res = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/mute`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error.details[0].path, /^body/);
    }
    assert.equal((await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`)).body.muted, false);
  });
});

describe('read position', () => {
  test('mark read to the latest or to a message; never moves backwards', async () => {
    const { o, bob, id } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: `${i}` })).body
          .id,
      );
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).body.unread_count, 4);
    const r1 = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: ids[1] });
    assert.equal(r1.status, 200);
    assert.equal(r1.body.unread_count, 2);
    assert.equal(r1.body.read_message_id, ids[1]);
    const back = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: ids[0] });
    assert.equal(back.body.read_message_id, ids[1]);
    const all = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`);
    assert.equal(all.body.unread_count, 0);
    assert.equal(all.body.read_message_id, ids[3]);
    assert.equal(
      (await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: '42' })).status,
      404,
    );
    assert.equal(
      (await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: 'x' })).status,
      400,
    );
  });
});

describe('drafts, hide, pin in list', () => {
  test('draft set and clear', async () => {
    const { bob, id } = await setup();
    const set = await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/draft`, { text: 'later' });
    assert.equal(set.body.draft, 'later');
    const cleared = await call(t.app, bob.token, 'DELETE', `/v1/conversations/${id}/draft`);
    assert.equal(cleared.body.draft, null);
    assert.equal(
      (await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/draft`, { text: 1 })).status,
      400,
    );
    assert.equal(
      (await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/draft`, { text: 'x'.repeat(10_001) }))
        .status,
      400,
    );
  });

  test('hide for me: gone from my list only, back on new activity', async () => {
    const { o, bob, id } = await setup();
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/hide`);
    const bobIds = async () =>
      (await call(t.app, bob.token, 'GET', '/v1/conversations')).body.items.map((c: { id: string }) => c.id);
    assert.deepEqual(await bobIds(), []);
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/conversations')).body.items.length, 1);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).body.me.hidden, true);
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'ping' });
    assert.deepEqual(await bobIds(), [id]);
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/hide`);
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/unhide`);
    assert.deepEqual(await bobIds(), [id]);
  });

  test('pin in list is per member', async () => {
    const { o, bob, id } = await setup();
    const p = await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/pin-in-list`);
    assert.equal(p.body.pinned, true);
    assert.equal((await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`)).body.me.pinned, false);
    const u = await call(t.app, bob.token, 'DELETE', `/v1/conversations/${id}/pin-in-list`);
    assert.equal(u.body.pinned, false);
  });

  test('state routes 404 for outsiders and change nothing', async () => {
    const { o, id } = await setup();
    const outsider = await o.user();
    for (const [method, path] of [
      ['POST', 'mute'],
      ['POST', 'unmute'],
      ['POST', 'read'],
      ['DELETE', 'draft'],
      ['POST', 'hide'],
      ['PUT', 'pin-in-list'],
    ] as const) {
      const res = await call(t.app, outsider.token, method, `/v1/conversations/${id}/${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, 'conversation_not_found');
    }
  });
});
