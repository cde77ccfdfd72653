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
 * Modes, from the top down: service (listConversations: the page held across its mention
 * counts), repo+mentions (the same queries, the page not held), repo (listConversationsForActor),
 * count (a small Kysely select on Parley's store), kplain (the same on Kysely over a plain
 * pg.Pool), pgclient (one pg.Client, awaited through node-postgres's promise), pgclientcb (the
 * same with a callback), pgcount (pool.query). Found with it (2026-12-05): every mode that awaits
 * node-postgres's own promise kept about 9 MB per scavenge; a callback, about 40 KB.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { Scope } from '../src/domain/scopes.ts';
import { listConversations } from '../src/services/conversations.ts';
import { listConversationsForActor } from '../src/store/repos/conversations.ts';
import { mentionCounts } from '../src/store/repos/team-chat.ts';
import type { Db } from '../src/store/schema.ts';

const [databaseUrl, orgId, actorId, mode = 'service'] = process.argv.slice(2);
const n = Number(process.argv[6] ?? 3000);
if (!databaseUrl || !orgId || !actorId)
  throw new Error('usage: diag-gc.ts <databaseUrl> <orgId> <actorId> <mode> [n]');
const { app, ctx } = await buildApp(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }));
await app.ready();
const actor = await ctx.db
  .selectFrom('actor')
  .selectAll()
  .where('id', '=', actorId)
  .executeTakeFirstOrThrow();
const principal = { orgId, actor: actor as any, scopes: new Set(Scope), tokenId: null };

const page = () =>
  listConversationsForActor(ctx.db, { orgId, actorId, hidden: false, now: Date.now(), limit: 51 });
const memberships = (db: Db | Kysely<any>) =>
  (db as Db)
    .selectFrom('membership')
    .select('conversation_id')
    .where('actor_id', '=', actorId)
    .limit(500)
    .execute();
const text = 'select conversation_id from membership where actor_id = $1 limit $2';
/** `times` runs of `fn` on a pg.Client of its own. */
const onClient = async (times: number, fn: (c: pg.Client) => Promise<unknown>) => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  for (let i = 0; i < times; i++) await fn(client);
  await client.end();
};

const modes: Record<string, () => Promise<void>> = {
  service: async () => {
    for (let i = 0; i < n; i++) await listConversations(ctx, principal as any, { limit: 50 });
  },
  'repo+mentions': async () => {
    for (let i = 0; i < n; i++) {
      const ids = (await page()).slice(0, 50).map((r) => r.conversation.id);
      await mentionCounts(ctx.db, actorId, ids);
    }
  },
  repo: async () => {
    for (let i = 0; i < n; i++) await page();
  },
  count: async () => {
    for (let i = 0; i < n * 3; i++) await memberships(ctx.db);
  },
  kplain: async () => {
    const k = new Kysely<any>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl }) }),
    });
    for (let i = 0; i < n * 3; i++) await memberships(k);
    await k.destroy();
  },
  pgclient: () => onClient(n * 3, (c) => c.query(text, [actorId, 500])),
  pgclientcb: () =>
    onClient(
      n * 3,
      (c) =>
        new Promise((resolve, reject) =>
          c.query(text, [actorId, 500], (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))),
        ),
    ),
  pgcount: async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl });
    for (let i = 0; i < n * 3; i++) await pool.query(text, [actorId, 500]);
    await pool.end();
  },
};
const run = modes[mode];
if (!run) throw new Error(`mode: one of ${Object.keys(modes).join(', ')}`);
console.error('start');
await run();
console.error('end');
await app.close();
