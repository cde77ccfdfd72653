import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import sharp from 'sharp';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { createFakeClock, type FakeClock } from '../../src/domain/clock.ts';
import { runJobsUntilIdle } from '../../src/jobs/runner.ts';
import { sweepAttachments } from '../../src/services/attachments.ts';
import { issueInstanceToken } from '../../src/services/instance-admin.ts';
import { erasureSettled, purgeExpired } from '../../src/services/recycle-bin.ts';
import { inTransaction } from '../../src/services/tx.ts';
import type { Store } from '../../src/store/db.ts';
import { call } from '../support/app.ts';
import { createTestDatabase, onlyOn } from '../support/db.ts';
import { makeOrg, type Person, type TestOrg } from '../support/factories.ts';
import { startS3 } from '../support/s3.ts';
import { connectStream } from '../support/stream.ts';

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
   * Markers already overwritten before the purge (a replaced draft, a message deleted for
   * everyone): they may be gone before it, so the search does not expect to find them then.
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
    // Deleted for everyone: erased at the delete already (the test below checks that).
    const m3 = await send(a, `deleted for everyone ${mark(`tombstone${n}`, true)}`);
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

/** Every frame one stream socket was sent from `since` (catch-up over a real WebSocket), up to `ready`. */
async function catchUp(base: string, token: string): Promise<unknown[]> {
  const client = await connectStream(base, { token, since: 0 });
  await client.next((f) => f.type === 'ready', 10_000);
  await client.close();
  return client.frames;
}

/** Each table's rows as text (what SQL can still read), keyed by table. */
async function tableContents(ctx: AppContext): Promise<Map<string, string>> {
  const names =
    ctx.caps.dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(ctx.db)
      : await sql<{
          name: string;
        }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(ctx.db);
  const out = new Map<string, string>();
  for (const { name } of names.rows) {
    const { rows } = await sql`select * from ${sql.table(name)}`.execute(ctx.db);
    out.set(name, JSON.stringify(rows));
  }
  return out;
}

describe('deleted means gone on every path (both databases)', () => {
  test('a delete for everyone, the bin, a restore and a purge: no marker on any path, the control on all', async () => {
    const database = await createTestDatabase();
    const r = await start(database.open());
    const base = await r.app.listen({ port: 0, host: '127.0.0.1' });
    const { app } = r;
    const sockets: Awaited<ReturnType<typeof connectStream>>[] = [];
    try {
      const o = await makeOrg(r.ctx);
      const owner = o.owner;
      const bob = await o.user('member', 'Bob');
      const op = await o.user('operator', 'Otto');
      const vera = await o.visitor('Vera');
      const people = { owner, bob, op, vera };
      const ok = (res: { status: number; raw: string }, what: string) =>
        assert.ok(res.status >= 200 && res.status < 300, `${what}: ${res.status} ${res.raw.slice(0, 300)}`);
      const types = await call(app, owner.token, 'GET', '/v1/webhooks/event-types');
      const hook = await call(app, owner.token, 'POST', '/v1/webhooks', {
        url: hookUrl,
        events: types.body.items ?? types.body.event_types ?? types.body,
      });
      assert.equal(hook.status, 201, hook.raw);
      const dept = await call(app, owner.token, 'POST', '/v1/departments', { name: 'Support' });
      ok(
        await call(app, owner.token, 'PUT', `/v1/departments/${dept.body.id}/operators`, {
          operator_ids: [op.actor.id],
        }),
        'operators',
      );
      for (const p of Object.values(people)) {
        const s = await connectStream(base, { token: p.token });
        await s.next((f) => f.type === 'ready');
        sockets.push(s);
      }
      /** The frames the live sockets received after `marks` (each socket's count then). */
      const liveSince = (marks: number[]) => sockets.flatMap((s, i) => s.frames.slice(marks[i]));

      // Markers: deleted for everyone (text, pre-edit text, metadata, a pending delivery's text),
      // in the binned chat (question, text, pre-edit text, metadata), and a control that stays.
      const del = {
        delText: marker('deltext'),
        delMeta: marker('delmeta'),
        delEdited: marker('deledited'),
        delPending: marker('delpending'),
      };
      const bin = {
        binQuestion: marker('binq'),
        binText: marker('bintext'),
        binMeta: marker('binmeta'),
        binEdited: marker('binedited'),
        binRace: marker('binrace'),
      };
      const control = marker('control');

      const g = await call(app, owner.token, 'POST', '/v1/conversations', {
        kind: 'group',
        title: 'g',
        member_ids: [bob.actor.id],
      });
      ok(g, 'group');
      const gid: string = g.body.id;
      ok(
        await call(app, owner.token, 'POST', `/v1/conversations/${gid}/messages`, {
          text: `kept ${control}`,
          metadata: { note: control },
        }),
        'control',
      );
      const sendBody = { text: `secret ${del.delText}`, metadata: { note: del.delMeta } };
      const key = { 'idempotency-key': `del-${randomBytes(6).toString('hex')}` };
      const m = await call(app, bob.token, 'POST', `/v1/conversations/${gid}/messages`, sendBody, key);
      assert.equal(m.status, 201, m.raw);
      ok(
        await call(app, bob.token, 'PATCH', `/v1/conversations/${gid}/messages/${m.body.id}`, {
          text: `edited ${del.delEdited}`,
        }),
        'edit',
      );
      ok(
        await call(app, owner.token, 'PUT', `/v1/conversations/${gid}/pin`, { message_id: m.body.id }),
        'pin',
      );

      const chat = await call(app, vera.token, 'POST', '/v1/support/chats', {
        department_id: dept.body.id,
        question: `question ${bin.binQuestion}`,
      });
      ok(chat, 'chat');
      const cid: string = chat.body.id;
      ok(await call(app, op.token, 'POST', `/v1/support/chats/${cid}/pickup`), 'pickup');
      const cm = await call(app, vera.token, 'POST', `/v1/conversations/${cid}/messages`, {
        text: `before ${bin.binText}`,
        metadata: { note: bin.binMeta },
      });
      ok(cm, 'chat message');
      ok(
        await call(app, vera.token, 'PATCH', `/v1/conversations/${cid}/messages/${cm.body.id}`, {
          text: `after ${bin.binEdited}`,
        }),
        'chat edit',
      );
      ok(await call(app, op.token, 'POST', `/v1/support/chats/${cid}/end`), 'end');

      // The deliveries so far fail for good (20 attempts): their payloads are failed ones.
      for (let i = 0; i < 22; i++) {
        r.clock.advance(3_600_000);
        await runJobsUntilIdle(r.ctx);
      }
      const failed = await call(
        app,
        owner.token,
        'GET',
        `/v1/webhooks/${hook.body.id}/deliveries?status=failed&limit=100`,
      );
      assert.ok(
        failed.raw.includes(del.delText) && failed.raw.includes(bin.binText),
        'failed deliveries carry the text before',
      );
      // A delivery still pending when its message is deleted.
      const m2 = await call(app, bob.token, 'POST', `/v1/conversations/${gid}/messages`, {
        text: `soon gone ${del.delPending}`,
      });
      ok(m2, 'send');
      for (const s of sockets.slice(0, 2))
        await s.received((f) => f.event === 'message.created' && f.data.message.id === m2.body.id, 5_000);
      const beforeDelete = sockets.map((s) => s.frames.length);

      const gone = await call(app, bob.token, 'DELETE', `/v1/conversations/${gid}/messages/${m.body.id}`);
      assert.equal(gone.status, 200, gone.raw);
      assert.equal(gone.body.text, null);
      ok(await call(app, bob.token, 'DELETE', `/v1/conversations/${gid}/messages/${m2.body.id}`), 'delete');
      ok(await call(app, owner.token, 'POST', '/v1/conversations/delete', { ids: [cid] }), 'bin');
      // A write that raced the move to the bin: committed after it, into the binned chat.
      await inTransaction(r.ctx, async (tx) => {
        tx.emit(o.org.id, [
          {
            type: 'message.created',
            conversationId: cid,
            recipients: [],
            audience: 'members',
            payload: { message: { id: cm.body.id, conversation_id: cid, text: bin.binRace } },
          },
        ]);
      });
      // A later event every socket of the group gets: the live stream has delivered what came before.
      ok(await call(app, owner.token, 'PATCH', `/v1/conversations/${gid}`, { title: 'later' }), 'title');
      for (const s of sockets.slice(0, 2)) await s.received((f) => f.event === 'conversation.updated', 5_000);
      await new Promise((resolve) => setTimeout(resolve, 300));

      /** What every path shows now, by path. */
      const paths = async (): Promise<Map<string, string>> => {
        const out = new Map<string, string>();
        const get = async (who: keyof typeof people, url: string) =>
          (await call(app, people[who].token, 'GET', url)).raw;
        out.set('REST messages', await get('bob', `/v1/conversations/${gid}/messages?limit=100`));
        out.set('REST message', await get('bob', `/v1/conversations/${gid}/messages/${m.body.id}`));
        out.set('REST pin', await get('bob', `/v1/conversations/${gid}/pin`));
        for (const who of Object.keys(people) as (keyof typeof people)[])
          out.set(`REST conversations (${who})`, await get(who, '/v1/conversations?limit=100'));
        out.set('REST chat', await get('vera', `/v1/conversations/${cid}/messages?limit=100`));
        out.set('REST support chats', await get('op', '/v1/support/chats?limit=100'));
        out.set('REST recycle bin', await get('owner', '/v1/recycle-bin'));
        const replay = await call(app, bob.token, 'POST', `/v1/conversations/${gid}/messages`, sendBody, key);
        out.set('Idempotency-Key replay', replay.raw);
        for (const who of Object.keys(people) as (keyof typeof people)[])
          out.set(`catch-up (${who})`, JSON.stringify(await catchUp(base, people[who].token)));
        const deliveries: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await call(
            app,
            owner.token,
            'GET',
            `/v1/webhooks/${hook.body.id}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
          );
          deliveries.push(page.raw);
          cursor = page.body.next_cursor;
        } while (cursor);
        out.set('webhook deliveries', deliveries.join('\n'));
        for (const status of ['failed', 'pending', 'succeeded'])
          out.set(
            `webhook export (${status})`,
            (
              await call(
                app,
                owner.token,
                'GET',
                `/v1/webhooks/${hook.body.id}/deliveries/export?status=${status}`,
              )
            ).raw,
          );
        return out;
      };
      const hits = (shown: Map<string, string>, markers: Record<string, string>) =>
        [...shown].flatMap(([path, text]) =>
          Object.entries(markers)
            .filter(([, mk]) => text.includes(mk))
            .map(([name]) => `${name} in ${path}`),
        );

      // Deleted for everyone: on no path, and in no table; the control is.
      const shown = await paths();
      assert.ok(shown.get('Idempotency-Key replay')!.includes(m.body.id), 'the replay answers the tombstone');
      shown.set('live (after the delete)', JSON.stringify(liveSince(beforeDelete)));
      assert.deepEqual(hits(shown, del), [], 'nothing deleted for everyone is shown');
      // The recycle bin's own list shows what an admin decides on (reference, question).
      const binList = shown.get('REST recycle bin')!;
      shown.delete('REST recycle bin');
      assert.deepEqual(hits(shown, bin), [], 'nothing of the binned chat is shown');
      assert.ok(
        binList.includes(bin.binQuestion) && !binList.includes(bin.binText),
        'the bin lists the question only',
      );
      for (const path of ['REST messages', 'catch-up (bob)', 'webhook deliveries', 'webhook export (failed)'])
        assert.ok(shown.get(path)!.includes(control), `the control is shown by ${path}`);
      const tables = await tableContents(r.ctx);
      assert.deepEqual(hits(tables, del), [], 'no table holds what was deleted for everyone');
      assert.ok(hits(tables, { control }).length > 0, 'the tables hold the control');
      if (database.sqlitePath) {
        await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(r.ctx.db);
        const files = [database.sqlitePath, `${database.sqlitePath}-wal`, `${database.sqlitePath}-shm`];
        const raw = findMarkers(files, [...Object.values(del), control]);
        assert.deepEqual(
          Object.entries(del)
            .filter(([, mk]) => raw.has(mk))
            .map(([n]) => `${n} in ${raw.get(del[n as keyof typeof del])}`),
          [],
          'no byte of it in the SQLite files after a checkpoint',
        );
        assert.ok(raw.has(control), 'the files hold the control');
      }

      // Restored: the chat is shown again, as it was (the filter, not a loss, hid it).
      ok(await call(app, owner.token, 'POST', '/v1/recycle-bin/restore', { ids: [cid] }), 'restore');
      const restored = await paths();
      const back = hits(restored, { binText: bin.binText, binQuestion: bin.binQuestion });
      assert.ok(
        back.some((h) => h.startsWith('binText in catch-up (vera)')),
        `catch-up shows it again: ${back}`,
      );
      assert.ok(
        back.some((h) => h.startsWith('binText in webhook deliveries')),
        `deliveries show it again: ${back}`,
      );

      // Binned again and purged: gone from every path, every table and (SQLite) every file.
      ok(await call(app, owner.token, 'POST', '/v1/conversations/delete', { ids: [cid] }), 'bin again');
      ok(await call(app, owner.token, 'POST', '/v1/recycle-bin/purge', { ids: [cid] }), 'purge');
      await erasureSettled(r.ctx);
      const purged = await paths();
      assert.deepEqual(hits(purged, { ...del, ...bin }), [], 'nothing shown after the purge');
      assert.deepEqual(hits(await tableContents(r.ctx), { ...del, ...bin }), [], 'no table holds it');
      if (database.sqlitePath) {
        const files = [database.sqlitePath, `${database.sqlitePath}-wal`, `${database.sqlitePath}-shm`];
        const raw = findMarkers(files, [...Object.values({ ...del, ...bin }), control]);
        assert.deepEqual([...raw.keys()], [control], 'only the control is in the SQLite files');
      }
      process.stdout.write(
        `# erasure paths (${r.ctx.caps.dialect}): ${shown.size} paths x ${Object.keys({ ...del, ...bin }).length} markers, 0 hits; ` +
          `control on ${[...shown].filter(([, t]) => t.includes(control)).length} paths\n`,
      );
    } finally {
      for (const s of sockets) await s.close();
      await r.close();
      await database.drop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The message search index (migration 2026-12-04T03-00-message-search). Kept apart from the
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

      // The GIN index: asked directly (sequential scans off, so the answer comes from the index
      // and the heap rows it points to), no deleted, replaced or purged word finds a row, dead
      // ones included; the purge's VACUUM has run (erasureSettled).
      const viaIndex = (word: string) =>
        r.ctx.db.connection().execute(async (db) => {
          await sql`set enable_seqscan = off`.execute(db);
          try {
            const plan = (
              await sql<{ 'QUERY PLAN': string }>`explain select id from message
                where search @@ to_tsquery('simple', ${`'${word}'`})`.execute(db)
            ).rows
              .map((x) => x['QUERY PLAN'])
              .join(' ');
            assert.match(plan, /message_search/, 'the query is answered from the GIN index');
            const { rows } = await sql<{ n: string | number }>`select count(*) as n from message
              where search @@ to_tsquery('simple', ${`'${word}'`})`.execute(db);
            return Number(rows[0]!.n);
          } finally {
            await sql`reset enable_seqscan`.execute(db);
          }
        });
      for (const k of ['deleted', 'original', 'purged', 'purgedDeleted'] as const)
        assert.equal(await viaIndex(m[k]), 0, `${k}: the GIN index answers no row`);
      assert.equal(await viaIndex(m.control), 1, 'the control word is answered by the index');
      // Raw bytes of the index file: a GIN entry tree keeps a key whose posting list VACUUM
      // emptied (it finds no row, as above); REINDEX rebuilds it without. Measured where the
      // data directory is readable, and asserted after the REINDEX.
      const indexFile = async () => {
        const dir = await sql<{ d: string }>`select current_setting('data_directory') as d`
          .execute(r.ctx.db)
          .then((x) => x.rows[0]!.d)
          .catch(() => null);
        const rel = (
          await sql<{ f: string }>`select pg_relation_filepath('message_search') as f`.execute(r.ctx.db)
        ).rows[0]!.f;
        await sql`CHECKPOINT`.execute(r.ctx.db);
        const f = dir ? join(dir, rel) : null;
        return f && existsSync(f) ? f : null;
      };
      const gin = await indexFile();
      if (gin) {
        const keysLeft = findMarkers([gin], [m.purged, m.deleted].map(tail)).size;
        await sql`REINDEX INDEX message_search`.execute(r.ctx.db);
        const rebuilt = await indexFile();
        assert.ok(rebuilt);
        assert.deepEqual([...findMarkers([rebuilt], [m.purged, m.deleted].map(tail)).keys()], []);
        assert.equal(
          findMarkers([rebuilt], [tail(m.control)]).size,
          1,
          'the control word is in the index file',
        );
        process.stdout.write(
          `# erasure postgres GIN: ${keysLeft} of 2 erased words still a key in the index file after VACUUM (no row found by them); 0 after REINDEX\n`,
        );
      }
    } finally {
      await r.close();
      await store.close().catch(() => undefined);
      await database.drop();
    }
  });
});

/** A PNG of random pixels: its stored bytes (original and preview) occur nowhere else. */
function noisyPng(size = 48): Promise<Buffer> {
  return sharp(randomBytes(size * size * 3), { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/** 32 bytes from the middle of a stored file (a marker for bytes Parley re-encodes). */
async function storedSlice(ctx: AppContext, key: string): Promise<Buffer> {
  const bytes = await ctx.blobs.get(key);
  assert.ok(bytes && bytes.byteLength > 64, `${key} is stored`);
  const mid = Math.floor(bytes.byteLength / 2);
  return Buffer.from(bytes.subarray(mid, mid + 32));
}

describe('erasure of attachment files (both storage back ends)', () => {
  for (const backend of ['file', 's3'] as const) {
    test(`${backend}: a delete for everyone, a deletion job, the bin's purge and the day-old sweep leave no marker byte in storage`, async () => {
      const s3 = backend === 's3' ? await startS3() : undefined;
      const folder = s3 ? s3.dir : mkdtempSync(join(tmpdir(), 'parley-erasure-files-'));
      const database = await createTestDatabase();
      const store = database.open();
      const r = await start(store, { STORAGE_URL: s3 ? s3.url : pathToFileURL(folder).href });
      try {
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
        const doomed = await group();
        // A support chat, for the recycle bin: an operator attaches a file, ends the chat, bins it.
        const op = await o.user('operator', 'Otto');
        const dept = await call(r.app, o.owner.token, 'POST', '/v1/departments', { name: 'Support' });
        await call(r.app, o.owner.token, 'PUT', `/v1/departments/${dept.body.id}/operators`, {
          operator_ids: [op.actor.id],
        });
        const visitor = await o.visitor('Vera');
        const chat = await call(r.app, visitor.token, 'POST', '/v1/support/chats', {
          department_id: dept.body.id,
          question: 'help',
        });
        assert.equal(chat.status, 201, chat.raw);
        const binned = chat.body.id as string;
        assert.equal((await call(r.app, op.token, 'POST', `/v1/support/chats/${binned}/pickup`)).status, 200);
        const markers = new Map<string | Buffer, string>();
        const upload = async (conversation: string, what: string, image = false, who = o.owner) => {
          const m = marker(what);
          if (!image) markers.set(m, what);
          const res = await r.app.inject({
            method: 'POST',
            url: `/v1/conversations/${conversation}/attachments?name=${what}.${image ? 'png' : 'txt'}`,
            headers: { authorization: `Bearer ${who.token}` },
            payload: image ? await noisyPng() : Buffer.from(`file ${m} end\n`),
          });
          assert.equal(res.statusCode, 201, res.body);
          const id = res.json().id as string;
          // An image is stored re-encoded (no metadata): its markers are slices of the stored
          // original and preview (random pixels: found nowhere else).
          if (image)
            for (const [key, suffix] of [
              [`${o.org.id}/${id}`, ''],
              [`${o.org.id}/${id}.preview`, '.preview'],
            ] as const)
              markers.set(await storedSlice(r.ctx, key), `${what}${suffix}`);
          return { id, marker: m };
        };
        const send = async (conversation: string, attachments: string[], who = o.owner) => {
          const res = await call(r.app, who.token, 'POST', `/v1/conversations/${conversation}/messages`, {
            text: 'with files',
            attachments,
          });
          assert.equal(res.status, 201, res.raw);
          return res.body.id as string;
        };
        const control = await upload(kept, 'control');
        markers.delete(control.marker);
        await send(kept, [control.id]);
        const del = await send(kept, [
          (await upload(kept, 'deleted')).id,
          (await upload(kept, 'deletedimg', true)).id,
        ]);
        await send(doomed, [(await upload(doomed, 'job')).id, (await upload(doomed, 'jobimg', true)).id]);
        await send(binned, [(await upload(binned, 'binned', false, op)).id], op);
        assert.equal((await call(r.app, op.token, 'POST', `/v1/support/chats/${binned}/end`)).status, 200);
        await upload(kept, 'unattached');

        /** Every stored byte: the files under the folder (s3rver keeps objects as files too). */
        const stored = () => {
          const bytes: Buffer[] = [];
          for (const e of readdirSync(folder, { recursive: true, withFileTypes: true }))
            if (e.isFile()) bytes.push(readFileSync(join(e.parentPath, e.name)));
          return Buffer.concat(bytes);
        };
        const left = () => {
          const all = stored();
          return [...markers].filter(([m]) => all.includes(m)).map(([, what]) => what);
        };
        assert.deepEqual(
          left().sort(),
          [
            'binned',
            'deleted',
            'deletedimg',
            'deletedimg.preview',
            'job',
            'jobimg',
            'jobimg.preview',
            'unattached',
          ],
          'every marker is stored before (the search works on these bytes)',
        );

        const ok = (res: { status: number; raw: string }, what: string) =>
          assert.ok(res.status >= 200 && res.status < 300, `${what}: ${res.status} ${res.raw}`);
        ok(await call(r.app, o.owner.token, 'DELETE', `/v1/conversations/${kept}/messages/${del}`), 'delete');
        const job = await call(r.app, o.owner.token, 'POST', '/v1/deletion-jobs', {
          conversation_ids: [doomed],
        });
        assert.equal(job.status, 202, job.raw);
        await runJobsUntilIdle(r.ctx);
        // The bin: the closed chat deleted (to the bin), then purged.
        ok(await call(r.app, o.owner.token, 'POST', '/v1/conversations/delete', { ids: [binned] }), 'bin');
        const purge = await call(r.app, o.owner.token, 'POST', '/v1/recycle-bin/purge', { ids: [binned] });
        assert.equal(purge.status, 200, purge.raw);
        assert.deepEqual(
          left().sort(),
          ['unattached'],
          'only the unattached upload is left before the day is out',
        );
        r.clock.advance(25 * 3_600_000);
        await sweepAttachments(r.ctx);
        assert.deepEqual(left(), [], 'no marker byte is left in storage');
        assert.ok(
          stored().includes(control.marker),
          'the kept attachment is still stored (the search can fail)',
        );
        assert.deepEqual(
          (await r.ctx.blobs.list()).sort(),
          [`${o.org.id}/${control.id}`],
          `only the kept file is in the ${backend === 's3' ? 'bucket' : 'folder'}`,
        );
        process.stdout.write(
          `# erasure attachments (${backend}): ${markers.size} markers stored, 0 left; control kept\n`,
        );
      } finally {
        await r.close();
        await store.close().catch(() => undefined);
        await database.drop();
        if (s3) await s3.close();
        else rmSync(folder, { recursive: true, force: true });
      }
    });
  }
});

describe('erasure of a deleted org (instance admin, delete as a job; both storage back ends)', () => {
  for (const backend of ['file', 's3'] as const) {
    test(`${backend}: no file of the org is left in storage and no marker in storage or the database`, async () => {
      const s3 = backend === 's3' ? await startS3() : undefined;
      const folder = s3 ? s3.dir : mkdtempSync(join(tmpdir(), 'parley-erasure-org-'));
      const database = await createTestDatabase();
      const store = database.open();
      const r = await start(store, { STORAGE_URL: s3 ? s3.url : pathToFileURL(folder).href });
      try {
        const admin = (await issueInstanceToken(r.ctx, { name: 'erasure' })).token;
        const o = await makeOrg(r.ctx);
        const kept = await makeOrg(r.ctx);
        const bob = await o.user('member', 'Bob');
        /** Markers of the deleted org: in text, file names, file bytes and stored images. */
        const markers = new Map<string | Buffer, string>();
        const mark = (what: string) => {
          const m = marker(what);
          markers.set(m, what);
          return m;
        };
        const group = async (owner: Person, members: string[]) => {
          const res = await call(r.app, owner.token, 'POST', '/v1/conversations', {
            kind: 'group',
            title: 'g',
            member_ids: members,
          });
          assert.equal(res.status, 201, res.raw);
          return res.body.id as string;
        };
        const upload = async (
          org: TestOrg,
          who: Person,
          conversation: string,
          name: string,
          body: Buffer,
        ) => {
          const res = await r.app.inject({
            method: 'POST',
            url: `/v1/conversations/${conversation}/attachments?name=${encodeURIComponent(name)}`,
            headers: { authorization: `Bearer ${who.token}` },
            payload: body,
          });
          assert.equal(res.statusCode, 201, res.body);
          const id = res.json().id as string;
          assert.ok(await r.ctx.blobs.get(`${org.org.id}/${id}`), 'stored under the org');
          return id;
        };
        const send = async (who: Person, conversation: string, text: string, attachments: string[]) => {
          const res = await call(r.app, who.token, 'POST', `/v1/conversations/${conversation}/messages`, {
            text,
            attachments,
          });
          assert.equal(res.status, 201, res.raw);
        };

        const g = await group(o.owner, [bob.actor.id]);
        const doc = await upload(
          o,
          bob,
          g,
          `${mark('filename')}.txt`,
          Buffer.from(`bytes ${mark('filebytes')}\n`),
        );
        const img = await upload(o, bob, g, 'photo.png', await noisyPng());
        markers.set(await storedSlice(r.ctx, `${o.org.id}/${img}`), 'image');
        markers.set(await storedSlice(r.ctx, `${o.org.id}/${img}.preview`), 'image preview');
        await send(bob, g, `files ${mark('text')}`, [doc, img]);
        // Never attached: the org's deletion takes it too, not only the day-old sweep.
        await upload(o, o.owner, g, 'draft.txt', Buffer.from(`unattached ${mark('unattached')}\n`));
        const other = await group(o.owner, []);
        await send(o.owner, other, `second conversation ${mark('second')}`, [
          await upload(o, o.owner, other, 'b.txt', Buffer.from(`second file ${mark('secondfile')}\n`)),
        ]);
        // The other org keeps its file and text: the searches below can find bytes.
        const control = marker('control');
        const kg = await group(kept.owner, []);
        await send(kept.owner, kg, `kept ${control}`, [
          await upload(kept, kept.owner, kg, 'kept.txt', Buffer.from(`kept file ${control}\n`)),
        ]);

        const stored = () => {
          const bytes: Buffer[] = [];
          for (const e of readdirSync(folder, { recursive: true, withFileTypes: true }))
            if (e.isFile()) bytes.push(readFileSync(join(e.parentPath, e.name)));
          return Buffer.concat(bytes);
        };
        const inStorage = () => {
          const all = stored();
          return [...markers].filter(([m]) => all.includes(m)).map(([, what]) => what);
        };
        const sqliteFiles = database.sqlitePath
          ? [database.sqlitePath, `${database.sqlitePath}-wal`, `${database.sqlitePath}-shm`]
          : [];
        const textMarkers = [...markers.keys()].filter((m): m is string => typeof m === 'string');
        /** Markers still readable through SQL, and (SQLite) in the raw bytes of its files. */
        const inDatabase = async () => {
          const tables = [...(await tableContents(r.ctx))];
          const found = new Set<string>();
          for (const m of [...textMarkers, control]) {
            if (tables.some(([, rows]) => rows.includes(m))) found.add(m);
            if (findMarkers(sqliteFiles, [m]).size > 0) found.add(m);
          }
          return found;
        };
        assert.deepEqual(
          inStorage().sort(),
          ['filebytes', 'image', 'image preview', 'secondfile', 'unattached'],
          'the marker bytes are in storage before (the search works on these bytes)',
        );
        const before = await inDatabase();
        // File bytes live in storage only; names and text in the database.
        assert.deepEqual(
          textMarkers.filter((m) => !before.has(m)).map((m) => markers.get(m)),
          ['filebytes', 'unattached', 'secondfile'],
          'every other text marker is in the database before (the search works)',
        );
        const orgKeys = async () => (await r.ctx.blobs.list()).filter((k) => k.startsWith(`${o.org.id}/`));
        assert.equal((await orgKeys()).length, 5, 'two files, an image and its preview, one unattached');

        const del = await call(r.app, admin, 'DELETE', `/v1/instance/orgs/${o.org.id}`);
        assert.equal(del.status, 202, del.raw);
        assert.equal(del.body.job.selector.kind, 'org');
        await runJobsUntilIdle(r.ctx);
        await erasureSettled(r.ctx);
        const gone = await call(r.app, admin, 'GET', `/v1/instance/orgs/${o.org.id}`);
        assert.equal(gone.status, 404, 'the org is gone');

        assert.deepEqual(
          await orgKeys(),
          [],
          `no file of the org is left in the ${backend === 's3' ? 'bucket' : 'folder'}`,
        );
        if (backend === 'file')
          assert.deepEqual(
            readdirSync(folder).filter((name) => name === o.org.id),
            [],
            'not even the org folder (its id) is left',
          );
        assert.deepEqual(inStorage(), [], 'no marker byte is left in storage');
        const after = await inDatabase();
        assert.deepEqual(
          textMarkers.filter((m) => after.has(m)).map((m) => markers.get(m)),
          [],
          'no marker is left in the database (SQL and, on SQLite, the raw files)',
        );
        assert.ok(after.has(control), 'the other org is still in the database (the search can fail)');
        assert.ok(stored().includes(control), 'the other org keeps its file (the search can fail)');
        assert.equal((await call(r.app, kept.owner.token, 'GET', '/v1/conversations')).status, 200);
        process.stdout.write(
          `# erasure org deletion (${backend}, ${r.ctx.caps.dialect}): ${markers.size} markers, 0 left; control kept\n`,
        );
      } finally {
        await r.close();
        await store.close().catch(() => undefined);
        await database.drop();
        if (s3) await s3.close();
        else rmSync(folder, { recursive: true, force: true });
      }
    });
  }
});
