/**
 * Fault test: a deletion job over many conversations runs in a real `parley serve` process,
 * which is killed with SIGKILL in the middle of the job. At that moment the database must hold
 * exactly what the job's counts say it deleted; after a restart the job resumes where it
 * stopped and completes with exact totals, one completion event and one mail.
 * Runs on SQLite (a file) and, with TEST_DB=postgres, on a fresh PostgreSQL database.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createTestDatabase, testDialect } from '../../support/db.ts';
import { makeOrg, seedConversations } from '../../support/factories.ts';
import { type RunningServer, startServer } from '../../support/server.ts';

const CONVERSATIONS = 60;
const MESSAGES_EACH = 40;

let dir: string;
let env: NodeJS.ProcessEnv;
let dropDatabase: (() => Promise<void>) | undefined;
let server: RunningServer | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-crash-'));
  env = {
    ...process.env,
    REDIS_URL: '',
    DATABASE_URL: '',
    SQLITE_PATH: join(dir, 'parley.db'),
    NODE_ID: '21',
    DELETION_WINDOW: 'any',
    // Small steps, so the job is long enough to be killed in the middle.
    DELETION_CHUNK_SIZE: '2',
    DELETION_BATCH_SIZE: '15',
    DELETION_DUTY_PERCENT: '20',
  };
  if (testDialect === 'postgres') {
    const db = await createTestDatabase({ dialect: 'postgres' });
    env.DATABASE_URL = db.url!;
    dropDatabase = () => db.drop();
  }
});

after(async () => {
  await server?.stop('SIGKILL');
  await dropDatabase?.();
  await rm(dir, { recursive: true, force: true });
});

/** An app on the same database as the server, for seeding and for looking at rows directly. */
async function openDirect() {
  const { app, ctx } = await buildApp(loadConfig({ ...(env as Record<string, string>), NODE_ID: '22' }));
  return { ctx, close: () => app.close() };
}

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${server!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('a job killed mid-way resumes after a restart and completes with exact counts', {
  timeout: 90_000,
}, async () => {
  const seeding = await openDirect();
  const o = await makeOrg(seeding.ctx);
  const targets = await seedConversations(seeding.ctx, {
    orgId: o.org.id,
    members: [o.owner.actor],
    count: CONVERSATIONS,
    messagesEach: MESSAGES_EACH,
  });
  const keep = await seedConversations(seeding.ctx, {
    orgId: o.org.id,
    members: [o.owner.actor],
    count: 2,
    messagesEach: 5,
  });
  await seeding.close();

  server = await startServer(env);
  const created = await api('POST', '/v1/deletion-jobs', o.owner.token, { conversation_ids: targets });
  assert.equal(created.status, 202);
  const jobId: string = created.body.id;

  // Wait until the job is clearly under way, then kill the process without warning.
  const deadline = Date.now() + 30_000;
  let seen: any;
  for (;;) {
    seen = (await api('GET', `/v1/deletion-jobs/${jobId}`, o.owner.token)).body;
    if (seen.counts.conversations_deleted >= 8) break;
    assert.ok(Date.now() < deadline, `the job made no progress: ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await server.stop('SIGKILL');
  server = undefined;

  // What is on disk now is exactly what the job's counts say it deleted.
  const look = await openDirect();
  const row = await look.ctx.db
    .selectFrom('deletion_job')
    .selectAll()
    .where('id', '=', jobId)
    .executeTakeFirstOrThrow();
  const left = await look.ctx.db
    .selectFrom('message')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('conversation_id', 'in', targets)
    .executeTakeFirstOrThrow();
  const convsLeft = await look.ctx.db
    .selectFrom('conversation')
    .select('id')
    .where('id', 'in', targets)
    .execute();
  await look.close();
  assert.equal(row.status, 'running');
  const deletedSoFar = Number(row.conversations_deleted);
  assert.ok(deletedSoFar >= 8 && deletedSoFar < CONVERSATIONS, `killed mid-way (${deletedSoFar} deleted)`);
  assert.equal(
    Number(row.messages_deleted),
    CONVERSATIONS * MESSAGES_EACH - Number(left.n),
    'message count exact at the kill',
  );
  assert.equal(convsLeft.length, CONVERSATIONS - deletedSoFar, 'conversation count exact at the kill');

  server = await startServer(env);
  let done: any;
  const restartDeadline = Date.now() + 60_000;
  for (;;) {
    done = (await api('GET', `/v1/deletion-jobs/${jobId}`, o.owner.token)).body;
    if (done.status !== 'running' && done.status !== 'queued') break;
    assert.ok(
      Date.now() < restartDeadline,
      `the job did not finish after the restart: ${JSON.stringify(done)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.counts, {
    conversations_deleted: CONVERSATIONS,
    messages_deleted: CONVERSATIONS * MESSAGES_EACH,
    conversations_skipped: 0,
  });
  assert.equal(done.progress.conversations_total, CONVERSATIONS);
  for (const id of keep)
    assert.equal((await api('GET', `/v1/conversations/${id}`, o.owner.token)).status, 200);
  await server.stop();
  server = undefined;

  const check = await openDirect();
  const remaining = await check.ctx.db
    .selectFrom('message')
    .select('id')
    .where('conversation_id', 'in', targets)
    .execute();
  const audit = await check.ctx.db
    .selectFrom('audit_event')
    .select('target_id')
    .where('org_id', '=', o.org.id)
    .where('action', '=', 'conversation.purged')
    .execute();
  const events = await check.ctx.db
    .selectFrom('event')
    .select('type')
    .where('org_id', '=', o.org.id)
    .where('type', '=', 'deletion_job.completed')
    .execute();
  const mail = await check.ctx.db
    .selectFrom('mail_outbox')
    .select('status')
    .where('org_id', '=', o.org.id)
    .execute();
  const kept = await check.ctx.db
    .selectFrom('message')
    .select('id')
    .where('conversation_id', 'in', keep)
    .execute();
  await check.close();
  assert.equal(remaining.length, 0);
  assert.equal(audit.length, CONVERSATIONS, 'one audit record per conversation, none twice');
  assert.equal(new Set(audit.map((a) => a.target_id)).size, CONVERSATIONS);
  assert.equal(events.length, 1, 'one completion event');
  assert.equal(mail.length, 1, 'one mail for the owner');
  assert.equal(kept.length, 10, 'the other conversations are untouched');
});
