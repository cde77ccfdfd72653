import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runJobsUntilIdle } from '../../../src/jobs/runner.ts';
import type { WorkLog } from '../../../src/services/mail.ts';
import { buildTestApp, call, type TestApp } from '../../support/app.ts';
import { makeOrg, seedConversations, type TestOrg } from '../../support/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../support/smtp.ts';

/** The owner's mail when a deletion job ends: over SMTP to a real sink, or kept in the outbox and the log. */

async function completedJob(t: TestApp, o: TestOrg, body: Record<string, unknown> = {}) {
  await call(t.app, o.owner.token, 'PUT', '/v1/deletion-jobs/window', { any_time: true });
  const ids = await seedConversations(t.ctx, {
    orgId: o.org.id,
    members: [o.owner.actor],
    count: 3,
    messagesEach: 4,
  });
  const job = await call(t.app, o.owner.token, 'POST', '/v1/deletion-jobs', {
    conversation_ids: ids,
    ...body,
  });
  assert.equal(job.status, 202);
  return { id: job.body.id as string, ids };
}

const outbox = (t: TestApp, orgId: string) =>
  t.ctx.db.selectFrom('mail_outbox').selectAll().where('org_id', '=', orgId).execute();

describe('with SMTP_URL: mail goes to the SMTP server', () => {
  let t: TestApp;
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink();
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'Parley <jobs@parley.test>' });
  });
  after(async () => {
    await t.close();
    await sink.close();
  });

  test('the owner gets a mail naming the job, what was deleted and when', async () => {
    const o = await makeOrg(t.ctx);
    const admin = await o.user('admin', 'Adele Admin');
    const job = await completedJob(t, o);
    await runJobsUntilIdle(t.ctx);
    const [mail, ...more] = await sink.waitFor(1);
    assert.equal(more.length, 0, 'one mail: only the owner, not the other admins');
    assert.deepEqual(mail!.to, [o.owner.actor.email]);
    assert.notEqual(mail!.to[0], admin.actor.email);
    assert.equal(mail!.from, 'jobs@parley.test');
    assert.equal(mail!.subject, `Parley deletion job ${job.id} completed`);
    assert.match(mail!.text, new RegExp(`Job: +${job.id}\\n`));
    assert.match(mail!.text, /Conversations deleted: 3\n/);
    assert.match(mail!.text, /Messages deleted: 12\n/);
    assert.match(mail!.text, /Requested: +by Owner, at 2026-11-21T09:00:00.000Z/);
    assert.match(mail!.text, /Finished: +2026-11-21T09:00:00.000Z/);
    assert.match(mail!.text, new RegExp(`3 conversations by id: ${job.ids.join(', ')}`));
    const rows = await outbox(t, o.org.id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'sent');
    assert.equal(Number(rows[0]!.attempts), 1);
    assert.ok(rows[0]!.message_id);
    await runJobsUntilIdle(t.ctx);
    assert.equal(sink.mails.length, 1, 'sent once');
  });

  test('a dry run says nothing was deleted', async () => {
    const o = await makeOrg(t.ctx);
    const before = sink.mails.length;
    const job = await completedJob(t, o, { dry_run: true });
    await runJobsUntilIdle(t.ctx);
    const mails = await sink.waitFor(before + 1);
    const mail = mails.at(-1)!;
    assert.equal(mail.subject, `Parley deletion job ${job.id} dry run completed`);
    assert.match(mail.text, /dry run: nothing was deleted/);
    assert.match(mail.text, /Messages that would be deleted: 12\n/);
  });

  test('a server that refuses is retried with back-off until it accepts', async () => {
    const o = await makeOrg(t.ctx);
    const before = sink.mails.length;
    sink.refuse = 'mailbox unavailable';
    await completedJob(t, o);
    await runJobsUntilIdle(t.ctx);
    let [row] = await outbox(t, o.org.id);
    assert.equal(row!.status, 'pending');
    assert.equal(Number(row!.attempts), 1);
    assert.match(String(row!.last_error), /mailbox unavailable/);
    assert.equal(Number(row!.next_attempt_at), t.clock.now() + 60_000);
    sink.refuse = null;
    await runJobsUntilIdle(t.ctx);
    assert.equal(sink.mails.length, before, 'not before its back-off');
    t.clock.advance(60_000);
    await runJobsUntilIdle(t.ctx);
    await sink.waitFor(before + 1);
    [row] = await outbox(t, o.org.id);
    assert.equal(row!.status, 'sent');
    assert.equal(Number(row!.attempts), 2);
  });
});

describe('without SMTP_URL: the outbox table and the log', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(async () => t.close());

  test('the mail is kept as unsent and written to the log in full', async () => {
    const o = await makeOrg(t.ctx);
    const job = await completedJob(t, o);
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const log: WorkLog = {
      info: (obj, msg) => lines.push({ obj, msg }),
      warn: (obj, msg) => lines.push({ obj, msg }),
      error: (obj, msg) => lines.push({ obj, msg }),
    };
    await runJobsUntilIdle(t.ctx, { log });
    const rows = await outbox(t, o.org.id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'unsent');
    assert.equal(rows[0]!.to_address, o.owner.actor.email);
    assert.match(rows[0]!.body, /Conversations deleted: 3/);
    const logged = lines.filter((l) => l.msg.startsWith('mail kept in the outbox'));
    assert.equal(logged.length, 1);
    const mail = logged[0]!.obj.mail as { to: string; subject: string; body: string };
    assert.equal(mail.to, o.owner.actor.email);
    assert.equal(mail.subject, `Parley deletion job ${job.id} completed`);
    assert.equal(mail.body, rows[0]!.body);
    await runJobsUntilIdle(t.ctx, { log });
    assert.equal(lines.filter((l) => l.msg.startsWith('mail kept')).length, 1, 'logged once');
  });
});
