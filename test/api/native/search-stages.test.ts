import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchTerms } from '../../../src/domain/search.ts';
import { searchMessages } from '../../../src/store/repos/search.ts';
import { call } from '../../support/app.ts';
import { onlyOn } from '../../support/db.ts';
import { orgWithGroup } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

/**
 * The PostgreSQL search's two stages (newest messages walked by id, then the GIN index below
 * them) give the same pages as one pass, whatever the window; on SQLite the window is ignored.
 */
const t = useTestApp();

test('every window size gives the same pages, newest first, cursor included', async () => {
  const { o, bob, id } = await orgWithGroup(t);
  const words = ['otter common', 'otter', 'common', 'rare otter kestrel', 'common', 'otter'];
  for (let i = 0; i < 24; i++) {
    const res = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: `${words[i % words.length]} ${i}`,
    });
    assert.equal(res.status, 201, res.raw);
  }
  const page = async (q: string, recentWindow: number, belowId?: string) =>
    (
      await searchMessages(t.ctx.db, {
        orgId: o.org.id,
        actorId: bob.actor.id,
        terms: searchTerms(q),
        supportDepartments: null,
        limit: 5,
        belowId,
        recentWindow,
      })
    ).map((h) => h.message.id);
  for (const q of ['otter', 'kestrel', 'common', 'nothing']) {
    const all = async (w: number) => {
      const ids: string[] = [];
      for (let p = await page(q, w); p.length > 0; p = await page(q, w, p.at(-1))) ids.push(...p);
      return ids;
    };
    const reference = await all(100_000);
    for (const w of [1, 2, 3, 7, 30]) assert.deepEqual(await all(w), reference, `${q} with a window of ${w}`);
    const sorted = [...reference].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1));
    assert.deepEqual(reference, sorted, 'newest first');
  }
  assert.equal((await page('kestrel', 2)).length, 4);
});

test('SQLite: words expanded to the indexed words that start with them give the same pages as prefixes, across cursors', {
  skip: onlyOn('sqlite', 'the prefix expansion is the FTS5 path'),
}, async () => {
  const { o, bob, id } = await orgWithGroup(t);
  // 'otter' has longer words (otters, otterly), 'kite' none, 'café' is not ASCII (stays a
  // prefix), 'zq' has more longer words than MAX_EXPANSION (stays a prefix).
  const texts = ['otter kite', 'otters', 'otterly kite café', 'Otter KITE', 'cafe otters', 'kites'];
  for (let i = 0; i < 30; i++) {
    const res = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, {
      text: `${texts[i % texts.length]} zq${i} zq${i}x zq${i}y`,
    });
    assert.equal(res.status, 201, res.raw);
  }
  const page = async (q: string, expandPrefixes: boolean, belowId?: string) =>
    (
      await searchMessages(t.ctx.db, {
        orgId: o.org.id,
        actorId: bob.actor.id,
        terms: searchTerms(q),
        supportDepartments: null,
        limit: 4,
        belowId,
        expandPrefixes,
      })
    ).map((h) => h.message.id);
  const all = async (q: string, expand: boolean) => {
    const ids: string[] = [];
    for (let p = await page(q, expand); p.length > 0; p = await page(q, expand, p.at(-1))) ids.push(...p);
    return ids;
  };
  const counts: Record<string, number> = {};
  for (const q of [
    'otter',
    'otters',
    'kite',
    'otter kite',
    'café',
    'cafe',
    'zq',
    'zq1',
    'zq29x',
    'nothing',
  ]) {
    const reference = await all(q, false);
    assert.deepEqual(await all(q, true), reference, q);
    counts[q] = reference.length;
  }
  // The reference can fail: these counts are what the texts hold.
  assert.deepEqual(counts, {
    otter: 25,
    otters: 10,
    kite: 20,
    'otter kite': 15,
    café: 10,
    cafe: 10,
    zq: 30,
    zq1: 11,
    zq29x: 1,
    nothing: 0,
  });
});
