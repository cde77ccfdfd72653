import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createIdGenerator } from '../../../src/domain/ids.ts';
import { runJobsUntilIdle } from '../../../src/jobs/runner.ts';
import { call } from '../../support/app.ts';
import {
  closeAfterConcurrency,
  makeDepartment,
  makeOrg,
  type Person,
  seedConversations,
  startWaitingChat,
  type TestOrg,
} from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

// Small chunks and batches, so every job here takes many steps.
const t = useTestApp(
  { DELETION_CHUNK_SIZE: '3', DELETION_BATCH_SIZE: '7' },
  { close: closeAfterConcurrency },
);

const JOB_ID = /^cdj-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const at = (iso: string) => Date.parse(iso);

const createJob = (person: Person, body: unknown, headers: Record<string, string> = {}) =>
  call(t.app, person.token, 'POST', '/v1/deletion-jobs', body, headers);
const getJob = async (person: Person, id: string) =>
  (await call(t.app, person.token, 'GET', `/v1/deletion-jobs/${id}`)).body;
const anyTime = (o: TestOrg) =>
  call(t.app, o.owner.token, 'PUT', '/v1/deletion-jobs/window', { any_time: true });

async function messageCount(ids: readonly string[]): Promise<number> {
  const row = await t.ctx.db
    .selectFrom('message')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('conversation_id', 'in', ids)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

async function conversationRows(ids: readonly string[]): Promise<number> {
  const rows = await t.ctx.db.selectFrom('conversation').select('id').where('id', 'in', ids).execute();
  return rows.length;
}

describe('deletion jobs by conversation ids', () => {
  test('queued at once, run off-peak in chunks, exact counts, then gone everywhere with a record left', async () => {
    t.clock.set(at('2026-11-21T09:00:00Z'));
    const o = await makeOrg(t.ctx);
    const bob = await o.user('member', 'Bob');
    const targets = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor, bob.actor],
      count: 8,
      messagesEach: 11,
    });
    const keep = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor, bob.actor],
      count: 2,
      messagesEach: 5,
    });
    const res = await createJob(o.owner, { conversation_ids: targets });
    assert.equal(res.status, 202);
    const job = res.body;
    assert.match(job.id, JOB_ID);
    assert.equal(job.status, 'queued');
    assert.equal(job.submitted_at, '2026-11-21T09:00:00.000Z');
    // The server default window is 00:00-06:00 UTC: at 09:00 the job waits for tomorrow night.
    assert.equal(job.not_before, '2026-11-22T00:00:00.000Z');
    assert.deepEqual(job.selector, { kind: 'conversations', conversation_ids: targets });
    assert.deepEqual(job.requested_by, { actor_id: o.owner.actor.id, app_id: null });

    await runJobsUntilIdle(t.ctx);
    assert.equal((await getJob(o.owner, job.id)).status, 'queued', 'nothing runs outside the window');
    assert.equal(await messageCount(targets), 88);

    t.clock.set(at('2026-11-22T01:30:00Z'));
    const ran = await runJobsUntilIdle(t.ctx);
    assert.ok(ran.steps > 8, `ran in many small steps (${ran.steps})`);
    const done = await getJob(o.owner, job.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, {
      conversations_deleted: 8,
      messages_deleted: 88,
      conversations_skipped: 0,
    });
    assert.deepEqual(done.progress, { conversations_total: 8, conversations_done: 8, percent: 100 });
    assert.equal(done.started_at, '2026-11-22T01:30:00.000Z');
    assert.equal(done.finished_at, '2026-11-22T01:30:00.000Z');
    assert.equal(done.error, null);

    assert.equal(await messageCount(targets), 0);
    assert.equal(await conversationRows(targets), 0);
    const members = await t.ctx.db
      .selectFrom('member')
      .select('actor_id')
      .where('conversation_id', 'in', targets)
      .execute();
    assert.equal(members.length, 0);
    for (const id of targets.slice(0, 2)) {
      const got = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`);
      assert.equal(got.status, 404);
    }
    // The others are untouched.
    assert.equal(await messageCount(keep), 10);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${keep[0]}`)).status, 200);

    const audit = await call(
      t.app,
      o.owner.token,
      'GET',
      '/v1/audit-events?action=conversation.purged&limit=100',
    );
    const purged = audit.body.items.filter((e: any) => e.details.job_id === job.id);
    const created = await call(
      t.app,
      o.owner.token,
      'GET',
      '/v1/audit-events?action=deletion_job.created&limit=100',
    );
    const mine = created.body.items.filter((e: any) => e.target_id === job.id);
    assert.equal(mine.length, 1, 'the job is audited once, when it was asked for');
    assert.equal(mine[0].target_type, 'deletion_job');
    assert.equal(mine[0].actor_id, o.owner.actor.id);
    assert.deepEqual(mine[0].details, { conversation_ids: targets, dry_run: false });
    assert.deepEqual(purged.map((e: any) => e.target_id).sort(), [...targets].sort());
    assert.ok(
      purged.every((e: any) => e.details.reason === 'deletion_job' && e.actor_id === o.owner.actor.id),
    );

    const events = await t.ctx.db
      .selectFrom('event')
      .select(['type', 'recipients', 'payload'])
      .where('org_id', '=', o.org.id)
      .where('type', 'like', 'deletion_job.%')
      .execute();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'deletion_job.completed');
    assert.deepEqual(JSON.parse(events[0]!.recipients), [o.owner.actor.id]);
    assert.equal(JSON.parse(events[0]!.payload).messages_deleted, 88);

    const list = await call(t.app, o.owner.token, 'GET', '/v1/deletion-jobs?status=completed');
    assert.deepEqual(
      list.body.items.map((j: any) => j.id),
      [job.id],
    );
  });

  test('Idempotency-Key: a retry returns the same job and queues nothing more', async () => {
    const o = await makeOrg(t.ctx);
    const [id] = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 1,
      messagesEach: 1,
    });
    const first = await createJob(o.owner, { conversation_ids: [id] }, { 'idempotency-key': 'job-1' });
    const again = await createJob(o.owner, { conversation_ids: [id] }, { 'idempotency-key': 'job-1' });
    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body.id, first.body.id);
    const reused = await createJob(
      o.owner,
      { conversation_ids: [id], dry_run: true },
      { 'idempotency-key': 'job-1' },
    );
    assert.equal(reused.status, 409);
    const list = await call(t.app, o.owner.token, 'GET', '/v1/deletion-jobs');
    assert.equal(list.body.items.length, 1);
  });

  test('a dry run counts what it would delete, deletes nothing, and runs outside the window', async () => {
    t.clock.set(at('2026-11-21T12:00:00Z'));
    const o = await makeOrg(t.ctx);
    const ids = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 5,
      messagesEach: 4,
    });
    const res = await createJob(o.owner, { conversation_ids: ids, dry_run: true });
    assert.equal(res.status, 202);
    assert.equal(res.body.dry_run, true);
    assert.equal(res.body.not_before, '2026-11-21T12:00:00.000Z');
    await runJobsUntilIdle(t.ctx);
    const done = await getJob(o.owner, res.body.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, {
      conversations_deleted: 5,
      messages_deleted: 20,
      conversations_skipped: 0,
    });
    assert.equal(await messageCount(ids), 20);
    assert.equal(await conversationRows(ids), 5);
    assert.equal((await call(t.app, o.owner.token, 'GET', `/v1/conversations/${ids[0]}`)).status, 200);
  });

  test('cancel: only while queued; a cancelled job never runs', async () => {
    const o = await makeOrg(t.ctx);
    const ids = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 2,
      messagesEach: 2,
    });
    const job = (await createJob(o.owner, { conversation_ids: ids })).body;
    const cancelled = await call(t.app, o.owner.token, 'POST', `/v1/deletion-jobs/${job.id}/cancel`, {});
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    await anyTime(o);
    await runJobsUntilIdle(t.ctx);
    assert.equal((await getJob(o.owner, job.id)).status, 'cancelled');
    assert.equal(await messageCount(ids), 4);
    const again = await call(t.app, o.owner.token, 'POST', `/v1/deletion-jobs/${job.id}/cancel`, {});
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'job_not_queued');
    assert.deepEqual(again.body.error.details, { status: 'cancelled' });
  });

  test('the window closing pauses a job between steps; it resumes where it stopped, counts exact', async () => {
    t.clock.set(at('2026-11-21T10:00:00Z'));
    const o = await makeOrg(t.ctx);
    const ids = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 7,
      messagesEach: 9,
    });
    const set = await call(t.app, o.owner.token, 'PUT', '/v1/deletion-jobs/window', {
      start: '09:00',
      end: '11:00',
      time_zone: 'UTC',
    });
    assert.equal(set.status, 200);
    assert.equal(set.body.open_now, true);
    const job = (await createJob(o.owner, { conversation_ids: ids })).body;
    let partway: any;
    // After six steps the window closes under the running job.
    await runJobsUntilIdle(t.ctx, {
      afterStep: async (n) => {
        if (n !== 6) return;
        partway = await getJob(o.owner, job.id);
        t.clock.set(at('2026-11-21T11:05:00Z'));
      },
    });
    assert.equal(partway.status, 'running');
    assert.ok(partway.counts.messages_deleted > 0 && partway.counts.messages_deleted < 63);
    const paused = await getJob(o.owner, job.id);
    assert.equal(paused.status, 'running');
    assert.equal(paused.not_before, '2026-11-22T09:00:00.000Z');
    assert.deepEqual(paused.counts, partway.counts, 'nothing happens while the window is closed');
    t.clock.set(at('2026-11-22T08:59:00Z'));
    await runJobsUntilIdle(t.ctx);
    assert.deepEqual((await getJob(o.owner, job.id)).counts, partway.counts);
    // Opening the window wider moves the paused job too: it goes on at once.
    await anyTime(o);
    assert.equal((await getJob(o.owner, job.id)).not_before, '2026-11-22T08:59:00.000Z');
    await runJobsUntilIdle(t.ctx);
    const done = await getJob(o.owner, job.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, {
      conversations_deleted: 7,
      messages_deleted: 63,
      conversations_skipped: 0,
    });
    assert.equal(await messageCount(ids), 0);
  });

  test('two runners (two nodes) on the same jobs: each job runs once, counts exact', async () => {
    const o = await makeOrg(t.ctx);
    await anyTime(o);
    const jobs: { id: string; ids: string[] }[] = [];
    for (let j = 0; j < 4; j++) {
      const ids = await seedConversations(t.ctx, {
        orgId: o.org.id,
        members: [o.owner.actor],
        count: 4,
        messagesEach: 6,
      });
      jobs.push({ id: (await createJob(o.owner, { conversation_ids: ids })).body.id, ids });
    }
    const other = { ...t.ctx, ids: createIdGenerator(9), config: { ...t.ctx.config, nodeId: 9 } };
    await Promise.all([runJobsUntilIdle(t.ctx), runJobsUntilIdle(other)]);
    for (const j of jobs) {
      const done = await getJob(o.owner, j.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.counts, {
        conversations_deleted: 4,
        messages_deleted: 24,
        conversations_skipped: 0,
      });
      assert.equal(await messageCount(j.ids), 0);
    }
    const completed = await t.ctx.db
      .selectFrom('event')
      .select('payload')
      .where('org_id', '=', o.org.id)
      .where('type', '=', 'deletion_job.completed')
      .execute();
    assert.equal(completed.length, 4, 'one completion event per job');
  });

  test('a job that keeps failing is retried with back-off, then failed, with its event and mail', async () => {
    t.clock.set(at('2026-11-21T09:00:00Z'));
    const o = await makeOrg(t.ctx);
    await anyTime(o);
    const ids = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 1,
      messagesEach: 1,
    });
    const [visitor] = [
      await call(t.app, o.owner.token, 'POST', '/v1/actors', {
        kind: 'visitor',
        name: 'V',
        external_id: 'v-9',
      }),
    ];
    assert.equal(visitor!.status, 201);
    const job = (await createJob(o.owner, { customer_id: 'v-9' })).body;
    // A stored range no run can read (as if written by a broken release): every step throws.
    const selector = JSON.stringify({
      kind: 'customer',
      customer_id: 'v-9',
      actor_id: visitor!.body.id,
      start_date: '2026-02-30',
      end_date: '2026-03-01',
    });
    await t.ctx.db.updateTable('deletion_job').set({ selector }).where('id', '=', job.id).execute();
    await runJobsUntilIdle(t.ctx);
    const retrying = await getJob(o.owner, job.id);
    assert.equal(retrying.status, 'running');
    assert.equal(retrying.error.code, 'job_error');
    const row = async () =>
      t.ctx.db.selectFrom('deletion_job').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    assert.equal((await row()).status, 'running');
    assert.equal(Number((await row()).attempts), 1);
    assert.equal(Number((await row()).not_before), t.clock.now() + 30_000);
    for (let i = 0; i < 6; i++) {
      t.clock.advance(10 * 60_000);
      await runJobsUntilIdle(t.ctx);
    }
    const failed = await row();
    assert.equal(failed.status, 'failed');
    assert.equal(Number(failed.attempts), 5);
    assert.equal(failed.error_code, 'job_error');
    const event = await t.ctx.db
      .selectFrom('event')
      .select('type')
      .where('org_id', '=', o.org.id)
      .where('type', '=', 'deletion_job.failed')
      .execute();
    assert.equal(event.length, 1);
    const mail = await t.ctx.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('org_id', '=', o.org.id)
      .execute();
    assert.equal(mail.length, 1);
    assert.match(mail[0]!.subject, /failed/);
    assert.equal(await messageCount(ids), 1, 'nothing was deleted');
  });
});

describe('deletion jobs by customer and date range', () => {
  async function customerSetup() {
    t.clock.set(at('2026-01-05T10:00:00Z'));
    const o = await makeOrg(t.ctx);
    await anyTime(o);
    const op = await o.user('operator', 'Alice');
    const sales = await makeDepartment(t.ctx, o, 'Sales');
    const billing = await makeDepartment(t.ctx, o, 'Billing');
    const visitor = await call(t.app, o.owner.token, 'POST', '/v1/actors', {
      kind: 'visitor',
      name: 'Carol Customer',
      external_id: 'cust-42',
      channel: 'website',
    });
    assert.equal(visitor.status, 201);
    const customer = visitor.body;
    const endedChat = async (iso: string, replies: number) => {
      t.clock.set(at(iso));
      const c = await startWaitingChat(t.ctx, o, customer, sales, `question at ${iso}`);
      assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${c.id}/pickup`)).status, 200);
      for (let i = 0; i < replies; i++)
        await call(t.app, op.token, 'POST', `/v1/conversations/${c.id}/messages`, { text: `reply ${i}` });
      assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${c.id}/end`)).status, 200);
      return c.id;
    };
    const feb = await endedChat('2026-02-01T08:00:00Z', 2);
    const mar = await endedChat('2026-03-15T23:59:00Z', 3);
    const jun = await endedChat('2026-06-01T00:00:00Z', 1);
    t.clock.set(at('2026-03-10T12:00:00Z'));
    const open = (await startWaitingChat(t.ctx, o, customer, billing, 'still waiting')).id;
    t.clock.set(at('2026-03-20T12:00:00Z'));
    const direct = await call(t.app, op.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [customer.id],
    });
    assert.equal(direct.status, 201);
    await call(t.app, op.token, 'POST', `/v1/conversations/${direct.body.id}/messages`, {
      text: 'follow-up',
    });
    const group = await call(t.app, op.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'beta testers',
      member_ids: [customer.id],
    });
    t.clock.set(at('2026-07-01T10:00:00Z'));
    return {
      o,
      customer,
      feb,
      mar,
      jun,
      open,
      direct: direct.body.id as string,
      group: group.body.id as string,
    };
  }

  test('deletes the support and direct chats that started in the range; open chats are skipped, groups kept', async () => {
    const s = await customerSetup();
    const inRange = [s.feb, s.mar, s.direct];
    const expected = await messageCount(inRange);
    const res = await createJob(s.o.owner, {
      customer_id: 'cust-42',
      start_date: '2026-02-01',
      end_date: '2026-03-31',
    });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body.selector, {
      kind: 'customer',
      customer_id: 'cust-42',
      start_date: '2026-02-01',
      end_date: '2026-03-31',
    });
    await runJobsUntilIdle(t.ctx);
    const done = await getJob(s.o.owner, res.body.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, {
      conversations_deleted: 3,
      messages_deleted: expected,
      conversations_skipped: 1,
    });
    assert.equal(done.progress.conversations_total, 4);
    assert.equal(await conversationRows(inRange), 0);
    assert.equal(await conversationRows([s.jun, s.open, s.group]), 3);
    assert.equal(
      (await call(t.app, s.o.owner.token, 'GET', `/v1/support/chats/${s.open}`)).body.state,
      'waiting',
    );
  });

  test('without dates: from the later of the customer and org creation to today', async () => {
    const s = await customerSetup();
    const res = await createJob(s.o.owner, { customer_id: 'cust-42', dry_run: true });
    assert.equal(res.status, 202);
    assert.equal(res.body.selector.start_date, '2026-01-05');
    assert.equal(res.body.selector.end_date, '2026-07-01');
    // A chat the customer starts after the job was submitted (the same day) is not the job's.
    t.clock.advance(60_000);
    const later = await makeDepartment(t.ctx, s.o, 'Later');
    await startWaitingChat(t.ctx, s.o, s.customer, later, 'after the job');
    await call(t.app, s.o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [s.customer.id],
    });
    await runJobsUntilIdle(t.ctx);
    const done = await getJob(s.o.owner, res.body.id);
    assert.deepEqual(
      [done.counts.conversations_deleted, done.counts.conversations_skipped],
      [4, 1],
      'feb, mar, jun and the direct chat; the open one skipped',
    );
    // A start date alone is fine when it is not after today.
    const startOnly = await createJob(s.o.owner, {
      customer_id: 'cust-42',
      start_date: '2026-06-01',
      dry_run: true,
    });
    assert.equal(startOnly.status, 202);
    assert.equal(startOnly.body.selector.end_date, '2026-07-01');
  });
});

describe('bad requests change nothing', () => {
  test('selectors, dates, ids and roles: a 4xx naming the problem, and no job', async () => {
    t.clock.set(at('2026-11-21T09:00:00Z'));
    const o = await makeOrg(t.ctx);
    const member = await o.user('member');
    const ids = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 2,
      messagesEach: 1,
    });
    await call(t.app, o.owner.token, 'POST', '/v1/actors', {
      kind: 'visitor',
      name: 'V',
      external_id: 'v-1',
    });
    const other = await makeOrg(t.ctx);
    const [foreign] = await seedConversations(t.ctx, {
      orgId: other.org.id,
      members: [other.owner.actor],
      count: 1,
      messagesEach: 1,
    });
    const sales = await makeDepartment(t.ctx, o, 'Sales');
    const waiting = await startWaitingChat(t.ctx, o, (await o.visitor()).actor, sales);

    const cases: [unknown, number, string, string?][] = [
      [{}, 400, 'selector_required'],
      [{ dry_run: true }, 400, 'selector_required'],
      [{ conversation_ids: ids, customer_id: 'v-1' }, 400, 'ambiguous_selector', 'body.customer_id'],
      [{ conversation_ids: ids, end_date: '2026-11-01' }, 400, 'dates_need_customer', 'body.end_date'],
      [{ conversation_ids: [] }, 400, 'invalid_request', 'body.conversation_ids'],
      [{ conversation_ids: ['abc'] }, 400, 'invalid_request', 'body.conversation_ids.0'],
      [{ conversation_ids: Array.from({ length: 1001 }, (_, i) => String(i + 1)) }, 400, 'invalid_request'],
      [{ conversation_ids: [...ids, '12345'] }, 404, 'conversation_not_found'],
      [{ conversation_ids: [ids[0], foreign] }, 404, 'conversation_not_found'],
      [{ conversation_ids: [ids[0], waiting.id] }, 409, 'chat_not_closed'],
      [{ customer_id: '' }, 400, 'invalid_customer_id', 'body.customer_id'],
      [{ customer_id: 'nobody' }, 404, 'customer_not_found'],
      [{ customer_id: 'v-1', end_date: '2026-11-22' }, 400, 'end_date_in_future', 'body.end_date'],
      [{ customer_id: 'v-1', start_date: '2026-11-22' }, 400, 'invalid_date_range', 'body.start_date'],
      [{ customer_id: 'v-1', start_date: '2026-10-02', end_date: '2026-10-01' }, 400, 'invalid_date_range'],
      [{ customer_id: 'v-1', start_date: '2026-02-30' }, 400, 'invalid_date', 'body.start_date'],
      [{ customer_id: 'v-1', start_date: '2026-13-01' }, 400, 'invalid_date', 'body.start_date'],
      [{ customer_id: 'v-1', end_date: '2026/11/01' }, 400, 'invalid_date', 'body.end_date'],
      [{ customer_id: 'v-1', end_date: '20261101' }, 400, 'invalid_date', 'body.end_date'],
      [{ customer_id: 'v-1', end_date: '2026-11-01T00:00:00Z' }, 400, 'invalid_date', 'body.end_date'],
      [{ customer_id: 'v-1', dry_run: 'yes' }, 400, 'invalid_request', 'body.dry_run'],
      [{ customer_id: 'v-1', force: true }, 400, 'invalid_request', 'body.force'],
    ];
    for (const [body, status, code, path] of cases) {
      const res = await createJob(o.owner, body);
      const label = JSON.stringify(body).slice(0, 80);
      assert.equal(res.status, status, `${label}: ${res.raw.slice(0, 200)}`);
      assert.equal(res.body.error.code, code, label);
      if (path) assert.equal(res.body.error.details[0].path, path, label);
    }
    const missing = await createJob(o.owner, { conversation_ids: [...ids, '12345', foreign] });
    assert.deepEqual(missing.body.error.details, { ids: ['12345', foreign] });
    const open = await createJob(o.owner, { conversation_ids: [waiting.id] });
    assert.deepEqual(open.body.error.details, { ids: [waiting.id] });

    const byMember = await createJob(member, { conversation_ids: ids });
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.error.code, 'admin_role_required');

    for (const [url, code] of [
      ['/v1/deletion-jobs/cdj-00000000-0000-4000-8000-000000000000', 404],
      ['/v1/deletion-jobs/not-a-job', 404],
    ] as const) {
      const res = await call(t.app, o.owner.token, 'GET', url);
      assert.equal(res.status, code);
      assert.equal(res.body.error.code, 'deletion_job_not_found');
    }
    const bad = await call(t.app, o.owner.token, 'GET', '/v1/deletion-jobs?cursor=nope');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_cursor');

    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/deletion-jobs')).body.items.length, 0);
    assert.equal(await messageCount(ids), 2);

    // Another org's job is not found, never refused.
    const mine = (await createJob(o.owner, { conversation_ids: ids })).body;
    const theirs = await call(t.app, other.owner.token, 'GET', `/v1/deletion-jobs/${mine.id}`);
    assert.equal(theirs.status, 404);
    const cancel = await call(t.app, other.owner.token, 'POST', `/v1/deletion-jobs/${mine.id}/cancel`, {});
    assert.equal(cancel.status, 404);
    assert.equal((await getJob(o.owner, mine.id)).status, 'queued');
  });

  test('the window: validated, per org, and queued jobs follow it', async () => {
    t.clock.set(at('2026-11-21T09:00:00Z'));
    const o = await makeOrg(t.ctx);
    const def = await call(t.app, o.owner.token, 'GET', '/v1/deletion-jobs/window');
    assert.deepEqual(def.body, {
      any_time: false,
      start: '00:00',
      end: '06:00',
      time_zone: 'UTC',
      source: 'default',
      open_now: false,
      next_opening: '2026-11-22T00:00:00.000Z',
    });
    for (const body of [
      {},
      { start: '01:00' },
      { start: '25:00', end: '02:00' },
      { start: '1:00', end: '02:00' },
      { start: '02:00', end: '02:00' },
      { start: '01:00', end: '02:00', time_zone: 'Mars/Olympus' },
      { any_time: true, start: '01:00' },
      { any_time: false },
      { start: '01:00', end: '02:00', extra: 1 },
    ]) {
      const res = await call(t.app, o.owner.token, 'PUT', '/v1/deletion-jobs/window', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const [id] = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 1,
      messagesEach: 1,
    });
    const job = (await createJob(o.owner, { conversation_ids: [id] })).body;
    assert.equal(job.not_before, '2026-11-22T00:00:00.000Z');
    // 22:00-02:00 in Kolkata (UTC+5:30) spans midnight; at 09:00 UTC (14:30 there) it next opens at 16:30 UTC.
    const set = await call(t.app, o.owner.token, 'PUT', '/v1/deletion-jobs/window', {
      start: '22:00',
      end: '02:00',
      time_zone: 'Asia/Kolkata',
    });
    assert.equal(set.status, 200);
    assert.equal(set.body.source, 'org');
    assert.equal(set.body.next_opening, '2026-11-21T16:30:00.000Z');
    assert.equal((await getJob(o.owner, job.id)).not_before, '2026-11-21T16:30:00.000Z');
    t.clock.set(at('2026-11-21T20:00:00Z')); // 01:30 in Kolkata: open
    await runJobsUntilIdle(t.ctx);
    assert.equal((await getJob(o.owner, job.id)).status, 'completed');
    const member = await o.user('member');
    const forbidden = await call(t.app, member.token, 'PUT', '/v1/deletion-jobs/window', { any_time: true });
    assert.equal(forbidden.status, 403);
  });
});
