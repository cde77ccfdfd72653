import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { createStore, type Store } from '../../src/store/db.ts';
import { GroupCommitter } from '../../src/store/group-commit.ts';

/** Group commit on a real SQLite file: batching, per-item rollback, and answering after the flush. */
let dir: string;
let store: Store;
let gc: GroupCommitter;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-gc-'));
  store = createStore({ sqlitePath: join(dir, 'gc.db') });
  await sql`create table t (id integer primary key, v text not null unique)`.execute(store.db);
  gc = new GroupCommitter(store.db, { walPath: store.walPath });
});
after(async () => {
  await gc.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (v: string) => (tx: typeof store.db) => sql`insert into t (v) values (${v})`.execute(tx);
const values = async () =>
  (await sql<{ v: string }>`select v from t order by id`.execute(store.db)).rows.map((r) => r.v);

test('writes of one tick share a batch; a failing one rolls back only itself', async () => {
  const results = await Promise.allSettled([
    gc.run(insert('a')),
    gc.run(async (tx) => {
      await insert('b')(tx);
      await insert('a')(tx); // unique violation: b must go too
    }),
    gc.run(insert('c')),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(await values(), ['a', 'c']);
});

test('a lone failing write leaves nothing behind and the next one commits', async () => {
  await assert.rejects(
    gc.run(async (tx) => {
      await insert('d')(tx);
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  await gc.run(insert('e'));
  assert.deepEqual(await values(), ['a', 'c', 'e']);
});

test('the caller is answered only after the WAL is flushed, and other writers stay synchronous=FULL', async () => {
  // Hold every flush of the WAL for 150 ms and see that the answer waits for it, while the
  // row is already committed (visible to a second connection) before the flush ends.
  const handle: FileHandle = await open(store.walPath!, 'r');
  const proto = Object.getPrototypeOf(handle) as { datasync: () => Promise<void> };
  await handle.close();
  const original = proto.datasync;
  const flushes: number[] = [];
  proto.datasync = function (this: FileHandle) {
    return new Promise<void>((resolve, reject) => {
      setTimeout(
        () => original.call(this).then(() => resolve(flushes.push(Date.now()) as never), reject),
        150,
      );
    });
  };
  try {
    const started = Date.now();
    let answered = 0;
    const write = gc.run(insert('f')).then(() => {
      answered = Date.now();
    });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(answered, 0, 'answered before its flush');
    const other = new DatabaseSync(join(dir, 'gc.db'), { readOnly: true });
    assert.ok(
      (other.prepare('select v from t').all() as { v: string }[]).some((r) => r.v === 'f'),
      'committed (visible to another connection) while the flush runs',
    );
    other.close();
    await write;
    assert.equal(flushes.length, 1);
    assert.ok(answered >= flushes[0]! && answered - started >= 150, 'answered after the flush');
  } finally {
    proto.datasync = original;
  }
  const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
  assert.equal(Number(rows[0]!.synchronous), 2, 'FULL (2) again for writes outside group commit');
});

test('what was answered is in the file after the store is closed and reopened', async () => {
  await Promise.all(['g', 'h', 'i'].map((v) => gc.run(insert(v))));
  const reopened = new DatabaseSync(join(dir, 'gc.db'));
  const rows = reopened.prepare('select v from t order by id').all() as { v: string }[];
  reopened.close();
  assert.deepEqual(
    rows.map((r) => r.v),
    ['a', 'c', 'e', 'f', 'g', 'h', 'i'],
  );
});
