import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '../../support/app.ts';
import { makeDepartment, makeOrg, startWaitingChat } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

/**
 * The owner-access rule (src/domain/policies/access.ts), on every read path: the org's staff
 * read support chats without being members, on the support API and on the conversation reads
 * alike; nobody, owners included, reads a team conversation they are not a member of.
 */

const t = useTestApp();

const READS = (id: string) => [
  `/v1/conversations/${id}`,
  `/v1/conversations/${id}/messages`,
  `/v1/conversations/${id}/pin`,
];

test('staff read a support chat they are not in on every path; members and other orgs do not', async () => {
  const o = await makeOrg(t.ctx);
  const admin = await o.user('admin');
  const operator = await o.user('operator');
  const member = await o.user('member');
  const visitor = await o.visitor();
  const other = await makeOrg(t.ctx);
  const dept = await makeDepartment(t.ctx, o, 'Help', [operator.actor]);
  const chat = await startWaitingChat(t.ctx, o, visitor.actor, dept, 'Where is my parcel?');

  for (const who of [o.owner, admin, operator]) {
    const support = await call(t.app, who.token, 'GET', `/v1/support/chats/${chat.id}`);
    assert.equal(support.status, 200, support.raw);
    const conv = await call(t.app, who.token, 'GET', `/v1/conversations/${chat.id}`);
    assert.equal(conv.status, 200, conv.raw);
    assert.equal(conv.body.kind, 'support');
    assert.equal(conv.body.me, null, 'a reader who is not a member has no member state');
    assert.equal(conv.body.unread_count, 0);
    const messages = await call(t.app, who.token, 'GET', `/v1/conversations/${chat.id}/messages`);
    assert.equal(messages.status, 200, messages.raw);
    assert.ok(messages.body.items.some((m: { text: string }) => m.text === 'Where is my parcel?'));
    // No pin: the conversation is found, the pin is not.
    const pin = await call(t.app, who.token, 'GET', `/v1/conversations/${chat.id}/pin`);
    assert.equal(pin.status, 404);
    assert.equal(pin.body.error.code, 'pin_not_found');
    // Reading is not writing: sending takes membership (picking the chat up).
    const send = await call(t.app, who.token, 'POST', `/v1/conversations/${chat.id}/messages`, { text: 'x' });
    assert.equal(send.status, 404, send.raw);
  }
  // The visitor is a member of their own chat.
  assert.equal((await call(t.app, visitor.token, 'GET', `/v1/conversations/${chat.id}`)).status, 200);
  // A plain member, another visitor and another org's owner see nothing, on either path.
  const stranger = await o.visitor();
  for (const who of [member, stranger, other.owner]) {
    assert.equal((await call(t.app, who.token, 'GET', `/v1/support/chats/${chat.id}`)).status, 404);
    for (const url of READS(chat.id)) {
      const res = await call(t.app, who.token, 'GET', url);
      assert.equal(res.status, 404, `${url}: ${res.raw}`);
      assert.equal(res.body.error.code, 'conversation_not_found');
    }
  }
});

test('owners and admins get no implicit access to team conversations', async () => {
  const o = await makeOrg(t.ctx);
  const admin = await o.user('admin');
  const a = await o.user('member');
  const b = await o.user('member');
  const group = await call(t.app, a.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'private',
    member_ids: [b.actor.id],
  });
  assert.equal(group.status, 201, group.raw);
  await call(t.app, a.token, 'POST', `/v1/conversations/${group.body.id}/messages`, { text: 'secret' });
  for (const who of [o.owner, admin]) {
    for (const url of READS(group.body.id)) {
      const res = await call(t.app, who.token, 'GET', url);
      assert.equal(res.status, 404, `${url}: ${res.raw}`);
      assert.doesNotMatch(res.raw, /secret|private/);
    }
    assert.equal((await call(t.app, who.token, 'GET', `/v1/support/chats/${group.body.id}`)).status, 404);
  }
  assert.equal((await call(t.app, b.token, 'GET', `/v1/conversations/${group.body.id}`)).status, 200);
});
