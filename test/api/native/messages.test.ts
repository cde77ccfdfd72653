import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Scope } from '../../../src/domain/scopes.ts';
import { call } from '../../support/app.ts';
import { makeOrg, orgWithGroup } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp();

const setup = () => orgWithGroup(t);

describe('POST /v1/conversations/:id/messages', () => {
  test('stores the message, bumps unread for others and clears the sender draft', async () => {
    const { o, bob, id } = await setup();
    await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${id}/draft`, { text: 'typing…' });
    const res = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'hello',
      metadata: { k: 1 },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.text, 'hello');
    assert.equal(res.body.type, 'text');
    assert.deepEqual(res.body.metadata, { k: 1 });
    assert.equal(res.body.sender_id, o.owner.actor.id);
    const mine = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(mine.body.unread_count, 0);
    assert.equal(mine.body.me.draft, null);
    assert.equal(mine.body.me.read_message_id, res.body.id);
    const bobs = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(bobs.body.unread_count, 1);
    assert.equal(bobs.body.last_message.id, res.body.id);
  });

  test('a retry with the same client id or Idempotency-Key returns the same message', async () => {
    const { o, bob, id } = await setup();
    const first = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'once',
      client_id: 'c-1',
    });
    const retry = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'once',
      client_id: 'c-1',
    });
    assert.equal(first.status, 201);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.id, first.body.id);
    const k1 = await call(
      t.app,
      o.owner.token,
      'POST',
      `/v1/conversations/${id}/messages`,
      { text: 'k' },
      { 'idempotency-key': 'key-9' },
    );
    const k2 = await call(
      t.app,
      o.owner.token,
      'POST',
      `/v1/conversations/${id}/messages`,
      { text: 'k' },
      { 'idempotency-key': 'key-9' },
    );
    assert.equal(k2.body.id, k1.body.id);
    const parallel = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
          text: 'p',
          client_id: 'par',
        }),
      ),
    );
    assert.equal(new Set(parallel.map((r) => r.body.id)).size, 1);
    const history = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/messages`);
    assert.equal(history.body.items.length, 3);
    const bobs = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`);
    assert.equal(bobs.body.unread_count, 3);
    const reused = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'other',
      client_id: 'c-1',
    });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.error.code, 'idempotency_key_reused');
    const mismatch = await call(
      t.app,
      o.owner.token,
      'POST',
      `/v1/conversations/${id}/messages`,
      { text: 'x', client_id: 'a' },
      { 'idempotency-key': 'b' },
    );
    assert.equal(mismatch.status, 400);
  });

  test('replies must point into the same conversation', async () => {
    const { o, id } = await setup();
    const other = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'o',
    });
    const m = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${other.body.id}/messages`, {
      text: 'there',
    });
    const bad = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 're',
      reply_to: m.body.id,
    });
    assert.equal(bad.status, 404);
    assert.equal(bad.body.error.code, 'reply_to_not_found');
    const parent = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'q',
    });
    const reply = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'a',
      reply_to: parent.body.id,
    });
    assert.equal(reply.status, 201);
    assert.equal(reply.body.reply_to_id, parent.body.id);
  });

  test('bad inputs answer 400 and send nothing; outsiders and missing scope are refused', async () => {
    const { o, bob, id } = await setup();
    const outsider = await o.user();
    const other = await makeOrg(t.ctx);
    for (const body of [
      {},
      { text: '' },
      { text: 5 },
      { text: 'x'.repeat(10_001) },
      { text: 'x', type: 'Bad Type' },
      { text: 'x', metadata: 'no' },
      { text: 'x', reply_to: 'abc' },
      { text: 'x', client_id: 'has space' },
      { text: 'x', nope: 1 },
      { text: 'x', metadata: { big: 'y'.repeat(9000) } },
    ]) {
      const res = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.ok(res.body.error.details[0].path.startsWith('body'), JSON.stringify(res.body));
    }
    assert.equal(
      (await call(t.app, outsider.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'x' })).status,
      404,
    );
    assert.equal(
      (await call(t.app, other.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'x' }))
        .status,
      404,
    );
    const readOnly = await o.token(
      bob.actor,
      Scope.filter((s) => s !== 'messages:write'),
    );
    const noScope = await call(t.app, readOnly, 'POST', `/v1/conversations/${id}/messages`, { text: 'x' });
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body.error.code, 'insufficient_scope');
    const history = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/messages`);
    assert.equal(history.body.items.length, 0);
  });
});

describe('GET /v1/conversations/:id/messages', () => {
  test('newest first, scroll back by cursor or before, catch up with after', async () => {
    const { o, id } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        (await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: `m${i}` })).body
          .id,
      );
    }
    const p1 = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/messages?limit=3`);
    assert.deepEqual(
      p1.body.items.map((m: { id: string }) => m.id),
      [ids[6], ids[5], ids[4]],
    );
    const p2 = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages?limit=3&cursor=${p1.body.next_cursor}`,
    );
    assert.deepEqual(
      p2.body.items.map((m: { id: string }) => m.id),
      [ids[3], ids[2], ids[1]],
    );
    const p3 = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages?limit=3&cursor=${p2.body.next_cursor}`,
    );
    assert.deepEqual(
      p3.body.items.map((m: { id: string }) => m.id),
      [ids[0]],
    );
    assert.equal(p3.body.next_cursor, null);
    const before = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages?before=${ids[2]}`,
    );
    assert.deepEqual(
      before.body.items.map((m: { id: string }) => m.id),
      [ids[1], ids[0]],
    );
    const afterRes = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages?after=${ids[3]}&limit=2`,
    );
    assert.deepEqual(
      afterRes.body.items.map((m: { id: string }) => m.id),
      [ids[4], ids[5]],
    );
    const next = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages?limit=2&cursor=${afterRes.body.next_cursor}`,
    );
    assert.deepEqual(
      next.body.items.map((m: { id: string }) => m.id),
      [ids[6]],
    );
    for (const q of [
      'limit=0',
      'limit=101',
      'before=x',
      'cursor=zzz',
      `cursor=${p1.body.next_cursor}&before=${ids[1]}`,
    ]) {
      assert.equal(
        (await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/messages?${q}`)).status,
        400,
        q,
      );
    }
    // A cursor of another list: the owner's conversations, two of them at one a page.
    const second = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'h',
    });
    assert.equal(second.status, 201, second.raw);
    const foreignCursor = (await call(t.app, o.owner.token, 'GET', '/v1/conversations?limit=1')).body
      .next_cursor;
    assert.ok(foreignCursor, 'the conversation list gives a cursor to its second page');
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/messages?cursor=${foreignCursor}`))
        .status,
      400,
    );
  });
});

describe('PATCH and DELETE /v1/conversations/:id/messages/:messageId', () => {
  test('only the sender edits; sender or conversation admin deletes for everyone', async () => {
    const { o, bob, id } = await setup();
    const m = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'v1' });
    const edited = await call(t.app, bob.token, 'PATCH', `/v1/conversations/${id}/messages/${m.body.id}`, {
      text: 'v2',
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.text, 'v2');
    assert.ok(edited.body.edited_at);
    const notMine = await call(
      t.app,
      o.owner.token,
      'PATCH',
      `/v1/conversations/${id}/messages/${m.body.id}`,
      { text: 'hack' },
    );
    assert.equal(notMine.status, 403);
    assert.equal(notMine.body.error.code, 'not_message_sender');
    const m2 = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: 'owner says',
    });
    const bobDeletes = await call(
      t.app,
      bob.token,
      'DELETE',
      `/v1/conversations/${id}/messages/${m2.body.id}`,
    );
    assert.equal(bobDeletes.status, 403);
    const ownerDeletes = await call(
      t.app,
      o.owner.token,
      'DELETE',
      `/v1/conversations/${id}/messages/${m.body.id}`,
    );
    assert.equal(ownerDeletes.status, 200);
    assert.equal(ownerDeletes.body.deleted, true);
    assert.equal(ownerDeletes.body.text, null);
    const editDeleted = await call(
      t.app,
      bob.token,
      'PATCH',
      `/v1/conversations/${id}/messages/${m.body.id}`,
      { text: 'back' },
    );
    assert.equal(editDeleted.status, 409);
    assert.equal(editDeleted.body.error.code, 'message_deleted');
    const history = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/messages`);
    const tomb = history.body.items.find((x: { id: string }) => x.id === m.body.id);
    assert.equal(tomb.deleted, true);
    assert.equal(tomb.text, null);
    assert.equal(
      (await call(t.app, bob.token, 'DELETE', `/v1/conversations/${id}/messages/999999`)).status,
      404,
    );
    assert.equal(
      (await call(t.app, bob.token, 'PATCH', `/v1/conversations/${id}/messages/${m2.body.id}`, { text: '' }))
        .status,
      400,
    );
  });

  test('deleting an unread message takes it out of the unread count', async () => {
    const { o, bob, id } = await setup();
    const m = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'oops' });
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).body.unread_count, 1);
    await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/messages/${m.body.id}`);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${id}`)).body.unread_count, 0);
  });
});
