import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { Store } from '../../src/store/db.ts';
import { driverErrorKind } from '../../src/store/errors.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/**
 * The PostgreSQL store's query path (src/store/db.ts, prepareOnConnection): statements with
 * parameters are prepared by name once per connection, node-postgres is driven with a callback
 * (its own promise let each query's rows outlive the young-generation collection), and errors
 * still reach the caller as the driver's errors. Needs TEST_DATABASE_URL; skipped otherwise.
 */
const skip = process.env.TEST_DATABASE_URL
  ? false
  : 'TEST_DATABASE_URL is needed: these tests talk to a real PostgreSQL';

let database: TestDatabase;
let store: Store;
before(async () => {
  if (skip) return;
  database = await createTestDatabase({ dialect: 'postgres' });
  store = database.open(2);
  await sql`create table t (id bigint primary key, v text not null unique, n int not null)`.execute(store.db);
  await sql`insert into t select g, 'row ' || g || repeat('x', 40), g % 7 from generate_series(1, 200) g`.execute(
    store.db,
  );
});
after(async () => {
  if (skip) return;
  await store.close();
  await database.drop();
});

const run = promisify(execFile);
const db = () => store.db as unknown as import('kysely').Kysely<{ t: { id: number; v: string; n: number } }>;

test('a statement with parameters answers, and is prepared once by name on its connection', {
  skip,
}, async () => {
  await db()
    .connection()
    .execute(async (c) => {
      for (let i = 1; i <= 3; i++) {
        const row = await c.selectFrom('t').selectAll().where('id', '=', i).executeTakeFirstOrThrow();
        assert.deepEqual(row, { id: i, v: `row ${i}${'x'.repeat(40)}`, n: i % 7 });
      }
      const { rows } = await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements`.execute(c);
      const mine = rows.filter((r) => r.statement.includes('from "t" where "id" ='));
      assert.equal(mine.length, 1, 'one prepared statement for three runs of the same text');
      assert.match(mine[0]!.name, /^parley_\d+$/);
    });
});

test('a failing statement rejects with the driver error, and the connection goes on', { skip }, async () => {
  await db()
    .connection()
    .execute(async (c) => {
      const err = await c
        .insertInto('t')
        .values({ id: 1000, v: `row 1${'x'.repeat(40)}`, n: 0 })
        .execute()
        .then(
          () => assert.fail('a duplicate value was accepted'),
          (e: unknown) => e,
        );
      assert.equal(driverErrorKind(err), 'unique_violation');
      assert.equal((err as { code?: string }).code, '23505');
      const syntax = await sql`selec 1`.execute(c).then(
        () => assert.fail('bad SQL was accepted'),
        (e: unknown) => e,
      );
      assert.equal((syntax as { code?: string }).code, '42601');
      const row = await c
        .selectFrom('t')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(row.n), 200, 'nothing was written, and the connection still answers');
    });
});

test("a query's rows do not outlive the young-generation collections that follow it", { skip }, async () => {
  // With node-postgres's own promise, about 2 MB survived each scavenge in this loop and went to
  // the old generation (9 MB in a loop of list queries); driven with a callback, about 10 KB do.
  // Measured in a process of its own (test/support/pg-survivors.ts), outside the test runner.
  const { stdout } = await run(
    process.execPath,
    [
      '--expose-gc',
      fileURLToPath(new URL('../support/pg-survivors.ts', import.meta.url)),
      database.url!,
      '8',
    ],
    { encoding: 'utf8' },
  );
  const r = JSON.parse(stdout) as { grew: number; scavenges: number; queries: number; majorRan: boolean };
  assert.equal(r.scavenges, 8, `the loop ran ${r.queries} queries and ${r.scavenges} scavenges`);
  if (r.majorRan) return; // a major collection freed the old generation meanwhile: nothing to read
  assert.ok(
    r.grew < 2 ** 20,
    `the old generation grew by ${(r.grew / 2 ** 20).toFixed(1)} MiB over ${r.scavenges} scavenges (${r.queries} queries)`,
  );
});
