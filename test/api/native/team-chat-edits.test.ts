import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, call, type TestApp } from '../../support/app.ts';
import { orgWithGroup } from '../../support/factories.ts';
import { connectStream } from '../../support/stream.ts';

/**
 * Team chat (issue 18), edits and deletes: an edit re-resolves mentions; a reply deleted for
 * everyone no longer counts in its thread.
 */

let t: TestApp;
let base: string;
before(async () => {
  t = await buildTestApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await t.close();
});

const isEvent = (type: string) => (f: any) => f.type === 'event' && f.event === type;
const send = (token: string, id: string, body: Record<string, unknown>) =>
  call(t.app, token, 'POST', `/v1/conversations/${id}/messages`, body);
const edit = (token: string, id: string, messageId: string, text: unknown) =>
  call(t.app, token, 'PATCH', `/v1/conversations/${id}/messages/${messageId}`, { text });
const del = (token: string, id: string, messageId: string) =>
  call(t.app, token, 'DELETE', `/v1/conversations/${id}/messages/${messageId}`);
const conv = (token: string, id: string) => call(t.app, token, 'GET', `/v1/conversations/${id}`);
const one = (token: string, id: string, messageId: string) =>
  call(t.app, token, 'GET', `/v1/conversations/${id}/messages/${messageId}`);

describe('an edit re-resolves mentions', () => {
  test('new mentions count and notify, removed ones stop counting, the edited event carries them', async () => {
    const { o, bob, members, others, id } = await orgWithGroup(t, ['Bob', 'Cleo'], ['Xavier']);
    const cleo = members[1]!;
    const outsider = others[0]!;
    const m = await send(o.owner.token, id, { text: `hey <@${bob.actor.id}>` });
    assert.equal(m.status, 201, m.raw);
    assert.equal((await conv(bob.token, id)).body.mention_count, 1);
    assert.equal((await conv(cleo.token, id)).body.mention_count, 0);

    const sCleo = await connectStream(base, { token: cleo.token });
    await sCleo.next((f) => f.type === 'ready');
    const sBob = await connectStream(base, { token: bob.token });
    await sBob.next((f) => f.type === 'ready');
    // Bob out, Cleo in (and an outsider, who stays plain text).
    const e = await edit(o.owner.token, id, m.body.id, `hey <@${cleo.actor.id}> and <@${outsider.actor.id}>`);
    assert.equal(e.status, 200, e.raw);
    assert.deepEqual(e.body.mentions, [cleo.actor.id]);
    assert.equal(e.body.mentions_all, false);
    // As for a send, mention.created comes just before the message's own event.
    const mention = await sCleo.next(isEvent('mention.created'));
    assert.equal(mention.data.message_id, m.body.id);
    const edited = await sCleo.next(isEvent('message.edited'));
    assert.deepEqual(
      edited.data.message.mentions,
      [cleo.actor.id],
      'the edited event carries the new mentions',
    );
    assert.equal((await conv(cleo.token, id)).body.mention_count, 1);
    assert.equal((await conv(bob.token, id)).body.mention_count, 0, 'a removed mention stops counting');
    const bobList = await call(t.app, bob.token, 'GET', '/v1/conversations?has_mentions=true');
    assert.deepEqual(bobList.body.items, []);
    assert.deepEqual((await one(bob.token, id, m.body.id)).body.mentions, [cleo.actor.id]);

    // Editing the text around a mention kept: no second notification.
    const again = await edit(o.owner.token, id, m.body.id, `hello <@${cleo.actor.id}>`);
    assert.equal(again.status, 200, again.raw);
    await sCleo.next(isEvent('message.edited'));
    // @all added: Bob hears of it (as a member), the count moves for both.
    const all = await edit(o.owner.token, id, m.body.id, `hello <@${cleo.actor.id}> @all`);
    assert.equal(all.body.mentions_all, true);
    // (Bob may also get the first send's mention, committed just before his socket opened.)
    const bobMention = await sBob.next((f) => isEvent('mention.created')(f) && f.data.all === true);
    assert.equal(bobMention.data.message_id, m.body.id);
    // Cleo hears of the @all too, and was never told twice of the kept <@cleo>: two
    // mention.created in all (counted by seq), the edit's first one and the @all one.
    await sCleo.next((f) => isEvent('mention.created')(f) && f.data.all === true);
    const cleoMentions = new Map<number, boolean>();
    for (const f of sCleo.seen(isEvent('mention.created'))) cleoMentions.set(f.seq, f.data.all);
    assert.deepEqual([...cleoMentions.values()], [false, true]);
    assert.equal((await conv(bob.token, id)).body.mention_count, 1);
    // The @all row is one row again, not one per member.
    const rows = await t.ctx.db
      .selectFrom('mention')
      .selectAll()
      .where('message_id', '=', m.body.id)
      .execute();
    assert.equal(rows.length, 2, 'one row for Cleo, one for @all');

    // Every mention removed: nothing counts.
    const none = await edit(o.owner.token, id, m.body.id, 'nobody now');
    assert.deepEqual(none.body.mentions, []);
    assert.equal(none.body.mentions_all, false);
    assert.equal((await conv(bob.token, id)).body.mention_count, 0);
    assert.equal((await conv(cleo.token, id)).body.mention_count, 0);
    await sCleo.close();
    await sBob.close();
  });

  test('bad edits are refused and change no mention', async () => {
    const { o, bob, id } = await orgWithGroup(t, ['Bob']);
    const m = await send(o.owner.token, id, { text: `hey <@${bob.actor.id}>` });
    const empty = await edit(o.owner.token, id, m.body.id, '');
    assert.equal(empty.status, 400, empty.raw);
    const notText = await edit(o.owner.token, id, m.body.id, 42);
    assert.equal(notText.status, 400, notText.raw);
    // Someone else's message.
    const theirs = await edit(bob.token, id, m.body.id, 'mine now');
    assert.equal(theirs.status, 403, theirs.raw);
    assert.deepEqual((await one(bob.token, id, m.body.id)).body.mentions, [bob.actor.id]);
    assert.equal((await conv(bob.token, id)).body.mention_count, 1);
    // A deleted message cannot be edited (and mentions nobody).
    assert.equal((await del(o.owner.token, id, m.body.id)).status, 200);
    const gone = await edit(o.owner.token, id, m.body.id, `back <@${bob.actor.id}>`);
    assert.equal(gone.status, 409, gone.raw);
    assert.equal(gone.body.error.code, 'message_deleted');
    assert.equal((await conv(bob.token, id)).body.mention_count, 0);
  });
});

describe('mention counts', () => {
  test('a message mentioning you by id and with @all counts once', async () => {
    const { o, bob, id } = await orgWithGroup(t, ['Bob', 'Cleo']);
    const m = await send(o.owner.token, id, { text: `<@${bob.actor.id}> and @all` });
    assert.deepEqual(m.body.mentions, [bob.actor.id]);
    assert.equal(m.body.mentions_all, true);
    assert.equal((await conv(bob.token, id)).body.mention_count, 1);
    await send(o.owner.token, id, { text: '@all again' });
    assert.equal((await conv(bob.token, id)).body.mention_count, 2);
    const list = await call(t.app, bob.token, 'GET', '/v1/conversations?has_mentions=true');
    assert.equal(list.body.items.find((c: any) => c.id === id)?.mention_count, 2);
  });
});

describe('a deleted reply leaves its thread counts', () => {
  test('reply_count and last_reply_at drop, thread.updated says so, unread stays right', async () => {
    const { o, bob, members, id } = await orgWithGroup(t, ['Bob', 'Cleo']);
    const cleo = members[1]!;
    // Open before the replies, so that the events of the replies and of the deletion arrive in
    // order on it (a stream opened later starts at the last settled position, which on
    // PostgreSQL can be before the replies' events when a transaction is open elsewhere).
    const s = await connectStream(base, { token: o.owner.token });
    await s.next((f) => f.type === 'ready');
    const root = await send(o.owner.token, id, { text: 'root' });
    const r1 = await send(bob.token, id, { text: 'r1', reply_to: root.body.id });
    const r2 = await send(cleo.token, id, { text: 'r2', reply_to: root.body.id });
    const r3 = await send(bob.token, id, { text: 'r3', reply_to: root.body.id });
    let parent = await one(o.owner.token, id, root.body.id);
    assert.equal(parent.body.reply_count, 3);
    assert.equal(parent.body.last_reply_at, r3.body.created_at);
    // The owner (root author) has read nothing: 3 unread. Cleo has read up to r2: 1 unread.
    const thread = (token: string) =>
      call(t.app, token, 'GET', `/v1/conversations/${id}/messages/${root.body.id}/thread`);
    assert.equal((await thread(o.owner.token)).body.me.unread_count, 3);
    assert.equal((await thread(cleo.token)).body.me.unread_count, 1);

    // The replies' own thread.updated events come first (consumed up to r3's); then the deletion's.
    const sent = await s.next((f) => isEvent('thread.updated')(f) && f.data.reply_id === r3.body.id);
    assert.equal(sent.data.reply_count, 3);
    // The newest reply goes: the last reply is r2's again.
    assert.equal((await del(bob.token, id, r3.body.id)).status, 200);
    const ev = await s.next(isEvent('thread.updated'));
    assert.equal(ev.data.thread_id, root.body.id);
    assert.equal(ev.data.reply_id, r3.body.id);
    assert.equal(ev.data.reply_count, 2);
    assert.equal(ev.data.last_reply_at, r2.body.created_at);
    parent = await one(o.owner.token, id, root.body.id);
    assert.equal(parent.body.reply_count, 2);
    assert.equal(parent.body.last_reply_at, r2.body.created_at);
    assert.equal((await thread(o.owner.token)).body.me.unread_count, 2);
    assert.equal((await thread(cleo.token)).body.me.unread_count, 0, 'Cleo had read everything left');

    // A reply Cleo had read goes (r1, before her read position): she still has nothing unread,
    // and a new reply is one unread for her, not hidden by the old position.
    assert.equal((await del(bob.token, id, r1.body.id)).status, 200);
    parent = await one(o.owner.token, id, root.body.id);
    assert.equal(parent.body.reply_count, 1);
    assert.equal(parent.body.last_reply_at, r2.body.created_at);
    assert.equal((await thread(cleo.token)).body.me.unread_count, 0);
    await send(bob.token, id, { text: 'r4', reply_to: root.body.id });
    assert.equal((await thread(cleo.token)).body.me.unread_count, 1);
    assert.equal((await one(o.owner.token, id, root.body.id)).body.reply_count, 2);

    // Deleting twice changes nothing more; the tombstone stays listed in the thread.
    assert.equal((await del(bob.token, id, r1.body.id)).status, 200);
    assert.equal((await one(o.owner.token, id, root.body.id)).body.reply_count, 2);
    const view = await thread(o.owner.token);
    assert.deepEqual(
      view.body.items.map((m: any) => [m.id, m.deleted]),
      [
        [r1.body.id, true],
        [r2.body.id, false],
        [r3.body.id, true],
        [view.body.items[3].id, false],
      ],
    );
    // The last reply deleted: no last reply.
    const tokenOf = new Map([
      [bob.actor.id, bob.token],
      [cleo.actor.id, cleo.token],
    ]);
    for (const m of view.body.items.filter((x: any) => !x.deleted))
      assert.equal((await del(tokenOf.get(m.sender_id)!, id, m.id)).status, 200);
    parent = await one(o.owner.token, id, root.body.id);
    assert.equal(parent.body.reply_count, 0);
    assert.equal(parent.body.last_reply_at, null);
    await s.close();
  });

  test('deleting a root or a plain message touches no thread; a non-member gets 404', async () => {
    const { o, bob, others, id } = await orgWithGroup(t, ['Bob'], ['Xavier']);
    const root = await send(o.owner.token, id, { text: 'root' });
    await send(bob.token, id, { text: 'r1', reply_to: root.body.id });
    const plain = await send(bob.token, id, { text: 'plain' });
    assert.equal((await del(bob.token, id, plain.body.id)).status, 200);
    assert.equal((await one(o.owner.token, id, root.body.id)).body.reply_count, 1);
    const outsider = await del(others[0]!.token, id, root.body.id);
    assert.equal(outsider.status, 404, outsider.raw);
    assert.equal((await one(o.owner.token, id, root.body.id)).body.reply_count, 1);
  });
});
