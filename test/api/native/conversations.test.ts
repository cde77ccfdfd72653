import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call } from '../../support/app.ts';
import { makeOrg, seedConversations } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp();

describe('POST /v1/conversations', () => {
  test('creates a group with the caller as owner and the members listed', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const res = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'Launch',
      member_ids: [bob.actor.id],
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.kind, 'group');
    assert.equal(res.body.title, 'Launch');
    assert.equal(res.body.participant_count, 2);
    assert.equal(res.body.me.role, 'owner');
    assert.equal(res.body.last_message, null);
    assert.match(res.body.id, /^[0-9]{15,19}$/);
    const asBob = await call(t.app, bob.token, 'GET', `/v1/conversations/${res.body.id}`);
    assert.equal(asBob.status, 200);
    assert.equal(asBob.body.me.role, 'member');
  });

  test('a direct chat between the same two actors is one conversation, whoever asks', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const first = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [bob.actor.id],
    });
    assert.equal(first.status, 201);
    const again = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [bob.actor.id],
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const fromBob = await call(t.app, bob.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [o.owner.actor.id],
    });
    assert.equal(fromBob.status, 200);
    assert.equal(fromBob.body.id, first.body.id);
  });

  test('concurrent direct-chat creations make exactly one conversation', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(t.app, i % 2 ? bob.token : o.owner.token, 'POST', '/v1/conversations', {
          kind: 'direct',
          member_ids: [i % 2 ? o.owner.actor.id : bob.actor.id],
        }),
      ),
    );
    assert.deepEqual(new Set(results.map((r) => r.body.id)).size, 1);
    assert.equal(results.filter((r) => r.status === 201).length, 1);
  });

  test('accepts member ids as JSON numbers larger than 2^53 without losing digits', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const res = await call(
      t.app,
      o.owner.token,
      'POST',
      '/v1/conversations',
      `{"kind":"group","member_ids":[${bob.actor.id}]}`,
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(res.status, 201);
    const members = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${res.body.id}/members?fields=id`,
    );
    assert.ok(members.body.items.some((m: { id: string }) => m.id === bob.actor.id));
  });

  test('bad inputs answer 400 naming the field and create nothing', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const cases: [unknown, string, string][] = [
      [{}, 'body.kind', 'invalid_request'],
      [{ kind: 'support', member_ids: [] }, 'body.kind', 'invalid_request'],
      [{ kind: 'group', title: 7 }, 'body.title', 'invalid_request'],
      [{ kind: 'group', title: 'x'.repeat(201) }, 'body.title', 'invalid_request'],
      [{ kind: 'group', member_ids: 'abc' }, 'body.member_ids', 'invalid_request'],
      [{ kind: 'group', member_ids: ['12a'] }, 'body.member_ids', 'invalid_request'],
      [{ kind: 'group', extra: true }, 'body.extra', 'invalid_request'],
      [{ kind: 'direct', member_ids: [] }, 'body.member_ids', 'invalid_members'],
      [{ kind: 'direct', member_ids: [bob.actor.id], title: 'x' }, 'body.title', 'invalid_title'],
      [{ kind: 'channel', member_ids: [] }, 'body.title', 'invalid_title'],
      [
        { kind: 'group', member_ids: Array.from({ length: 101 }, () => bob.actor.id) },
        'body.member_ids',
        'invalid_request',
      ],
    ];
    for (const [body, path, code] of cases) {
      const res = await call(t.app, o.owner.token, 'POST', '/v1/conversations', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, code, JSON.stringify(body));
      assert.ok(
        res.body.error.details.some((d: { path: string }) => d.path.startsWith(path)),
        `${JSON.stringify(body)} -> ${JSON.stringify(res.body.error.details)}`,
      );
    }
    const list = await call(t.app, o.owner.token, 'GET', '/v1/conversations');
    assert.equal(list.body.items.length, 0);
  });

  test('unknown, deactivated and other-org member ids answer 404 actor_not_found', async () => {
    const o = await makeOrg(t.ctx);
    const other = await makeOrg(t.ctx);
    const gone = await o.user();
    await call(t.app, o.owner.token, 'POST', `/v1/actors/${gone.actor.id}/deactivate`);
    for (const id of ['123456789', other.owner.actor.id, gone.actor.id]) {
      const res = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
        kind: 'group',
        member_ids: [id],
      });
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'actor_not_found');
    }
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/conversations')).body.items.length, 0);
  });
});

describe('GET /v1/conversations/:id', () => {
  test('non-members, other orgs and unknown ids all get the same 404', async () => {
    const o = await makeOrg(t.ctx);
    const outsider = await o.user();
    const other = await makeOrg(t.ctx);
    const c = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'secret',
    });
    for (const [token, id] of [
      [outsider.token, c.body.id],
      [other.owner.token, c.body.id],
      [o.owner.token, '999999999999'],
    ] as const) {
      const res = await call(t.app, token, 'GET', `/v1/conversations/${id}`);
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'conversation_not_found');
    }
    const malformed = await call(t.app, o.owner.token, 'GET', '/v1/conversations/abc');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.details[0].path, 'path.id');
  });
});

describe('PATCH /v1/conversations/:id', () => {
  test('renames groups; direct chats have no title; channels need an admin', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      member_ids: [bob.actor.id],
    });
    const renamed = await call(t.app, bob.token, 'PATCH', `/v1/conversations/${g.body.id}`, {
      title: 'New name',
    });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.title, 'New name');

    const d = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [bob.actor.id],
    });
    const refused = await call(t.app, o.owner.token, 'PATCH', `/v1/conversations/${d.body.id}`, {
      title: 'x',
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'direct_chat_has_no_title');

    const ch = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'channel',
      title: 'general',
      member_ids: [bob.actor.id],
    });
    const notAdmin = await call(t.app, bob.token, 'PATCH', `/v1/conversations/${ch.body.id}`, { title: 'x' });
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.error.code, 'not_conversation_admin');
    const after = await call(t.app, bob.token, 'GET', `/v1/conversations/${ch.body.id}`);
    assert.equal(after.body.title, 'general');

    for (const body of [{}, { title: '' }, { title: 5 }, { title: 'x'.repeat(201) }]) {
      const bad = await call(t.app, bob.token, 'PATCH', `/v1/conversations/${g.body.id}`, body);
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
  });
});

describe('GET /v1/conversations', () => {
  test('lists newest activity first with unread counts, last message and participant count', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const a = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'A',
      member_ids: [bob.actor.id],
    });
    t.clock.advance(1000);
    const b = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [bob.actor.id],
    });
    t.clock.advance(1000);
    await call(t.app, bob.token, 'POST', `/v1/conversations/${a.body.id}/messages`, { text: 'news' });
    const list = await call(t.app, o.owner.token, 'GET', '/v1/conversations');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((c: { id: string }) => c.id),
      [a.body.id, b.body.id],
    );
    const first = list.body.items[0];
    assert.equal(first.unread_count, 1);
    assert.equal(first.participant_count, 2);
    assert.equal(first.last_message.text, 'news');
    assert.equal(first.last_message.sender_name, bob.actor.name);
    assert.equal(first.muted, false);
    assert.equal(list.body.next_cursor, null);
  });

  test('filters: kind, modified_before/after, drafts, muted, hidden', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const mk = async (body: object) =>
      (await call(t.app, o.owner.token, 'POST', '/v1/conversations', body)).body.id as string;
    const g = await mk({ kind: 'group', title: 'g', member_ids: [bob.actor.id] });
    const t1 = t.clock.now();
    t.clock.advance(10_000);
    const d = await mk({ kind: 'direct', member_ids: [bob.actor.id] });
    const ch = await mk({ kind: 'channel', title: 'c' });
    await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${g}/draft`, { text: 'half a thought' });
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${d}/mute`, {});
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${ch}/hide`);
    const ids = async (q: string) =>
      ((await call(t.app, o.owner.token, 'GET', `/v1/conversations${q}`)).body.items as { id: string }[]).map(
        (c) => c.id,
      );
    assert.deepEqual(await ids('?kind=group'), [g]);
    assert.deepEqual(await ids('?kind=direct'), [d]);
    assert.deepEqual(await ids(`?modified_before=${t1 + 1}`), [g]);
    assert.deepEqual(await ids(`?modified_after=${new Date(t1 + 1).toISOString()}`), [d]);
    assert.deepEqual(await ids('?drafts=true'), [g]);
    assert.deepEqual(await ids('?drafts=false'), [d]);
    assert.deepEqual(await ids('?muted=true'), [d]);
    assert.deepEqual(await ids('?muted=false'), [g]);
    assert.deepEqual(await ids('?hidden=true'), [ch]);
    assert.deepEqual((await ids('')).sort(), [d, g].sort());
  });

  test('cursor pages are stable while new conversations arrive', async () => {
    const o = await makeOrg(t.ctx);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      t.clock.advance(1000);
      made.push(
        (await call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: `g${i}` }))
          .body.id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
      const res = await call(t.app, o.owner.token, 'GET', `/v1/conversations${q}`);
      assert.equal(res.status, 200);
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
      cursor = res.body.next_cursor;
      // a newer conversation arriving between pages must not shift or repeat items
      t.clock.advance(1000);
      await call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: 'late' });
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, [...made].reverse());
  });

  test('bad query parameters answer 400 naming the parameter', async () => {
    const o = await makeOrg(t.ctx);
    for (const [q, path] of [
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['kind=dm', 'query.kind'],
      ['drafts=yes', 'query.drafts'],
      ['modified_before=yesterday', 'query.modified_before'],
      ['cursor=garbage', 'query.cursor'],
      ['unknown=1', 'query.unknown'],
    ]) {
      const res = await call(t.app, o.owner.token, 'GET', `/v1/conversations?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.error.details[0].path, path, q);
    }
  });
});

describe('the list order and its edges', () => {
  test('conversations pinned in my list come first, then by activity; the pinned filter', async () => {
    const o = await makeOrg(t.ctx);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      ids.push(
        (await call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: `g${i}` }))
          .body.id,
      );
    }
    await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${ids[1]}/pin-in-list`);
    await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${ids[3]}/pin-in-list`);
    const expected = [ids[3], ids[1], ids[4], ids[2], ids[0]];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await call(t.app, o.owner.token, 'GET', `/v1/conversations${q}`);
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, expected);
    const pinned = await call(t.app, o.owner.token, 'GET', '/v1/conversations?pinned=true');
    assert.deepEqual(
      pinned.body.items.map((c: { id: string }) => c.id),
      [ids[3], ids[1]],
    );
  });

  test('a member of more conversations than the walk threshold pages through each once, in order', async () => {
    // Above 500 conversations the list walks the org's conversations by activity instead of
    // sorting the member's (src/store/repos/conversations.ts, WALK_THRESHOLD): every page, first
    // and after a cursor, must give the same order and the same items as the sort would.
    const o = await makeOrg(t.ctx);
    const peer = await o.user('member', 'Peer');
    const other = await o.user('member', 'Other');
    const mine = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor, peer.actor],
      count: 560,
      messagesEach: 0,
    });
    // Conversations the owner is not in, interleaved by id with the owner's: the walk skips them.
    await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [peer.actor, other.actor],
      count: 120,
      messagesEach: 0,
    });
    // Newer activity in a few of the owner's, and two pinned in the owner's list.
    const bumped = [mine[10]!, mine[300]!, mine[555]!];
    for (const id of bumped) {
      t.clock.advance(1000);
      await call(t.app, peer.token, 'POST', `/v1/conversations/${id}/messages`, {
        type: 'text',
        text: 'bump',
      });
    }
    const pinned = [mine[42]!, mine[400]!];
    for (const id of pinned) await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${id}/pin-in-list`);
    const rest = mine.filter((id) => !bumped.includes(id) && !pinned.includes(id));
    // Same activity: newest id first (ids grow with time).
    const byIdDesc = (a: string, b: string) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0);
    const expected = [...pinned.sort(byIdDesc), ...[...bumped].reverse(), ...rest.sort(byIdDesc)];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=50&cursor=${cursor}` : '?limit=50';
      const res = await call(t.app, o.owner.token, 'GET', `/v1/conversations${q}`);
      assert.equal(res.status, 200);
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
      cursor = res.body.next_cursor;
    } while (cursor && seen.length <= 1000);
    assert.equal(seen.length, 560);
    assert.deepEqual(seen, expected);
    const peerPage = await call(t.app, peer.token, 'GET', '/v1/conversations?limit=100');
    assert.equal(peerPage.body.items.length, 100, "the peer's own list is not the owner's");
  });

  test('a new member sees the conversation at its own last activity, not at the join time', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: 'old' });
    const activity = Date.parse(g.body.last_activity_at);
    t.clock.advance(60_000);
    await call(t.app, o.owner.token, 'POST', `/v1/conversations/${g.body.id}/members`, {
      actor_ids: [bob.actor.id],
    });
    const newer = await call(t.app, bob.token, 'GET', `/v1/conversations?modified_after=${activity + 1}`);
    assert.deepEqual(newer.body.items, []);
    const older = await call(t.app, bob.token, 'GET', `/v1/conversations?modified_before=${activity + 1}`);
    assert.deepEqual(
      older.body.items.map((c: { id: string }) => c.id),
      [g.body.id],
    );
  });

  test('forged cursors, loose dates, bad booleans and ids beyond 64 bits answer 400', async () => {
    const o = await makeOrg(t.ctx);
    const forged = (v: unknown[]) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const q of [
      `cursor=${forged(['conversations', 1])}`,
      `cursor=${forged(['conversations', 0, 1, '99999999999999999999'])}`,
      `cursor=${forged(['messages', 0, '5'])}`,
      'modified_after=Nov%2021%202026',
      'modified_after=2026-11-21T10:00',
      'muted=yes',
    ]) {
      const res = await call(t.app, o.owner.token, 'GET', `/v1/conversations?${q}`);
      assert.equal(res.status, 400, q);
    }
    const muted = await call(t.app, o.owner.token, 'GET', '/v1/conversations?muted=yes');
    assert.deepEqual(muted.body.error.details, [{ path: 'query.muted', problem: 'must be boolean' }]);
    for (const id of ['9999999999999999999', '0']) {
      const res = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`);
      assert.equal(res.status, 400, id);
      assert.equal(res.body.error.details[0].path, 'path.id');
    }
    const bigBody = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      member_ids: ['9999999999999999999'],
    });
    assert.equal(bigBody.status, 400);
  });
});

describe('Idempotency-Key on POSTs that create', () => {
  test('a retry replays the first answer and creates nothing new; a different body is refused', async () => {
    const o = await makeOrg(t.ctx);
    const key = { 'idempotency-key': 'create-group-1' };
    const first = await call(
      t.app,
      o.owner.token,
      'POST',
      '/v1/conversations',
      { kind: 'group', title: 'once' },
      key,
    );
    assert.equal(first.status, 201);
    const retries = await Promise.all(
      Array.from({ length: 4 }, () =>
        call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: 'once' }, key),
      ),
    );
    for (const r of retries) {
      assert.equal(r.status, 201);
      assert.equal(r.body.id, first.body.id);
      assert.equal(r.headers['idempotent-replayed'], 'true');
    }
    const other = await call(
      t.app,
      o.owner.token,
      'POST',
      '/v1/conversations',
      { kind: 'group', title: 'twice' },
      key,
    );
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'idempotency_key_reused');
    const list = await call(t.app, o.owner.token, 'GET', '/v1/conversations');
    assert.equal(list.body.items.length, 1);
    // another actor's identical key is theirs alone
    const bob = await o.user();
    const bobs = await call(
      t.app,
      bob.token,
      'POST',
      '/v1/conversations',
      { kind: 'group', title: 'once' },
      key,
    );
    assert.equal(bobs.status, 201);
    assert.notEqual(bobs.body.id, first.body.id);
  });

  test('a failed request does not burn its key; bad keys are refused', async () => {
    const o = await makeOrg(t.ctx);
    const key = { 'idempotency-key': 'k-2' };
    const bad = await call(
      t.app,
      o.owner.token,
      'POST',
      '/v1/actors',
      { kind: 'user', name: 'no role' },
      key,
    );
    assert.equal(bad.status, 400);
    const badAgain = await call(
      t.app,
      o.owner.token,
      'POST',
      '/v1/actors',
      { kind: 'user', name: 'no role' },
      key,
    );
    assert.equal(badAgain.status, 400);
    const ok = await call(t.app, o.owner.token, 'POST', '/v1/actors', { kind: 'bot', name: 'b' }, key);
    assert.equal(ok.status, 201);
    const replay = await call(t.app, o.owner.token, 'POST', '/v1/actors', { kind: 'bot', name: 'b' }, key);
    assert.equal(replay.body.id, ok.body.id);
    const spaced = await call(
      t.app,
      o.owner.token,
      'POST',
      '/v1/actors',
      { kind: 'bot', name: 'b' },
      { 'idempotency-key': 'has space' },
    );
    assert.equal(spaced.status, 400);
  });
});
