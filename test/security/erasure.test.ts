import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { createFakeClock, type FakeClock } from '../../src/domain/clock.ts';
import { runJobsUntilIdle } from '../../src/jobs/runner.ts';
import { erasureSettled, purgeExpired } from '../../src/services/recycle-bin.ts';
import type { Store } from '../../src/store/db.ts';
import { call } from '../support/app.ts';
import { createTestDatabase, onlyOn } from '../support/db.ts';
import { makeOrg, type Person, type TestOrg } from '../support/factories.ts';

/**
 * Erasure: once a conversation is purged (the recycle bin's retention purge, an admin's explicit
 * purge, a deletion job), no text of it can be found anywhere in the database's files. Every
 * place text is copied to gets a unique random marker (message text, the text an edit replaced,
 * drafts, a pinned message, the support question, webhook delivery payloads, event rows, stored
 * idempotent answers, a message long enough for overflow pages), and the raw bytes of the files
 * are searched after the purge: SQLite's .db, -wal and -shm; PostgreSQL's table files.
 */

const SOAK = process.env.PARLEY_SOAK === '1';
const marker = (what: string) => `MRK${what}${randomBytes(8).toString('hex')}`;

/** A webhook receiver that refuses everything: deliveries stay in the database, payloads and all. */
let receiver: Server;
let hookUrl: string;
before(async () => {
  receiver = createServer((_req, res) => res.writeHead(500).end('no'));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  assert.ok(address && typeof address === 'object');
  hookUrl = `http://127.0.0.1:${address.port}/hook`;
});
after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

interface Running {
  app: Awaited<ReturnType<typeof buildApp>>['app'];
  ctx: AppContext;
  clock: FakeClock;
  close(): Promise<void>;
}

/** The server's own store and app on a database of our choosing, group commit as in production. */
async function start(store: Store, env: Record<string, string> = {}): Promise<Running> {
  const clock = createFakeClock(Date.UTC(2026, 10, 21, 9, 0, 0));
  const config = loadConfig({ NODE_ID: '7', DELETION_WINDOW: 'any', DELETION_CHUNK_SIZE: '2', ...env });
  const { app, ctx } = await buildApp(config, { store, clock });
  await app.ready();
  return { app, ctx, clock, close: () => app.close() };
}

interface Scenario {
  /** Markers of the conversations that are purged. */
  purged: Map<string, string>;
  /**
   * Markers already overwritten before the purge (a replaced draft): with secure_delete and a
   * busy log they may be gone before it, so the search does not expect to find them then.
   */
  replaced: Set<string>;
  /** A marker in a conversation that is kept: it must still be found (so the search can fail). */
  control: string;
  chatIds: string[];
  groupId: string;
  o: TestOrg;
}

/**
 * In one org: a webhook for every event, a support chat with text everywhere it can be copied,
 * a group conversation with its own markers, and a kept support chat with the control marker.
 * The support chat ends up closed and in the recycle bin.
 */
async function scenario(r: Running, count = 1): Promise<Scenario> {
  const { app } = r;
  const o = await makeOrg(r.ctx);
  const owner = o.owner;
  const types = await call(app, owner.token, 'GET', '/v1/webhooks/event-types');
  const hook = await call(app, owner.token, 'POST', '/v1/webhooks', {
    url: hookUrl,
    events: types.body.items ?? types.body.event_types ?? types.body,
  });
  assert.equal(hook.status, 201, hook.raw);
  const op = await o.user('operator', 'Otto');
  const dept = await call(app, owner.token, 'POST', '/v1/departments', { name: 'Support' });
  await call(app, owner.token, 'PUT', `/v1/departments/${dept.body.id}/operators`, {
    operator_ids: [op.actor.id],
  });
  const purged = new Map<string, string>();
  const replaced = new Set<string>();
  const mark = (what: string, replacedBeforePurge = false) => {
    const m = marker(what);
    purged.set(m, what);
    if (replacedBeforePurge) replaced.add(m);
    return m;
  };
  const ok = (res: { status: number; raw: string }, what: string) =>
    assert.ok(res.status >= 200 && res.status < 300, `${what}: ${res.status} ${res.raw.slice(0, 200)}`);

  const fill = async (id: string, a: Person, b: Person, n: number) => {
    const send = (who: Person, text: string, headers: Record<string, string> = {}) =>
      call(app, who.token, 'POST', `/v1/conversations/${id}/messages`, { text }, headers);
    const m1 = await send(a, `hello ${mark(`text${n}`)}`, {
      'idempotency-key': `k-${randomBytes(6).toString('hex')}`,
    });
    ok(m1, 'send');
    const m2 = await send(b, `before the edit ${mark(`original${n}`)}`);
    ok(
      await call(app, b.token, 'PATCH', `/v1/conversations/${id}/messages/${m2.body.id}`, {
        text: `after the edit ${mark(`edited${n}`)}`,
      }),
      'edit',
    );
    const m3 = await send(a, `deleted for everyone ${mark(`tombstone${n}`)}`);
    ok(await call(app, a.token, 'DELETE', `/v1/conversations/${id}/messages/${m3.body.id}`), 'delete');
    ok(await send(b, `${'long text '.repeat(700)}${mark(`overflow${n}`)}${' end'.repeat(300)}`), 'long');
    ok(await call(app, a.token, 'PUT', `/v1/conversations/${id}/pin`, { message_id: m1.body.id }), 'pin');
    ok(
      await call(app, a.token, 'PUT', `/v1/conversations/${id}/draft`, {
        text: `draft ${mark(`draft${n}`)}`,
      }),
      'draft',
    );
    ok(
      await call(app, b.token, 'PUT', `/v1/conversations/${id}/draft`, {
        text: `a draft ${mark(`draftb${n}`, true)}`,
      }),
      'draft',
    );
    ok(await call(app, b.token, 'PUT', `/v1/conversations/${id}/draft`, { text: 'replaced draft' }), 'draft');
  };

  const chatIds: string[] = [];
  for (let n = 0; n < count; n++) {
    const visitor = await o.visitor(`Vera ${n}`);
    const chat = await call(
      app,
      visitor.token,
      'POST',
      '/v1/support/chats',
      { department_id: dept.body.id, question: `question ${mark(`question${n}`)}` },
      { 'idempotency-key': `q-${randomBytes(6).toString('hex')}` },
    );
    ok(chat, 'start chat');
    const id: string = chat.body.id;
    chatIds.push(id);
    ok(await call(app, op.token, 'POST', `/v1/support/chats/${id}/pickup`), 'pickup');
    await fill(id, op, visitor, n);
    ok(await call(app, op.token, 'POST', `/v1/support/chats/${id}/end`), 'end');
  }
  const bob = await o.user('member', 'Bob');
  const group = await call(app, owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'group',
    member_ids: [bob.actor.id],
  });
  await fill(group.body.id, owner, bob, count);

  // Kept: a chat of another visitor, with the control marker in a message and its events.
  const control = marker('control');
  const keeper = await o.visitor('Karl');
  const kept = await call(app, keeper.token, 'POST', '/v1/support/chats', {
    department_id: dept.body.id,
    question: 'kept question',
  });
  ok(
    await call(app, keeper.token, 'POST', `/v1/conversations/${kept.body.id}/messages`, { text: control }),
    'control',
  );

  const binned = await call(app, owner.token, 'POST', '/v1/conversations/delete', { ids: chatIds });
  ok(binned, 'delete');
  return { purged, replaced, control, chatIds, groupId: group.body.id, o };
}

/** Which markers occur in which of the files (a marker may be split across WAL frames: it is not). */
function findMarkers(files: readonly string[], markers: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const f of files) {
    if (!existsSync(f)) continue;
    const bytes = readFileSync(f);
    for (const m of markers) {
      if (bytes.indexOf(m, 0, 'utf8') >= 0) found.set(m, [...(found.get(m) ?? []), f.split('/').at(-1)!]);
    }
  }
  return found;
}

// Each database's files are searched in its own way: each describe runs in its pass of `npm test`.
describe('erasure on SQLite (the embedded database, WAL mode, group commit)', () => {
  const skip = onlyOn('sqlite', "it searches SQLite's .db, -wal and -shm files");
  const modes = ['explicit purge', 'retention purge', 'deletion job'] as const;
  for (const mode of modes) {
    test(`after a ${mode}, no text of the purged conversations is in the .db, -wal or -shm files`, {
      skip,
    }, async () => {
      const database = await createTestDatabase();
      const path = database.sqlitePath!;
      const files = [path, `${path}-wal`, `${path}-shm`];
      const r = await start(database.open());
      try {
        const s = await scenario(r, SOAK ? 20 : 2);
        const markers = [...s.purged.keys()];
        // Before: every marker is somewhere in the files (the search works on these bytes).
        const beforePurge = findMarkers(files, [...markers, s.control]);
        assert.deepEqual(
          markers.filter((m) => !beforePurge.has(m) && !s.replaced.has(m)).map((m) => s.purged.get(m)),
          [],
          'every marker is in the files before the purge',
        );

        if (mode === 'explicit purge') {
          const res = await call(r.app, s.o.owner.token, 'POST', '/v1/recycle-bin/purge', { ids: s.chatIds });
          assert.equal(res.status, 200, res.raw);
        } else if (mode === 'retention purge') {
          const res = await call(r.app, s.o.owner.token, 'PATCH', '/v1/support/settings', {
            recycle_bin_days: 1,
          });
          assert.equal(res.status, 200, res.raw);
          r.clock.advance(2 * 86_400_000);
          assert.equal(await purgeExpired(r.ctx), s.chatIds.length);
        }
        // The group conversation goes by a deletion job in every mode (the chats too, in this one).
        const ids = mode === 'deletion job' ? [...s.chatIds, s.groupId] : [s.groupId];
        const job = await call(r.app, s.o.owner.token, 'POST', '/v1/deletion-jobs', {
          conversation_ids: ids,
        });
        assert.equal(job.status, 202, job.raw);
        await runJobsUntilIdle(r.ctx);
        const done = await call(r.app, s.o.owner.token, 'GET', `/v1/deletion-jobs/${job.body.id}`);
        assert.equal(done.body.status, 'completed', done.raw);
        const purgedRows = await r.ctx.db
          .selectFrom('conversation')
          .select('id')
          .where('id', 'in', [...s.chatIds, s.groupId])
          .execute();
        assert.deepEqual(purgedRows, [], 'the conversations are gone');

        const afterPurge = findMarkers(files, [...markers, s.control]);
        const left = markers
          .filter((m) => afterPurge.has(m))
          .map((m) => `${s.purged.get(m)} in ${afterPurge.get(m)}`);
        assert.deepEqual(left, [], 'no purged text is left in the files');
        assert.ok(
          afterPurge.has(s.control),
          'the kept conversation is still there (the search can find text)',
        );
        process.stdout.write(
          `# erasure sqlite (${mode}): ${markers.length} markers, ${beforePurge.size - 1} found before, ` +
            `${left.length} after; control found in ${afterPurge.get(s.control)}\n`,
        );
      } finally {
        await r.close();
        await database.drop();
      }
    });
  }
});

describe('erasure on PostgreSQL', () => {
  const skip = onlyOn('postgres', "it searches PostgreSQL's table files");
  test('a purge vacuums the purged tables; what stays in the table files until VACUUM FULL is measured', {
    skip,
  }, async (tc) => {
    const url = process.env.TEST_DATABASE_URL!;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    let dataDir: string | null = null;
    try {
      dataDir = String((await admin.query('show data_directory')).rows[0].data_directory);
      readFileSync(join(dataDir, 'PG_VERSION'));
    } catch {
      dataDir = null;
    } finally {
      await admin.end();
    }
    if (!dataDir)
      return tc.skip("the PostgreSQL data directory is not readable here (run on the database's host)");
    const database = await createTestDatabase();
    const store = database.open(4);
    const r = await start(store);
    try {
      const s = await scenario(r, SOAK ? 20 : 2);
      const markers = [...s.purged.keys()];
      const tables = [
        'message',
        'event',
        'webhook_delivery',
        'sticky_message',
        'membership',
        'conversation',
        'idempotency_key',
      ];
      /** The heap and TOAST files of the tables, after a checkpoint wrote every dirty page to them. */
      const tableFiles = async () => {
        await sql`CHECKPOINT`.execute(r.ctx.db);
        const files: string[] = [];
        for (const t of tables) {
          const { rows } = await sql<{ heap: string; toast: string | null }>`
            select pg_relation_filepath(c.oid) as heap, pg_relation_filepath(nullif(c.reltoastrelid, 0)) as toast
            from pg_class c where c.relname = ${t} and c.relkind = 'r'`.execute(r.ctx.db);
          for (const row of rows) files.push(...[row.heap, row.toast].filter((f): f is string => !!f));
        }
        return files.map((f) => join(dataDir!, f));
      };
      const beforePurge = findMarkers(await tableFiles(), markers);
      assert.ok(beforePurge.size > 0, 'the markers are in the table files before the purge');

      const res = await call(r.app, s.o.owner.token, 'POST', '/v1/recycle-bin/purge', { ids: s.chatIds });
      assert.equal(res.status, 200, res.raw);
      const job = await call(r.app, s.o.owner.token, 'POST', '/v1/deletion-jobs', {
        conversation_ids: [s.groupId],
      });
      assert.equal(job.status, 202, job.raw);
      await runJobsUntilIdle(r.ctx);
      await erasureSettled(r.ctx);
      const stats = await sql<{ relname: string; last_vacuum: unknown }>`
        select relname, last_vacuum from pg_stat_user_tables where relname = 'message'`.execute(r.ctx.db);
      assert.ok(stats.rows[0]?.last_vacuum, 'the purge vacuumed the message table');
      const control = findMarkers(await tableFiles(), [s.control]);
      assert.ok(
        control.has(s.control),
        'the kept conversation is in the table files (the search can find text)',
      );
      const afterVacuum = findMarkers(await tableFiles(), markers);

      // The documented operator step for a guarantee on the table files: VACUUM FULL rewrites them.
      await sql`VACUUM FULL ${sql.join(tables.map((t) => sql.table(t)))}`.execute(r.ctx.db);
      const afterFull = findMarkers(await tableFiles(), markers);
      assert.deepEqual(
        [...afterFull.keys()].map((m) => s.purged.get(m)),
        [],
        'after VACUUM FULL no purged text is in the table files',
      );
      assert.ok(
        findMarkers(await tableFiles(), [s.control]).has(s.control),
        'the kept text survives VACUUM FULL',
      );

      // The current WAL segment still holds the inserts (until it is recycled): measured, not asserted.
      const { rows } = await sql<{ f: string }>`select pg_walfile_name(pg_current_wal_lsn()) as f`.execute(
        r.ctx.db,
      );
      const inWal = findMarkers([join(dataDir, 'pg_wal', rows[0]!.f)], markers).size;
      process.stdout.write(
        `# erasure postgres: ${markers.length} markers; in table files before ${beforePurge.size}, ` +
          `after purge + VACUUM ${afterVacuum.size} (dead space, unreachable), after VACUUM FULL ${afterFull.size}; ` +
          `in the current WAL segment ${inWal}\n`,
      );
    } finally {
      await r.close();
      await store.close().catch(() => undefined);
      await database.drop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The message search index (migration 2026-12-04T02-00-message-search). Kept apart from the
// scenarios above: its own org and markers. The index stores words lower-cased (and SQLite's
// FTS5 stores a term after a shared prefix with the one before it), so the markers are
// lower-case and the byte search looks for each marker's unique tail.
describe('erasure from the message search index', () => {
  const lower = (what: string) => `srch${what}${randomBytes(8).toString('hex')}`;
  const tail = (m: string) => m.slice(-12);

  async function indexScenario(r: Running) {
    const o = await makeOrg(r.ctx);
    const bob = await o.user('member', 'Bob');
    const group = async () =>
      (
        await call(r.app, o.owner.token, 'POST', '/v1/conversations', {
          kind: 'group',
          title: 'g',
          member_ids: [bob.actor.id],
        })
      ).body.id as string;
    const kept = await group();
    const purged = await group();
    const send = async (id: string, text: string) => {
      const res = await call(r.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text });
      assert.equal(res.status, 201, res.raw);
      return res.body.id as string;
    };
    const m = {
      control: lower('control'),
      deleted: lower('deleted'),
      original: lower('original'),
      edited: lower('edited'),
      purged: lower('purged'),
      purgedDeleted: lower('purgeddeleted'),
    };
    await send(kept, `kept ${m.control}`);
    const del = await send(kept, `deleted for everyone ${m.deleted}`);
    const ed = await send(kept, `before the edit ${m.original}`);
    await send(purged, `purged ${m.purged}`);
    const pdel = await send(purged, `purged and deleted ${m.purgedDeleted}`);
    for (const [id, mid] of [
      [kept, del],
      [purged, pdel],
    ] as const)
      assert.equal(
        (await call(r.app, o.owner.token, 'DELETE', `/v1/conversations/${id}/messages/${mid}`)).status,
        200,
      );
    const edit = await call(r.app, o.owner.token, 'PATCH', `/v1/conversations/${kept}/messages/${ed}`, {
      text: `after the edit ${m.edited}`,
    });
    assert.equal(edit.status, 200, edit.raw);
    const found = async (marker: string) =>
      (await call(r.app, o.owner.token, 'GET', `/v1/search/messages?q=${marker}`)).body.items.length;
    const purge = async () => {
      const job = await call(r.app, o.owner.token, 'POST', '/v1/deletion-jobs', {
        conversation_ids: [purged],
      });
      assert.equal(job.status, 202, job.raw);
      await runJobsUntilIdle(r.ctx);
      await erasureSettled(r.ctx);
    };
    return { m, found, purge };
  }

  test('SQLite: FTS5 shadow tables and the files hold no deleted, replaced or purged word', {
    skip: onlyOn('sqlite', "it reads SQLite's FTS5 shadow tables and files"),
  }, async () => {
    const database = await createTestDatabase();
    const path = database.sqlitePath!;
    const r = await start(database.open());
    try {
      const { m, found, purge } = await indexScenario(r);
      /** The index's vocabulary (every term with an entry), and the raw bytes of its shadow tables. */
      const index = async () => {
        await sql`create virtual table if not exists temp.search_vocab using fts5vocab(main, message_fts, row)`.execute(
          r.ctx.db,
        );
        const vocab = new Set(
          (await sql<{ term: string }>`select term from temp.search_vocab`.execute(r.ctx.db)).rows.map(
            (x) => x.term,
          ),
        );
        const shadows = (
          await sql<{
            name: string;
          }>`select name from sqlite_master where type = 'table' and name like 'message_fts_%'`.execute(
            r.ctx.db,
          )
        ).rows.map((x) => x.name);
        assert.ok(
          shadows.includes('message_fts_data') && shadows.includes('message_fts_idx'),
          String(shadows),
        );
        const chunks: Buffer[] = [];
        for (const t of shadows) {
          const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(r.ctx.db))
            .rows;
          for (const row of rows)
            for (const v of Object.values(row))
              chunks.push(v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v)));
        }
        const bytes = Buffer.concat(chunks);
        return { vocab, has: (marker: string) => vocab.has(marker) || bytes.includes(tail(marker)) };
      };

      const before = await index();
      assert.ok(
        before.has(m.control) && before.has(m.edited) && before.has(m.purged),
        'the index holds live words',
      );
      for (const k of ['deleted', 'original', 'purgedDeleted'] as const)
        assert.equal(before.has(m[k]), false, `${k}: a word deleted or replaced in its own transaction`);
      assert.equal(await found(m.deleted), 0);
      assert.equal(await found(m.original), 0);
      assert.equal(await found(m.control), 1);

      await purge();
      assert.equal(await found(m.purged), 0);
      const afterPurge = await index();
      assert.equal(afterPurge.has(m.purged), false, 'the purged word left the index');
      assert.ok(afterPurge.has(m.control), 'the control word is still found (the check can fail)');
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(r.ctx.db);
      const files = [path, `${path}-wal`, `${path}-shm`];
      const inFiles = findMarkers(files, [m.purged, m.purgedDeleted].map(tail));
      assert.deepEqual([...inFiles.keys()], [], 'no purged word in the files');
      assert.ok(findMarkers(files, [tail(m.control)]).size === 1, 'the control word is in the files');
    } finally {
      await r.close();
      await database.drop();
    }
  });

  test('PostgreSQL: the tsvector column holds no deleted, replaced or purged word', {
    skip: onlyOn('postgres', "it reads PostgreSQL's tsvector column"),
  }, async () => {
    const database = await createTestDatabase();
    const store = database.open(4);
    const r = await start(store);
    try {
      const { m, found, purge } = await indexScenario(r);
      const lexemes = async () =>
        (
          await sql<{
            v: string;
          }>`select coalesce(string_agg(search::text, ' '), '') as v from message`.execute(r.ctx.db)
        ).rows[0]!.v;
      const before = await lexemes();
      assert.ok(before.includes(m.control) && before.includes(m.edited) && before.includes(m.purged));
      for (const k of ['deleted', 'original', 'purgedDeleted'] as const)
        assert.equal(before.includes(tail(m[k])), false, `${k} is not in any tsvector`);
      assert.equal(await found(m.deleted), 0);
      assert.equal(await found(m.control), 1);
      await purge();
      const after = await lexemes();
      assert.equal(after.includes(tail(m.purged)), false, 'the purged word left with its row');
      assert.ok(after.includes(m.control), 'the control word is still there (the check can fail)');
      assert.equal(await found(m.purged), 0);
    } finally {
      await r.close();
      await store.close().catch(() => undefined);
      await database.drop();
    }
  });
});
