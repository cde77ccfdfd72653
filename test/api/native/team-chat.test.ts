import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runJobsUntilIdle } from '../../../src/jobs/runner.ts';
import { sendDigests } from '../../../src/services/digest.ts';
import { buildTestApp, call, type TestApp } from '../../support/app.ts';
import { makeOrg, orgWithGroup } from '../../support/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../support/smtp.ts';
import { connectStream } from '../../support/stream.ts';

/** Team chat (issue 18): mentions, reactions, read receipts, presence, threads, digest mail. */

let t: TestApp;
let sink: SmtpSink;
let base: string;
before(async () => {
  sink = await startSmtpSink();
  t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'Parley <chat@parley.test>' });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await t.close();
  await sink.close();
});

const isEvent = (type: string) => (f: any) => f.type === 'event' && f.event === type;
const send = (token: string, id: string, body: Record<string, unknown>) =>
  call(t.app, token, 'POST', `/v1/conversations/${id}/messages`, body);
const conv = (token: string, id: string) => call(t.app, token, 'GET', `/v1/conversations/${id}`);
const outboxTo = (address: string) =>
  t.ctx.db.selectFrom('mail_outbox').selectAll().where('to_address', '=', address).execute();
const eventsOf = (orgId: string, type: string) =>
  t.ctx.db.selectFrom('event').selectAll().where('org_id', '=', orgId).where('type', '=', type).execute();

describe('mentions', () => {
  test('<@id> and @all resolve against the members, count separately from unread, clear on read', async () => {
    const { o, bob, members, others, id } = await orgWithGroup(t, ['Bob', 'Cleo'], ['Xavier']);
    const cleo = members[1]!;
    const outsider = others[0]!;
    const m = await send(o.owner.token, id, {
      text: `hi <@${bob.actor.id}> and <@${outsider.actor.id}> and <@999999>`,
    });
    assert.equal(m.status, 201, m.raw);
    assert.deepEqual(m.body.mentions, [bob.actor.id], 'only current members are mentioned');
    assert.equal(m.body.mentions_all, false);
    const plain = await send(o.owner.token, id, { text: 'no mention here' });
    assert.deepEqual(plain.body.mentions, []);
    let b = await conv(bob.token, id);
    assert.equal(b.body.unread_count, 2);
    assert.equal(b.body.mention_count, 1);
    assert.equal((await conv(cleo.token, id)).body.mention_count, 0);
    const all = await send(o.owner.token, id, { text: '@all standup in 5' });
    assert.equal(all.body.mentions_all, true);
    b = await conv(bob.token, id);
    assert.equal(b.body.mention_count, 2);
    assert.equal((await conv(cleo.token, id)).body.mention_count, 1);
    assert.equal(
      (await conv(o.owner.token, id)).body.mention_count,
      0,
      'your own @all is not a mention of you',
    );
    // @all wrote one mention row, not one per member.
    const rows = await t.ctx.db
      .selectFrom('mention')
      .selectAll()
      .where('message_id', '=', all.body.id)
      .execute();
    assert.equal(rows.length, 1);

    const filtered = await call(t.app, bob.token, 'GET', '/v1/conversations?has_mentions=true');
    assert.deepEqual(
      filtered.body.items.map((c: any) => c.id),
      [id],
    );
    // Reading past the first mention leaves the @all one.
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: plain.body.id });
    assert.equal((await conv(bob.token, id)).body.mention_count, 1);
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, {});
    assert.equal((await conv(bob.token, id)).body.mention_count, 0);
    const none = await call(t.app, bob.token, 'GET', '/v1/conversations?has_mentions=true');
    assert.deepEqual(none.body.items, []);
    const without = await call(t.app, bob.token, 'GET', '/v1/conversations?has_mentions=false');
    assert.deepEqual(
      without.body.items.map((c: any) => c.id),
      [id],
    );
  });

  test("the list's mention counts are each conversation's own, page after page", async () => {
    // The list and GET of one conversation must agree, on every page of the list.
    const { o, bob, members, id } = await orgWithGroup(t, ['Bob', 'Cleo']);
    const cleo = members[1]!;
    const g2 = (
      await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
        kind: 'group',
        title: 'second',
        member_ids: [bob.actor.id, cleo.actor.id],
      })
    ).body.id as string;
    const g3 = (
      await call(t.app, cleo.token, 'POST', '/v1/conversations', {
        kind: 'group',
        title: 'third',
        member_ids: [bob.actor.id],
      })
    ).body.id as string;
    await send(o.owner.token, id, { text: `<@${bob.actor.id}> one` });
    const first = await send(o.owner.token, id, { text: `<@${bob.actor.id}> two` });
    await send(o.owner.token, id, { text: `<@${bob.actor.id}> three` });
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: first.body.id });
    // By id and @all in one message: one mention of Bob, and one of Cleo.
    await send(o.owner.token, g2, { text: `@all and <@${bob.actor.id}>` });
    // Bob's own @all mentions Cleo, not Bob.
    await send(bob.token, g3, { text: '@all from Bob' });
    for (const who of [bob, cleo, o.owner]) {
      const expected = new Map<string, number>();
      for (const c of [id, g2, g3]) {
        const one = await conv(who.token, c);
        if (one.status === 200) expected.set(c, one.body.mention_count);
      }
      const listed = new Map<string, number>();
      let cursor: string | null = null;
      do {
        const res = await call(
          t.app,
          who.token,
          'GET',
          `/v1/conversations?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        for (const c of res.body.items) listed.set(c.id, c.mention_count);
        cursor = res.body.next_cursor;
      } while (cursor);
      assert.deepEqual(listed, expected);
    }
    assert.equal((await conv(bob.token, id)).body.mention_count, 1, 'one mention after the read position');
    assert.equal((await conv(bob.token, g2)).body.mention_count, 1);
    assert.equal((await conv(bob.token, g3)).body.mention_count, 0);
    assert.equal((await conv(cleo.token, g3)).body.mention_count, 1);
  });

  test('@all is plain text in direct chats and when the org turns it off', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const off = await call(t.app, o.owner.token, 'PATCH', '/v1/team-chat/settings', { mention_all: false });
    assert.equal(off.status, 200, off.raw);
    assert.equal(off.body.mention_all, false);
    const m = await send(o.owner.token, id, { text: '@all hello' });
    assert.equal(m.body.mentions_all, false);
    assert.equal((await conv(bob.token, id)).body.mention_count, 0);
    const dm = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [bob.actor.id],
    });
    await call(t.app, o.owner.token, 'PATCH', '/v1/team-chat/settings', { mention_all: true });
    const d = await send(o.owner.token, dm.body.id, { text: '@all hi' });
    assert.equal(d.body.mentions_all, false);
  });

  test('a mention notifies in a muted conversation; an unmentioned member gets no mention event', async () => {
    const { o, bob, members, id } = await orgWithGroup(t, ['Bob', 'Cleo']);
    const cleo = members[1]!;
    const mute = await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/mute`, {});
    assert.equal(mute.status, 200, mute.raw);
    const s = await connectStream(base, { token: bob.token });
    const c = await connectStream(base, { token: cleo.token });
    await s.next((f) => f.type === 'ready');
    await c.next((f) => f.type === 'ready');
    const m = await send(o.owner.token, id, { text: `ping <@${bob.actor.id}>` });
    const ev = await s.next(isEvent('mention.created'));
    assert.equal(ev.data.message_id, m.body.id);
    assert.equal(ev.data.conversation_id, id);
    assert.equal(ev.data.all, false);
    await c.next((f) => isEvent('message.created')(f) && f.data.message.id === m.body.id);
    assert.equal(c.seen(isEvent('mention.created')).length, 0);
    assert.equal((await conv(bob.token, id)).body.muted, true);
    assert.equal((await conv(bob.token, id)).body.mention_count, 1);
    await s.close();
    await c.close();
  });
});

describe('reactions', () => {
  test('toggle per user, counts and who, on the message and in history, with events', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const m = await send(o.owner.token, id, { text: 'react to me' });
    const s = await connectStream(base, { token: o.owner.token });
    await s.next((f) => f.type === 'ready');
    const url = (e: string) =>
      `/v1/conversations/${id}/messages/${m.body.id}/reactions/${encodeURIComponent(e)}`;
    const a = await call(t.app, bob.token, 'PUT', url('👍'));
    assert.equal(a.status, 200, a.raw);
    assert.deepEqual(a.body, {
      message_id: m.body.id,
      reactions: [{ emoji: '👍', count: 1, actor_ids: [bob.actor.id] }],
    });
    const again = await call(t.app, bob.token, 'PUT', url('👍'));
    assert.equal(again.body.reactions[0].count, 1, 'adding twice is one reaction');
    // Emoji are listed by first use.
    for (const e of ['👍', ':party_parrot:', '👍🏽']) {
      t.clock.advance(1);
      await call(t.app, o.owner.token, 'PUT', url(e));
    }
    const ev = await s.next(isEvent('reaction.added'));
    assert.deepEqual(ev.data, {
      conversation_id: id,
      message_id: m.body.id,
      actor_id: bob.actor.id,
      emoji: '👍',
      count: 1,
    });
    const hist = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/messages`);
    const r = hist.body.items.find((x: any) => x.id === m.body.id).reactions;
    assert.deepEqual(
      r.map((x: any) => [x.emoji, x.count]),
      [
        ['👍', 2],
        [':party_parrot:', 1],
        ['👍🏽', 1],
      ],
    );
    const one = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/messages/${m.body.id}`);
    assert.equal(one.body.reactions.length, 3);
    const del = await call(t.app, bob.token, 'DELETE', url('👍'));
    assert.equal(del.status, 200);
    assert.deepEqual(del.body.reactions[0], { emoji: '👍', count: 1, actor_ids: [o.owner.actor.id] });
    const removed = await s.next(isEvent('reaction.removed'));
    assert.equal(removed.data.count, 1);
    const delAgain = await call(t.app, bob.token, 'DELETE', url('👍'));
    assert.equal(delAgain.status, 200, 'removing what is not there is a no-op');
    await s.close();
  });

  test('bad emoji, unknown messages and outsiders: clear 4xx, nothing stored', async () => {
    const { o, bob, others, id } = await orgWithGroup(t, ['Bob'], ['Xavier']);
    const m = await send(o.owner.token, id, { text: 'x' });
    const url = (e: string, mid = m.body.id) =>
      `/v1/conversations/${id}/messages/${mid}/reactions/${encodeURIComponent(e)}`;
    for (const bad of ['a', 'hello', '👍👍', ':Bad:', '::', `:${'a'.repeat(33)}:`, '<script>', ' ', '1']) {
      const res = await call(t.app, bob.token, 'PUT', url(bad));
      assert.equal(res.status, 400, `${bad}: ${res.raw}`);
      assert.equal(res.body.error.code, 'invalid_emoji');
    }
    const unknown = await call(t.app, bob.token, 'PUT', url('👍', '123456789'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'message_not_found');
    const outsider = await call(t.app, others[0]!.token, 'PUT', url('👍'));
    assert.equal(outsider.status, 404);
    assert.equal(outsider.body.error.code, 'conversation_not_found');
    const peek = await call(
      t.app,
      others[0]!.token,
      'GET',
      `/v1/conversations/${id}/messages/${m.body.id}/reactions`,
    );
    assert.equal(peek.status, 404);
    const rows = await t.ctx.db
      .selectFrom('reaction')
      .selectAll()
      .where('message_id', '=', m.body.id)
      .execute();
    assert.equal(rows.length, 0);
    // At most 20 distinct emoji on a message.
    const emoji = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗'];
    for (const e of emoji) assert.equal((await call(t.app, bob.token, 'PUT', url(e))).status, 200);
    const tooMany = await call(t.app, bob.token, 'PUT', url('🤩'));
    assert.equal(tooMany.status, 409);
    assert.equal(tooMany.body.error.code, 'too_many_reactions');
    const still = await call(
      t.app,
      bob.token,
      'GET',
      `/v1/conversations/${id}/messages/${m.body.id}/reactions`,
    );
    assert.equal(still.body.reactions.length, 20);
  });

  test('deleting the message for everyone removes its reactions and mentions', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const m = await send(o.owner.token, id, { text: `hey <@${bob.actor.id}>` });
    await call(
      t.app,
      bob.token,
      'PUT',
      `/v1/conversations/${id}/messages/${m.body.id}/reactions/%F0%9F%91%8D`,
    );
    const del = await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/messages/${m.body.id}`);
    assert.equal(del.status, 200);
    assert.deepEqual(del.body.mentions, []);
    const rows = await t.ctx.db
      .selectFrom('reaction')
      .selectAll()
      .where('message_id', '=', m.body.id)
      .execute();
    assert.equal(rows.length, 0);
    const mentions = await t.ctx.db
      .selectFrom('mention')
      .selectAll()
      .where('message_id', '=', m.body.id)
      .execute();
    assert.equal(mentions.length, 0);
    assert.equal((await conv(bob.token, id)).body.mention_count, 0);
    const r = await call(
      t.app,
      bob.token,
      'PUT',
      `/v1/conversations/${id}/messages/${m.body.id}/reactions/%F0%9F%91%8D`,
    );
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'message_deleted');
  });
});

describe('erasure', () => {
  test('a deletion job takes the reactions, mentions and thread rows along with the messages', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const root = await send(o.owner.token, id, { text: `erase <@${bob.actor.id}> @all` });
    await send(bob.token, id, { text: 'reply', reply_to: root.body.id });
    await call(
      t.app,
      bob.token,
      'PUT',
      `/v1/conversations/${id}/messages/${root.body.id}/reactions/%F0%9F%91%8D`,
    );
    const count = async (table: 'mention' | 'reaction' | 'thread_member') =>
      (await t.ctx.db.selectFrom(table).select('message_id').where('conversation_id', '=', id).execute())
        .length;
    assert.deepEqual(
      [await count('mention'), await count('reaction'), await count('thread_member')],
      [2, 1, 2],
    );
    await call(t.app, o.owner.token, 'PUT', '/v1/deletion-jobs/window', { any_time: true });
    const job = await call(t.app, o.owner.token, 'POST', '/v1/deletion-jobs', { conversation_ids: [id] });
    assert.equal(job.status, 202, job.raw);
    await runJobsUntilIdle(t.ctx);
    const done = await call(t.app, o.owner.token, 'GET', `/v1/deletion-jobs/${job.body.id}`);
    assert.equal(done.body.status, 'completed', done.raw);
    assert.deepEqual(
      [await count('mention'), await count('reaction'), await count('thread_member')],
      [0, 0, 0],
    );
  });
});

describe('read receipts', () => {
  test('seen by in a small group, receipt events to members, off by org setting and above the size', async () => {
    const { o, bob, members, others, id } = await orgWithGroup(t, ['Bob', 'Cleo'], ['Xavier']);
    const cleo = members[1]!;
    const m1 = await send(o.owner.token, id, { text: 'one' });
    const m2 = await send(o.owner.token, id, { text: 'two' });
    const s = await connectStream(base, { token: o.owner.token });
    await s.next((f) => f.type === 'ready');
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: m1.body.id });
    const ev = await s.next(isEvent('receipt.updated'));
    assert.deepEqual(ev.data, { conversation_id: id, actor_id: bob.actor.id, read_message_id: m1.body.id });
    await call(t.app, cleo.token, 'POST', `/v1/conversations/${id}/read`, {});
    const seen1 = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages/${m1.body.id}/seen-by`,
    );
    assert.equal(seen1.status, 200, seen1.raw);
    assert.deepEqual(new Set(seen1.body.seen_by), new Set([bob.actor.id, cleo.actor.id]));
    const seen2 = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages/${m2.body.id}/seen-by`,
    );
    assert.deepEqual(seen2.body.seen_by, [cleo.actor.id]);
    const all = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/receipts`);
    assert.equal(all.body.enabled, true);
    assert.equal(all.body.reads.length, 2);
    // Outsiders see nothing.
    const x = await call(t.app, others[0]!.token, 'GET', `/v1/conversations/${id}/receipts`);
    assert.equal(x.status, 404);
    // Groups above the size, and the org switch.
    const small = await call(t.app, o.owner.token, 'PATCH', '/v1/team-chat/settings', {
      read_receipts_max_members: 2,
    });
    assert.equal(small.status, 200, small.raw);
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/receipts`)).body.enabled,
      false,
    );
    await call(t.app, o.owner.token, 'PATCH', '/v1/team-chat/settings', {
      read_receipts_max_members: 20,
      read_receipts: false,
    });
    const off = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages/${m1.body.id}/seen-by`,
    );
    assert.deepEqual(off.body, { message_id: m1.body.id, enabled: false, seen_by: [] });
    const before = (await eventsOf(o.org.id, 'receipt.updated')).length;
    const m3 = await send(o.owner.token, id, { text: 'three' });
    await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/read`, { message_id: m3.body.id });
    assert.equal((await eventsOf(o.org.id, 'receipt.updated')).length, before, 'no receipt events while off');
    await s.close();
  });

  test('settings: admins only, bad values are 400 and change nothing', async () => {
    const { o, bob } = await orgWithGroup(t);
    const denied = await call(t.app, bob.token, 'PATCH', '/v1/team-chat/settings', { read_receipts: false });
    assert.equal(denied.status, 403);
    for (const body of [
      { read_receipts_max_members: 1 },
      { read_receipts_max_members: 5000 },
      { digest_after_minutes: -1 },
      { public_url: 'ftp://x' },
      { public_url: 'https://x.test/?a=1' },
      { mention_all: 'yes' },
      {},
      { nope: 1 },
    ]) {
      const res = await call(t.app, o.owner.token, 'PATCH', '/v1/team-chat/settings', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw}`);
      assert.ok(res.body.error.code);
    }
    const now = await call(t.app, bob.token, 'GET', '/v1/team-chat/settings');
    assert.deepEqual(now.body, {
      mention_all: true,
      read_receipts: true,
      read_receipts_max_members: 20,
      digest_after_minutes: 30,
      public_url: null,
    });
  });
});

describe('threads', () => {
  test('reply counts on the parent, thread view with cursor, per-participant unread, follow', async () => {
    const { o, bob, members, id } = await orgWithGroup(t, ['Bob', 'Cleo']);
    const cleo = members[1]!;
    const root = await send(o.owner.token, id, { text: 'root' });
    const s = await connectStream(base, { token: cleo.token });
    await s.next((f) => f.type === 'ready');
    const r1 = await send(bob.token, id, { text: 'r1', reply_to: root.body.id });
    assert.equal(r1.body.thread_id, root.body.id);
    const r2 = await send(bob.token, id, { text: 'r2', reply_to: r1.body.id });
    assert.equal(r2.body.thread_id, root.body.id, 'a reply to a reply stays in the thread');
    const ev = await s.next(isEvent('thread.updated'));
    assert.equal(ev.data.thread_id, root.body.id);
    assert.equal(ev.data.reply_count, 1);
    const parent = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages/${root.body.id}`,
    );
    assert.equal(parent.body.reply_count, 2);
    assert.equal(parent.body.last_reply_at, r2.body.created_at);
    // Replies are in the main timeline too.
    const hist = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/messages`);
    assert.deepEqual(
      hist.body.items.map((m: any) => m.text),
      ['r2', 'r1', 'root'],
    );
    const page1 = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages/${root.body.id}/thread?limit=1`,
    );
    assert.equal(page1.status, 200, page1.raw);
    assert.equal(page1.body.root.id, root.body.id);
    assert.deepEqual(
      page1.body.items.map((m: any) => m.id),
      [r1.body.id],
    );
    assert.deepEqual(
      page1.body.me,
      { following: true, read_count: 0, unread_count: 2 },
      'the root author takes part',
    );
    const page2 = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${id}/messages/${root.body.id}/thread?limit=1&cursor=${page1.body.next_cursor}`,
    );
    assert.deepEqual(
      page2.body.items.map((m: any) => m.id),
      [r2.body.id],
    );
    assert.equal(page2.body.next_cursor, null);
    // The replier has read their own replies; Cleo takes no part until she follows.
    const bobs = await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/messages/${r1.body.id}/thread`);
    assert.deepEqual(bobs.body.me, { following: true, read_count: 2, unread_count: 0 });
    const cleos = await call(
      t.app,
      cleo.token,
      'GET',
      `/v1/conversations/${id}/messages/${root.body.id}/thread`,
    );
    assert.deepEqual(cleos.body.me, { following: false, read_count: 0, unread_count: 0 });
    const follow = await call(
      t.app,
      cleo.token,
      'PUT',
      `/v1/conversations/${id}/messages/${root.body.id}/thread/follow`,
      {
        following: true,
      },
    );
    assert.deepEqual(follow.body, { following: true, read_count: 0, unread_count: 2 });
    const read = await call(
      t.app,
      o.owner.token,
      'POST',
      `/v1/conversations/${id}/messages/${root.body.id}/thread/read`,
    );
    assert.deepEqual(read.body, { following: true, read_count: 2, unread_count: 0 });
    const mine = await call(t.app, cleo.token, 'GET', `/v1/conversations/${id}/threads`);
    assert.equal(mine.body.items.length, 1);
    assert.equal(mine.body.items[0].root.id, root.body.id);
    assert.equal(mine.body.items[0].unread_count, 2);
    const bad = await call(
      t.app,
      cleo.token,
      'PUT',
      `/v1/conversations/${id}/messages/${root.body.id}/thread/follow`,
      {
        following: 'yes',
      },
    );
    assert.equal(bad.status, 400);
    const missing = await call(t.app, cleo.token, 'GET', `/v1/conversations/${id}/messages/999999999/thread`);
    assert.equal(missing.status, 404);
    const badCursor = await call(
      t.app,
      cleo.token,
      'GET',
      `/v1/conversations/${id}/messages/${root.body.id}/thread?cursor=zzz`,
    );
    assert.equal(badCursor.status, 400);
    await s.close();
  });
});

describe('presence', () => {
  test('online with a socket, away on request, offline after; only to people who share a conversation', async () => {
    const { o, bob, others, id } = await orgWithGroup(t, ['Bob'], ['Xavier']);
    void id;
    const x = others[0]!;
    const watch = await connectStream(base, { token: o.owner.token });
    const outsider = await connectStream(base, { token: x.token });
    await watch.next((f) => f.type === 'ready');
    await outsider.next((f) => f.type === 'ready');
    const b = await connectStream(base, { token: bob.token });
    await b.next((f) => f.type === 'ready');
    const online = await watch.next(
      (f) => isEvent('presence.changed')(f) && f.data.actor_id === bob.actor.id,
      8000,
    );
    assert.equal(online.data.status, 'online');
    const read = await call(t.app, o.owner.token, 'GET', `/v1/presence?ids=${bob.actor.id},${x.actor.id}`);
    assert.equal(read.status, 200, read.raw);
    assert.deepEqual(
      read.body.items.map((p: any) => [p.actor_id, p.status]),
      [[bob.actor.id, 'online']],
      'Xavier shares no conversation with the owner: left out',
    );
    const hidden = await call(t.app, x.token, 'GET', `/v1/presence?ids=${bob.actor.id}`);
    assert.deepEqual(hidden.body.items, []);
    const inConv = await call(t.app, x.token, 'GET', `/v1/conversations/${id}/presence`);
    assert.equal(inConv.status, 404);
    const away = await call(t.app, bob.token, 'PUT', '/v1/presence/me', { status: 'away' });
    assert.equal(away.status, 200, away.raw);
    assert.equal(away.body.status, 'away');
    const awayEv = await watch.next(
      (f) => isEvent('presence.changed')(f) && f.data.actor_id === bob.actor.id,
      8000,
    );
    assert.equal(awayEv.data.status, 'away');
    const bad = await call(t.app, bob.token, 'PUT', '/v1/presence/me', { status: 'offline' });
    assert.equal(bad.status, 400);
    const badIds = await call(t.app, bob.token, 'GET', '/v1/presence?ids=abc');
    assert.equal(badIds.status, 400);
    await call(t.app, bob.token, 'PUT', '/v1/presence/me', { status: 'online' });
    await b.close();
    const off = await watch.next(
      (f) =>
        isEvent('presence.changed')(f) && f.data.actor_id === bob.actor.id && f.data.status === 'offline',
      8000,
    );
    assert.equal(off.data.status, 'offline');
    const members = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}/presence`);
    assert.deepEqual(new Set(members.body.items.map((p: any) => p.status)), new Set(['online', 'offline']));
    assert.equal(outsider.seen(isEvent('presence.changed')).length, 0, 'an outsider gets no presence');
    await watch.close();
    await outsider.close();
  });
});

describe('offline digest mail', () => {
  test('one mail for unread direct messages and mentions, never twice, with a working unsubscribe link', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user('member', 'Bob Digest');
    const dm = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [bob.actor.id],
    });
    await call(t.app, o.owner.token, 'PATCH', '/v1/team-chat/settings', {
      public_url: 'https://chat.example.test',
    });
    await send(o.owner.token, dm.body.id, { text: 'are you there?' });
    const mine = await call(t.app, bob.token, 'PATCH', '/v1/me/notifications', { digest_minutes: 10 });
    assert.deepEqual(mine.body, { digest_minutes: 10, effective_digest_minutes: 10 });
    const badSetting = await call(t.app, bob.token, 'PATCH', '/v1/me/notifications', { digest_minutes: -5 });
    assert.equal(badSetting.status, 400);
    // Seen online just now (a socket that closed): not yet offline for 10 minutes.
    const s = await connectStream(base, { token: bob.token });
    await s.next((f) => f.type === 'ready');
    await s.close();
    await new Promise((r) => setTimeout(r, 200));
    const queued = async () => (await outboxTo(bob.actor.email!)).length;
    await sendDigests(t.ctx);
    assert.equal(await queued(), 0, 'seen a moment ago: no mail yet');
    t.clock.advance(11 * 60_000);
    await sendDigests(t.ctx);
    assert.equal(await queued(), 1);
    await sendDigests(t.ctx);
    assert.equal(await queued(), 1, 'the same unread is not mailed twice');
    await runJobsUntilIdle(t.ctx);
    const deadline = Date.now() + 5000;
    while (!sink.mails.some((m) => m.to.includes(bob.actor.email!)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const toBob = sink.mails.filter((m) => m.to.includes(bob.actor.email!));
    assert.equal(toBob.length, 1, 'one mail reached the SMTP server');
    const mail = toBob[0]!;
    assert.match(mail.text, new RegExp(`https://chat.example.test/conversations/${dm.body.id}`));
    const link =
      /https:\/\/chat\.example\.test(\/v1\/notifications\/unsubscribe\?token=[A-Za-z0-9._-]+)/.exec(
        mail.text,
      );
    assert.ok(link, mail.text);
    const unsub = await call(t.app, null, 'GET', link[1]!);
    assert.equal(unsub.status, 200, unsub.raw);
    assert.deepEqual(unsub.body, { unsubscribed: true });
    const twice = await call(t.app, null, 'POST', link[1]!);
    assert.equal(twice.status, 200, 'idempotent');
    const after = await call(t.app, bob.token, 'GET', '/v1/me/notifications');
    assert.equal(after.body.digest_minutes, 0);
    // Tampered or foreign tokens are refused and change nothing.
    const tampered = link[1]!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const bad = await call(t.app, null, 'GET', tampered);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_token');
    assert.equal((await call(t.app, null, 'GET', '/v1/notifications/unsubscribe?token=1.2.x')).status, 400);
    // Unsubscribed: new unread messages bring no mail.
    await send(o.owner.token, dm.body.id, { text: 'hello again' });
    t.clock.advance(60 * 60_000);
    await sendDigests(t.ctx);
    assert.equal(await queued(), 1);
  });
});
