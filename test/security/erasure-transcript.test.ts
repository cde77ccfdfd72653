import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runJobsUntilIdle } from '../../src/jobs/runner.ts';
import { listOrgMail } from '../../src/store/repos/mail.ts';
import { buildTestApp, call, type TestApp, visitorCaller } from '../support/app.ts';
import { makeOrg, type Person, type TestOrg } from '../support/factories.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp.ts';

/**
 * Erasure and the transcript mail: a widget chat's transcript is queued when the chat ends, and
 * sent later. A message deleted for everyone, a chat purged from the recycle bin or erased by a
 * deletion job while that mail waits must not reach the visitor's inbox: a unique marker in the
 * deleted text is searched for in everything the real SMTP sink received, and in the outbox.
 */

let t: TestApp;
let sink: SmtpSink;
before(async () => {
  sink = await startSmtpSink();
  t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'Parley <support@parley.test>' });
});
after(async () => {
  await t.close();
  await sink.close();
});

const marker = (what: string) => `MRK${what}${randomBytes(8).toString('hex')}`;

const visitorCall = visitorCaller(() => t.app);

interface EndedChat {
  o: TestOrg;
  op: Person;
  chatId: string;
  email: string;
  secret: string;
  secretMessageId: string;
  keep: string;
}

/** A widget chat with a secret message and a kept one, ended: its transcript is queued, unsent. */
async function endedChat(): Promise<EndedChat> {
  const o = await makeOrg(t.ctx);
  const op = await o.user('operator', 'Olga Operator');
  const dept = (await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Sales' })).body;
  const widget = (
    await call(t.app, o.owner.token, 'POST', '/v1/widgets', {
      allowed_origins: ['https://shop.example'],
      department_ids: [dept.id],
    })
  ).body;
  await call(t.app, op.token, 'PUT', '/v1/support/availability', { status: 'available' });
  const sess = await visitorCall(null, 'POST', '/v1/widget/sessions', { key: widget.public_key });
  assert.equal(sess.status, 201, sess.raw);
  const token = sess.body.token;
  const email = `v-${randomBytes(4).toString('hex')}@example.com`;
  const keep = marker('KEEP');
  const started = await visitorCall(token, 'POST', '/v1/widget/chats', {
    name: 'Vera',
    email,
    question: `hello ${keep}`,
  });
  assert.equal(started.status, 201, started.raw);
  const chatId = started.body.id;
  const secret = marker('SECRET');
  const sent = await visitorCall(token, 'POST', `/v1/widget/chats/${chatId}/messages`, {
    text: `my card is ${secret}`,
  });
  assert.equal(sent.status, 201, sent.raw);
  assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${chatId}/pickup`)).status, 200);
  const ended = await visitorCall(token, 'POST', `/v1/widget/chats/${chatId}/end`, {});
  assert.equal(ended.status, 200, ended.raw);
  // Queued in the transaction of the end, and holding no text of the chat.
  const queued = (await listOrgMail(t.ctx.db, o.org.id)).filter((m) => m.to === email);
  assert.equal(queued.length, 1);
  assert.equal(queued[0]!.status, 'pending');
  assert.ok(!queued[0]!.body.includes(secret) && !queued[0]!.body.includes(keep), 'the outbox holds no text');
  return { o, op, chatId, email, secret, secretMessageId: sent.body.id, keep };
}

const reached = (text: string) => sink.mails.some((m) => m.raw.includes(text) || m.text.includes(text));

describe('a queued transcript never carries deleted text', () => {
  test('a message deleted for everyone before the mail is sent is not in it', async () => {
    const c = await endedChat();
    const del = await call(
      t.app,
      c.op.token,
      'DELETE',
      `/v1/conversations/${c.chatId}/messages/${c.secretMessageId}`,
    );
    assert.ok(del.status === 200 || del.status === 204, del.raw);
    const before = sink.mails.length;
    await runJobsUntilIdle(t.ctx);
    const mails = await sink.waitFor(before + 1);
    const mail = mails.find((m) => m.to.includes(c.email));
    assert.ok(mail, 'the transcript was sent');
    assert.match(
      mail.text,
      new RegExp(`Vera: hello ${c.keep}`),
      'the kept text is there (the search can fail)',
    );
    assert.ok(!reached(c.secret), 'the deleted text never reached the SMTP sink');
    const stored = (await listOrgMail(t.ctx.db, c.o.org.id)).find((m) => m.to === c.email);
    assert.equal(stored?.status, 'sent');
    assert.ok(!stored!.body.includes(c.secret));
  });

  test('a chat purged from the recycle bin before the mail is sent: no transcript goes out', async () => {
    const c = await endedChat();
    const binned = await call(t.app, c.o.owner.token, 'POST', '/v1/conversations/delete', {
      ids: [c.chatId],
    });
    assert.equal(binned.status, 200, binned.raw);
    const purged = await call(t.app, c.o.owner.token, 'POST', '/v1/recycle-bin/purge', { ids: [c.chatId] });
    assert.equal(purged.status, 200, purged.raw);
    await runJobsUntilIdle(t.ctx);
    const stored = (await listOrgMail(t.ctx.db, c.o.org.id)).find((m) => m.to === c.email);
    assert.equal(stored?.status, 'failed', 'given up: the chat is gone');
    assert.ok(!sink.mails.some((m) => m.to.includes(c.email)), 'nothing was sent to the visitor');
    assert.ok(!reached(c.secret) && !reached(c.keep));
  });

  test('a chat erased by a deletion job while the mail waits: no transcript goes out', async () => {
    const c = await endedChat();
    await call(t.app, c.o.owner.token, 'PUT', '/v1/deletion-jobs/window', { any_time: true });
    // The SMTP server refuses for now, so the mail is still waiting when the job has run.
    sink.refuse = '550 try later';
    try {
      const job = await call(t.app, c.o.owner.token, 'POST', '/v1/deletion-jobs', {
        conversation_ids: [c.chatId],
      });
      assert.equal(job.status, 202, job.raw);
      await runJobsUntilIdle(t.ctx);
      const done = await call(t.app, c.o.owner.token, 'GET', `/v1/deletion-jobs/${job.body.id}`);
      assert.equal(done.body.status, 'completed', done.raw);
    } finally {
      sink.refuse = null;
    }
    // Refused (still pending) if it was tried before the job ran, given up if after.
    const waiting = (await listOrgMail(t.ctx.db, c.o.org.id)).find((m) => m.to === c.email);
    assert.ok(waiting?.status === 'pending' || waiting?.status === 'failed', waiting?.status);
    t.clock.advance(2 * 60 * 60_000);
    await runJobsUntilIdle(t.ctx);
    const stored = (await listOrgMail(t.ctx.db, c.o.org.id)).find((m) => m.to === c.email);
    assert.equal(stored?.status, 'failed', 'given up: the chat was erased');
    assert.ok(!sink.mails.some((m) => m.to.includes(c.email)), 'nothing was sent to the visitor');
    assert.ok(!reached(c.secret) && !reached(c.keep));
  });
});
