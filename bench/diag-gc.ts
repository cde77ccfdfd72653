/**
 * A diagnostic, not a benchmark: how much of each list request outlives a young-generation
 * collection (scavenge), layer by layer. Runs `n` calls one at a time at one layer, on a list
 * store (`npm run bench -- --db postgres --only list --keep` leaves one), between the lines
 * `start` and `end` on stderr; V8's own tracing gives each scavenge's pause and the bytes it kept
 * (new_space_survived, promoted):
 *
 *   node --trace-gc-nvp bench/diag-gc.ts <databaseUrl> <orgId> <actorId> <mode> [n] 2>&1 \
 *     | sed -n '/^start/,/^end/p' | grep 'gc=s'
 *
 * Modes, from the top down: service (listConversations), repo (listConversationsForActor), count
 * (a small Kysely select on Parley's store), mentions (the mention counts of a page), kplain
 * (Kysely on a plain pg.Pool), pgconnect (pool.connect, client.query's promise, release),
 * pgclient (one pg.Client, its promise), pgclientcb (one pg.Client, a callback), pgcount
 * (pool.query), pg (pool.query of a list-like join). Found with it (2026-12-05): every mode that
 * awaits node-postgres's own promise kept about 9 MB per scavenge; a callback, about 40 KB.
 */
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { Scope } from '../src/domain/scopes.ts';
import { listConversations } from '../src/services/conversations.ts';

const [databaseUrl, orgId, actorId, mode = 'service'] = process.argv.slice(2);
const n = Number(process.argv[6] ?? 3000);
const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
const { app, ctx } = await buildApp(config);
await app.ready();
const actor = await ctx.db
  .selectFrom('actor')
  .selectAll()
  .where('id', '=', actorId!)
  .executeTakeFirstOrThrow();
const principal = { orgId: orgId!, actor: actor as any, scopes: new Set(Scope), tokenId: null };
console.error('start');
if (mode === 'service') {
  for (let i = 0; i < n; i++) await listConversations(ctx, principal as any, { limit: 50 });
} else if (mode === 'repo+mentions') {
  const { listConversationsForActor } = await import('../src/store/repos/conversations.ts');
  const { mentionCounts } = await import('../src/store/repos/team-chat.ts');
  for (let i = 0; i < n; i++) {
    const rows = await listConversationsForActor(ctx.db, {
      orgId: orgId!,
      actorId: actorId!,
      hidden: false,
      now: Date.now(),
      limit: 51,
    });
    if (process.env.AWAIT_BEFORE === 'null') await null;
    if (process.env.AWAIT_BEFORE === 'import') await import('../src/store/repos/team-chat.ts');
    if (process.env.KEYSET) {
      const { keysetPage } = await import('../src/services/cursor.ts');
      keysetPage(rows, 50, 'conversations', (last) => [
        last.me.pinned ? 1 : 0,
        last.me.activityAt,
        last.conversation.id,
      ]);
    }
    if (process.env.AWAIT_BEFORE === 'immediate') await new Promise((r) => setImmediate(r));
    await mentionCounts(
      ctx.db,
      actorId!,
      rows.slice(0, 50).map((r) => r.conversation.id),
    );
  }
} else if (mode.startsWith('copy')) {
  const { listConversationsForActor } = await import('../src/store/repos/conversations.ts');
  const { withMentionCounts } = await import('../src/services/mentions.ts');
  const { keysetPage } = await import('../src/services/cursor.ts');
  for (let i = 0; i < n; i++) {
    const rows = await listConversationsForActor(ctx.db, {
      orgId: orgId!,
      actorId: actorId!,
      hidden: false,
      now: Date.now(),
      limit: 51,
    });
    const page =
      mode === 'copy-nokeyset'
        ? { items: rows.slice(0, 50), nextCursor: null }
        : keysetPage(rows, 50, 'conversations', (last) => [
            last.me.pinned ? 1 : 0,
            last.me.activityAt,
            last.conversation.id,
          ]);
    if (mode === 'copy-nowith') continue;
    if (mode === 'copy-mutate' || mode === 'copy-array') {
      const { mentionCounts } = await import('../src/store/repos/team-chat.ts');
      const counts = await mentionCounts(
        ctx.db,
        actorId!,
        page.items.map((v) => v.conversation.id),
      );
      if (mode === 'copy-mutate')
        for (const v of page.items) (v as any).mentionCount = counts.get(v.conversation.id) ?? 0;
      else page.items.map((v) => ({ ...v, mentionCount: counts.get(v.conversation.id) ?? 0 }));
      continue;
    }
    await withMentionCounts(ctx, actorId!, page.items);
  }
} else if (mode === 'repo') {
  const { listConversationsForActor } = await import('../src/store/repos/conversations.ts');
  for (let i = 0; i < n; i++)
    await listConversationsForActor(ctx.db, {
      orgId: orgId!,
      actorId: actorId!,
      hidden: false,
      now: Date.now(),
      limit: 51,
    });
} else if (mode === 'count') {
  for (let i = 0; i < n * 3; i++)
    await ctx.db
      .selectFrom('membership')
      .select('conversation_id')
      .where('actor_id', '=', actorId!)
      .limit(500)
      .execute();
} else if (mode === 'mentions') {
  const { mentionCounts } = await import('../src/store/repos/team-chat.ts');
  const ids = (
    await ctx.db
      .selectFrom('membership')
      .select('conversation_id')
      .where('actor_id', '=', actorId!)
      .limit(50)
      .execute()
  ).map((r) => r.conversation_id);
  for (let i = 0; i < n * 3; i++) await mentionCounts(ctx.db, actorId!, ids);
} else if (mode === 'kplain') {
  const { Kysely, PostgresDialect } = await import('kysely');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const k = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  for (let i = 0; i < n * 3; i++)
    await k
      .selectFrom('membership')
      .select('conversation_id')
      .where('actor_id', '=', actorId!)
      .limit(500)
      .execute();
  await k.destroy();
} else if (mode === 'pgcount') {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  for (let i = 0; i < n * 3; i++)
    await pool.query('select conversation_id from membership where actor_id = $1 limit $2', [actorId, 500]);
  await pool.end();
} else if (mode === 'pgconnect') {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  for (let i = 0; i < n * 3; i++) {
    const client = await pool.connect();
    try {
      await client.query('select conversation_id from membership where actor_id = $1 limit $2', [
        actorId,
        500,
      ]);
    } finally {
      client.release();
    }
  }
  await pool.end();
} else if (mode === 'pgconnect-p' || mode === 'pgconnect-cb') {
  // pool.connect by promise or by callback; the query by callback in both.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const text = 'select conversation_id from membership where actor_id = $1 limit $2';
  for (let i = 0; i < n * 3; i++) {
    const client: pg.PoolClient =
      mode === 'pgconnect-p'
        ? await pool.connect()
        : await new Promise((resolve, reject) => pool.connect((e, c) => (e ? reject(e) : resolve(c!))));
    try {
      await new Promise((resolve, reject) =>
        client.query(text, [actorId, 500], (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))),
      );
    } finally {
      client.release();
    }
  }
  await pool.end();
} else if (mode === 'pgclient') {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  for (let i = 0; i < n * 3; i++)
    await client.query('select conversation_id from membership where actor_id = $1 limit $2', [actorId, 500]);
  await client.end();
} else if (mode === 'pgclientcb') {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  for (let i = 0; i < n * 3; i++)
    await new Promise((resolve, reject) =>
      client.query(
        'select conversation_id from membership where actor_id = $1 limit $2',
        [actorId, 500],
        (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)),
      ),
    );
  await client.end();
} else if (mode === 'pg') {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const text = `select m.*, c.*, lm.* from membership m join conversation c on c.id = m.conversation_id
    left join message lm on lm.id = c.last_message_id where m.actor_id = $1 order by c.last_activity_at desc limit 51`;
  for (let i = 0; i < n; i++) await pool.query({ name: 'x', text, values: [actorId] });
  await pool.end();
}
console.error('end');
await app.close();
