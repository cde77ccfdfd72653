import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { highlight, searchTerms } from '../../../src/domain/search.ts';
import { call } from '../../support/app.ts';
import { testDialect } from '../../support/db.ts';
import { makeDepartment, orgWithGroup, type Person, startWaitingChat } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp();

const search = (who: Person, query: Record<string, string | number | boolean>) =>
  call(
    t.app,
    who.token,
    'GET',
    `/v1/search/messages?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`,
  );

const send = async (who: Person, conversation: string, text: string): Promise<string> => {
  const res = await call(t.app, who.token, 'POST', `/v1/conversations/${conversation}/messages`, { text });
  assert.equal(res.status, 201, res.raw);
  return res.body.id;
};

const ids = (res: { body: { items: { message: { id: string } }[] } }) =>
  res.body.items.map((i) => i.message.id);

describe('GET /v1/search/messages', () => {
  test('finds words and word starts, newest first, with an escaped snippet and the conversation', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const m1 = await send(o.owner, id, 'Deploy the <b>release</b> tonight & celebrate');
    const m2 = await send(bob, id, 'the deployment went fine');
    await send(bob, id, 'unrelated chatter');
    const res = await search(bob, { q: 'deplo' });
    assert.equal(res.status, 200, res.raw);
    assert.deepEqual(ids(res), [m2, m1]);
    assert.deepEqual(res.body.items[1].conversation, { id, kind: 'group', title: 'g' });
    assert.equal(
      res.body.items[1].snippet,
      '<mark>Deploy</mark> the &lt;b&gt;release&lt;/b&gt; tonight &amp; celebrate',
    );
    assert.equal(res.body.items[1].message.text, 'Deploy the <b>release</b> tonight & celebrate');
    // Every word must match; case and accents are ignored.
    assert.deepEqual(ids(await search(bob, { q: 'RELEASE tonight' })), [m1]);
    const cafe = await send(bob, id, 'Café au lait');
    assert.deepEqual(ids(await search(bob, { q: 'CAFÉ' })), [cafe]);
    assert.equal((await search(bob, { q: 'café' })).body.items[0].snippet, '<mark>Café</mark> au lait');
    // Accents are folded on SQLite (unicode61 remove_diacritics), kept on PostgreSQL (`simple`).
    assert.deepEqual(ids(await search(bob, { q: 'cafe' })), testDialect === 'sqlite' ? [cafe] : []);
  });

  test('sends committed together are all found at once; an edit and a delete change what is found', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    // Concurrent sends: on SQLite they share a group commit, whose search index write is one.
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) => send(i % 2 ? bob : o.owner, id, `batchword number${i}`)),
    );
    const found = await search(bob, { q: 'batchword', limit: 50 });
    assert.equal(found.status, 200, found.raw);
    assert.deepEqual(new Set(ids(found)), new Set(sent));
    const edited = await call(t.app, o.owner.token, 'PATCH', `/v1/conversations/${id}/messages/${sent[0]}`, {
      text: 'replacedword',
    });
    assert.equal(edited.status, 200, edited.raw);
    const removed = await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/messages/${sent[2]}`);
    assert.ok(removed.status === 200 || removed.status === 204, removed.raw);
    const after = await search(bob, { q: 'batchword', limit: 50 });
    assert.deepEqual(new Set(ids(after)), new Set(sent.filter((_, i) => i !== 0 && i !== 2)));
    assert.deepEqual(ids(await search(bob, { q: 'replacedword' })), [sent[0]]);
    if (testDialect === 'sqlite') {
      const { rows } = await sql<{ n: number }>`select count(*) as n from message_fts_pending`.execute(
        t.ctx.db,
      );
      assert.equal(Number(rows[0]!.n), 0, 'nothing is left waiting for the index after a commit');
    }
  });

  test('query syntax is never parsed: operators, quotes, NUL and parentheses give results or a 400', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const m = await send(o.owner, id, 'alpha beta gamma NEAR OR AND NOT');
    const hostile = [
      '"alpha',
      'alpha"',
      '"alpha" OR "beta',
      'alpha AND',
      'OR',
      'NOT alpha',
      'alpha NEAR/2 beta',
      'NEAR(alpha beta)',
      '(alpha',
      'alpha)',
      'alpha*',
      '*',
      '^alpha',
      'text:alpha',
      '{text}: alpha',
      'alpha & | ! beta',
      "alpha:* & 'beta'",
      "o'neil",
      'alpha\u0000beta',
      '\u0000',
      'alpha -beta',
      'a'.repeat(256),
      '\\',
      '!!!',
      '(((',
      '💥 alpha',
    ];
    for (const q of hostile) {
      const res = await search(bob, { q });
      assert.ok(res.status === 200 || res.status === 400, `${JSON.stringify(q)}: ${res.status} ${res.raw}`);
      if (res.status === 400) {
        assert.equal(typeof res.body.error.code, 'string', res.raw);
        assert.ok(Array.isArray(res.body.error.details), res.raw);
      }
    }
    // Words of a hostile query are still searched for.
    assert.deepEqual(ids(await search(bob, { q: '"alpha" OR "beta' })), [m]);
    assert.deepEqual(ids(await search(bob, { q: 'NEAR(alpha beta)' })), [m]);
    assert.deepEqual(ids(await search(bob, { q: 'alpha\u0000beta' })), [m]);
    assert.deepEqual(ids(await search(bob, { q: 'OR' })), [m], 'an operator word is a word');
    const none = await search(bob, { q: '(((' });
    assert.equal(none.status, 400);
    assert.equal(none.body.error.code, 'empty_query');
    assert.equal(none.body.error.details[0].path, 'query.q');
    assert.equal((await search(bob, { q: '' })).status, 400);
  });

  test('only what the caller may read now: not deleted, not left, not binned, not other orgs', async () => {
    const { o, bob, others, id } = await orgWithGroup(t, ['Bob', 'Carl'], ['Nina']);
    const nina = others[0]!;
    const kept = await send(o.owner, id, 'zebra one');
    const gone = await send(o.owner, id, 'zebra two');
    const edited = await send(o.owner, id, 'zebra three');
    assert.equal(
      (await call(t.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/messages/${gone}`)).status,
      200,
    );
    assert.equal(
      (
        await call(t.app, o.owner.token, 'PATCH', `/v1/conversations/${id}/messages/${edited}`, {
          text: 'okapi',
        })
      ).status,
      200,
    );
    assert.deepEqual(ids(await search(bob, { q: 'zebra' })), [kept]);
    assert.deepEqual(ids(await search(bob, { q: 'okapi' })), [edited]);
    assert.deepEqual(ids(await search(nina, { q: 'zebra' })), [], 'not a member');
    const outsider = await orgWithGroup(t);
    assert.deepEqual(ids(await search(outsider.o.owner, { q: 'zebra' })), [], 'another org');
    assert.deepEqual(ids(await search(outsider.o.owner, { q: 'zebra', conversation_id: id })), []);
    // Bob leaves: the conversation is out of his search at once.
    assert.equal((await call(t.app, bob.token, 'POST', `/v1/conversations/${id}/leave`)).status, 204);
    assert.deepEqual(ids(await search(bob, { q: 'zebra' })), []);
    assert.deepEqual(ids(await search(o.owner, { q: 'zebra' })), [kept]);
  });

  test('support chats: the staff of their department, the visitor; not binned ones', async () => {
    const { o } = await orgWithGroup(t);
    const op = await o.user('operator', 'Otto');
    const elsewhere = await o.user('operator', 'Elsa');
    const anyDept = await o.user('operator', 'Ann');
    const member = await o.user('member', 'Max');
    const billing = await makeDepartment(t.ctx, o, 'Billing', [op.actor]);
    await makeDepartment(t.ctx, o, 'Sales', [elsewhere.actor]);
    const vera = await o.visitor('Vera');
    const chat = await startWaitingChat(t.ctx, o, vera.actor, billing, 'my invoice is wrong');
    const found = (who: Person) => search(who, { q: 'invoice' }).then((r) => r.body.items.length);
    assert.equal(await found(vera), 1, 'the visitor (a member)');
    assert.equal(await found(op), 1, 'an operator of the department');
    assert.equal(await found(anyDept), 1, 'an operator without departments serves all');
    assert.equal(await found(o.owner), 1, 'the owner');
    assert.equal(await found(elsewhere), 0, 'an operator of another department');
    assert.equal(await found(member), 0, 'a plain member');
    assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${chat.id}/pickup`)).status, 200);
    assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${chat.id}/end`)).status, 200);
    const binned = await call(t.app, o.owner.token, 'POST', '/v1/conversations/delete', { ids: [chat.id] });
    assert.equal(binned.status, 200, binned.raw);
    assert.equal(await found(o.owner), 0, 'in the recycle bin');
    assert.equal(await found(op), 0);
    assert.equal(await found(vera), 0);
  });

  test('filters and keyset pages', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const other = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'h',
      member_ids: [bob.actor.id],
    });
    const sent: string[] = [];
    for (let i = 0; i < 5; i++, t.clock.advance(1000))
      sent.push(await send(i % 2 ? bob : o.owner, i < 3 ? id : other.body.id, `lemur ${i}`));
    const p1 = await search(bob, { q: 'lemur', limit: 2 });
    assert.deepEqual(ids(p1), [sent[4], sent[3]]);
    const p2 = await search(bob, { q: 'lemur', limit: 2, cursor: p1.body.next_cursor });
    assert.deepEqual(ids(p2), [sent[2], sent[1]]);
    const p3 = await search(bob, { q: 'lemur', limit: 2, cursor: p2.body.next_cursor });
    assert.deepEqual(ids(p3), [sent[0]]);
    assert.equal(p3.body.next_cursor, null);
    assert.deepEqual(ids(await search(bob, { q: 'lemur', conversation_id: id })), [
      sent[2],
      sent[1],
      sent[0],
    ]);
    assert.deepEqual(ids(await search(bob, { q: 'lemur', sender_id: bob.actor.id })), [sent[3], sent[1]]);
    const at = (await call(t.app, bob.token, 'GET', `/v1/conversations/${id}/messages/${sent[1]}`)).body
      .created_at;
    const afterIt = await search(bob, { q: 'lemur', after: at });
    assert.ok(ids(afterIt).includes(sent[1]!) && !ids(afterIt).includes(sent[0]!));
    const beforeIt = await search(bob, { q: 'lemur', before: Date.parse(at) });
    assert.ok(!ids(beforeIt).includes(sent[1]!));
    assert.deepEqual(
      ids(await search(bob, { q: 'lemur', has_attachment: true })),
      [],
      'none has an attachment',
    );
    assert.equal((await search(bob, { q: 'lemur', has_attachment: false })).body.items.length, 5);
    const bad = await search(bob, { q: 'lemur', cursor: 'nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_cursor');
    assert.equal((await search(bob, { q: 'lemur', after: 'yesterday' })).body.error.code, 'invalid_time');
    assert.equal((await search(bob, { q: 'lemur', limit: 101 })).status, 400);
  });
});

describe('search terms and snippets (pure)', () => {
  test('terms are the folded words, deduplicated; syntax only separates', () => {
    assert.deepEqual(searchTerms('"Foo" OR foo* (bar) NEAR/3 Café'), [
      'foo',
      'or',
      'bar',
      'near',
      '3',
      'café',
    ]);
    assert.deepEqual(searchTerms('!!! *** ""'), []);
  });
  test('a long text is cut around the first hit, and every hit is marked', () => {
    const text = `${'word '.repeat(50)}needle <x> ${'more '.repeat(80)}needle end`;
    const s = highlight(text, ['needle']);
    assert.ok(s.startsWith('…') && s.endsWith('…'), s);
    assert.match(s, /<mark>needle<\/mark> &lt;x&gt;/);
    assert.equal(highlight('a & b', ['zzz']), 'a &amp; b');
  });
});
