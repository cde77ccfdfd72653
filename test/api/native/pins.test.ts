import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sweepExpiredPins } from '../../../src/services/pins.ts';
import { call } from '../../support/app.ts';
import { orgWithGroup } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp();

async function setup() {
  const { o, bob, id } = await orgWithGroup(t);
  const m = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/messages`, {
    text: 'meeting at 4',
  });
  return { o, bob, id, messageId: m.body.id as string };
}

describe('pins', () => {
  test('pin, read, replace and unpin', async () => {
    const { o, bob, id, messageId } = await setup();
    const pin = await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${id}/pin`, {
      message_id: messageId,
      notify: true,
    });
    assert.equal(pin.status, 200);
    assert.equal(pin.body.expiry_time, -1);
    assert.equal(pin.body.notify, true);
    assert.equal(pin.body.message.text, 'meeting at 4');
    assert.equal(pin.body.sender_name, 'Bob');
    assert.equal(pin.body.creator.id, o.owner.actor.id);
    const got = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/pin`);
    assert.equal(got.status, 200);
    assert.equal(got.body.message.id, messageId);
    const m2 = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'second' });
    await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/pin`, { message_id: m2.body.id });
    assert.equal(
      (await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/pin`)).body.message.id,
      m2.body.id,
    );
    assert.equal((await call(t.app, bob.token, 'DELETE', `/v1/conversations/${id}/pin`)).status, 204);
    const none = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/pin`);
    assert.equal(none.status, 404);
    assert.equal(none.body.error.code, 'pin_not_found');
    assert.equal((await call(t.app, bob.token, 'DELETE', `/v1/conversations/${id}/pin`)).status, 404);
  });

  test('a pin with an expiry disappears by itself', async () => {
    const { bob, id, messageId } = await setup();
    const expiry = t.clock.now() + 5_000;
    const pin = await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/pin`, {
      message_id: messageId,
      expiry_time: expiry,
    });
    assert.equal(pin.body.expiry_time, expiry);
    t.clock.advance(4_999);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/pin`)).status, 200);
    t.clock.advance(2);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/pin`)).status, 404);
    assert.ok((await sweepExpiredPins(t.ctx)) >= 1);
    const rows = await t.ctx.db
      .selectFrom('sticky_message')
      .selectAll()
      .where('conversation_id', '=', id)
      .execute();
    assert.equal(rows.length, 0);
  });

  test('deleting the pinned message removes the pin', async () => {
    const { bob, id, messageId } = await setup();
    await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/pin`, { message_id: messageId });
    await call(t.app, bob.token, 'DELETE', `/v1/conversations/${id}/messages/${messageId}`);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/pin`)).status, 404);
  });

  test('bad inputs: past expiry, unknown or foreign message, outsider', async () => {
    const { o, bob, id, messageId } = await setup();
    const other = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'other',
    });
    const foreign = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${other.body.id}/messages`, {
      text: 'x',
    });
    for (const [body, status] of [
      [{}, 400],
      [{ message_id: 'abc' }, 400],
      [{ message_id: messageId, expiry_time: t.clock.now() - 1 }, 400],
      [{ message_id: messageId, expiry_time: -5 }, 400],
      [{ message_id: messageId, notify: 'yes' }, 400],
      [{ message_id: '77777' }, 404],
      [{ message_id: foreign.body.id }, 404],
    ] as const) {
      const res = await call(t.app, bob.token, 'PUT', `/v1/conversations/${id}/pin`, body);
      assert.equal(res.status, status, JSON.stringify(body));
    }
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/pin`)).status, 404);
    const outsider = await o.user();
    assert.equal((await call(t.app, outsider.token, 'GET', `/v1/conversations/${id}/pin`)).status, 404);
    assert.equal(
      (await call(t.app, outsider.token, 'PUT', `/v1/conversations/${id}/pin`, { message_id: messageId }))
        .status,
      404,
    );
  });
});
