import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Generated, Kysely, sql } from 'kysely';
import { createStore, type Store } from '../../src/store/db.ts';
import { GroupCommitter } from '../../src/store/group-commit.ts';
import { prepared } from '../../src/store/prepared.ts';

/**
 * Prepared queries inside a group-commit batch call the held SQLite connection directly
 * (prepared.ts, runDirectOn); everywhere else they go through Kysely. Both must give the same
 * answers, and the shortcut must not let anyone else onto the held connection.
 */
let dir: string;
let store: Store;
let gc: GroupCommitter;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-prepared-'));
  store = createStore({ sqlitePath: join(dir, 'p.db') });
  await sql`create table t (id integer primary key, big integer not null, v text not null unique)`.execute(
    store.db,
  );
  gc = new GroupCommitter(store.db, { walPath: store.walPath, sqlite: store.sqlite });
});
after(async () => {
  await gc.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// A table of the test's own, outside the app's schema: the builders see an untyped database.
type T = { t: { id: Generated<number>; big: number | string; v: string } };
const untyped = (db: unknown) => db as Kysely<T>;
const insert = prepared<'big' | 'v', never>(
  (db, p) => untyped(db).insertInto('t').values({ big: p.big, v: p.v }) as never,
);
const byValue = prepared<'v', { id: number; big: number | string; v: string }>(
  (db, p) => untyped(db).selectFrom('t').selectAll().where('v', '=', p.v) as never,
);
const rename = prepared<'from' | 'to', never>(
  (db, p) => untyped(db).updateTable('t').set({ v: p.to }).where('v', '=', p.from) as never,
);

/** Counts the queries that went through Kysely's executor while `fn` runs. */
async function viaKysely(fn: () => Promise<unknown>): Promise<number> {
  const original = Kysely.prototype.executeQuery;
  let calls = 0;
  Kysely.prototype.executeQuery = function (this: Kysely<unknown>, ...args: Parameters<typeof original>) {
    calls++;
    return original.apply(this, args) as never;
  };
  try {
    await fn();
  } finally {
    Kysely.prototype.executeQuery = original;
  }
  return calls;
}

test('in a batch, prepared queries skip the executor and answer as Kysely does outside one', async () => {
  const big = '9007199254740993'; // beyond 2^53: comes back as a decimal string either way
  let inside: unknown;
  let changed = -1;
  const calls = await viaKysely(() =>
    gc.run(async (tx) => {
      await insert.run(tx, { big, v: 'one' });
      changed = await rename.run(tx, { from: 'one', to: 'uno' });
      inside = await byValue.execute(tx, { v: 'uno' });
    }),
  );
  // BEGIN, COMMIT and the two synchronous pragmas go through Kysely; the three queries did not.
  assert.equal(calls, 4);
  assert.equal(changed, 1);
  const outside = await byValue.execute(store.db, { v: 'uno' });
  assert.deepEqual(inside, outside);
  assert.deepEqual(
    outside.map((r) => ({ big: r.big, v: r.v })),
    [{ big, v: 'uno' }],
  );
  assert.equal(await rename.run(store.db, { from: 'nothing', to: 'x' }), 0);
});

test('a failing prepared write in a batch rolls back only its own transaction', async () => {
  const results = await Promise.allSettled([
    gc.run((tx) => insert.run(tx, { big: 1, v: 'a' })),
    gc.run(async (tx) => {
      await insert.run(tx, { big: 2, v: 'b' });
      await insert.run(tx, { big: 3, v: 'a' }); // unique violation: b goes too
    }),
    gc.run((tx) => insert.run(tx, { big: 4, v: 'c' })),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  for (const [v, n] of [
    ['a', 1],
    ['b', 0],
    ['c', 1],
  ] as const)
    assert.equal((await byValue.execute(store.db, { v })).length, n, v);
});

test('a prepared read outside the batch waits for its commit instead of reading into it', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const batch = gc.run(async (tx) => {
    await insert.run(tx, { big: 5, v: 'pending' });
    await held;
  });
  await sleep(20); // the batch has begun and holds the connection
  let seen: unknown[] | null = null;
  const read = byValue.execute(store.db, { v: 'pending' }).then((rows) => {
    seen = rows;
  });
  await sleep(20);
  assert.equal(seen, null, 'the read ran inside the open transaction');
  release();
  await batch;
  await read;
  assert.equal((seen as unknown[] | null)?.length, 1);
});

test('after its batch, a transaction handle no longer takes the shortcut', async () => {
  let stale: Kysely<never> | null = null;
  await gc.run(async (tx) => {
    stale = tx as never;
    await insert.run(tx, { big: 6, v: 'kept' });
  });
  const calls = await viaKysely(() => byValue.execute(stale as never, { v: 'kept' }).catch(() => undefined));
  assert.equal(calls, 1);
});
