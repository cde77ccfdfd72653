import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { runJobsUntilIdle } from '../../../../src/jobs/runner.ts';
import { createApp, revokeOrgApp } from '../../../../src/services/apps.ts';
import { call, type Res } from '../../../support/app.ts';
import { makeOrg, principalFor, seedConversations, type TestOrg } from '../../../support/factories.ts';
import { useTestApp } from '../../../support/fixtures.ts';
import { assertSameShape } from '../../../support/shape.ts';

/**
 * The bot platform's conversation deletion API (seed 004) under /compat/kore: the seed's sample
 * requests and answers, the status endpoint, the JWT in the `auth` header, and every refusal in
 * the vendor's `{"errors": [{"msg", "code"}]}` shape.
 */

const t = useTestApp({ DELETION_WINDOW: 'any' });

// The seed's sample answer (the x's of its job id made hex).
const SEED_QUEUED = {
  status: 'queued',
  jobId: 'cdj-e8c0d360-6b5b-50ab-bda1-ae54b18aaaaa',
  message: 'Deletion job queued successfully. The bot owner will be notified by email on completion.',
  submittedAt: '2026-05-08T06:22:56.097Z',
};
const JOB_ID = /^cdj-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Bot {
  o: TestOrg;
  appId: number;
  secret: string;
  jwt: string;
  base: string;
}

const sign = (claims: Record<string, unknown>, secret: string, alg = 'HS256') =>
  new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));

async function makeBot(): Promise<Bot> {
  const o = await makeOrg(t.ctx);
  const app = await createApp(t.ctx, principalFor(o, o.owner.actor), 'bot backend');
  // The vendor's own token: sub and appId, no iat or exp.
  const jwt = await sign({ sub: 'parley-test', appId: String(app.appId) }, app.serverSecret);
  return {
    o,
    appId: app.appId,
    secret: app.serverSecret,
    jwt,
    base: `/compat/kore/api/public/bot/${o.org.slug}`,
  };
}

const kore = (
  jwt: string | null,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => call(t.app, null, method, url, body, jwt === null ? headers : { auth: jwt, ...headers });

function assertKoreError(res: Res, status: number, parleyCode: string, label = '') {
  assert.equal(res.status, status, `${label}: ${res.raw.slice(0, 200)}`);
  assert.equal(res.headers['x-parley-error-code'], parleyCode, label);
  assert.ok(Array.isArray(res.body.errors) && res.body.errors.length >= 1, label);
  for (const e of res.body.errors) {
    assert.deepEqual(Object.keys(e).sort(), ['code', 'msg'], label);
    assert.equal(e.code, status, label);
    assert.equal(typeof e.msg, 'string', label);
  }
}

describe('the seed sample requests', () => {
  test('by conversationIds: queued at once, in the seed shape', async () => {
    const b = await makeBot();
    const ids = await seedConversations(t.ctx, {
      orgId: b.o.org.id,
      members: [b.o.owner.actor],
      count: 3,
      messagesEach: 2,
    });
    const res = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, { conversationIds: ids });
    assert.equal(res.status, 200);
    assertSameShape(res.body, SEED_QUEUED);
    assert.equal(res.body.status, 'queued');
    assert.match(res.body.jobId, JOB_ID);
    assert.equal(res.body.message, SEED_QUEUED.message);
    assert.equal(res.body.submittedAt, new Date(t.clock.now()).toISOString());
    assert.match(String(res.headers['ratelimit-policy']), /^120;w=60$/);

    const status = await kore(b.jwt, 'GET', `${b.base}/conversations/delete/status/${res.body.jobId}`);
    assert.equal(status.status, 200);
    assert.equal(status.body.status, 'queued');
    assert.deepEqual(status.body.request, { conversationIds: ids });
    assert.deepEqual(status.body.deleted, { conversations: 0, messages: 0 });

    await runJobsUntilIdle(t.ctx);
    const done = await kore(b.jwt, 'GET', `${b.base}/conversations/delete/status/${res.body.jobId}`);
    assert.deepEqual(done.body, {
      jobId: res.body.jobId,
      status: 'completed',
      message: 'Deletion job completed. The bot owner has been notified by email.',
      dryRun: false,
      submittedAt: res.body.submittedAt,
      startedAt: res.body.submittedAt,
      finishedAt: res.body.submittedAt,
      request: { conversationIds: ids },
      progress: { totalConversations: 3, processedConversations: 3 },
      deleted: { conversations: 3, messages: 6 },
      skipped: { conversations: 0 },
      error: null,
    });
    // The same job through the native API: the app that asked is named.
    const native = await call(t.app, b.o.owner.token, 'GET', `/v1/deletion-jobs/${res.body.jobId}`);
    assert.deepEqual(native.body.requested_by, { actor_id: null, app_id: b.appId });
    assert.equal(native.body.counts.messages_deleted, 6);
    for (const id of ids)
      assert.equal((await call(t.app, b.o.owner.token, 'GET', `/v1/conversations/${id}`)).status, 404);
    const mail = await t.ctx.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('org_id', '=', b.o.org.id)
      .execute();
    assert.equal(mail.length, 1, 'the bot owner is notified');
    assert.match(mail[0]!.body, /by app \d+/);
  });

  test('by cId with startDate and endDate (inclusive); a dry run too', async () => {
    const b = await makeBot();
    const customer = await call(t.app, b.o.owner.token, 'POST', '/v1/actors', {
      kind: 'visitor',
      name: 'Channel user',
      external_id: 'u-1234',
    });
    assert.equal(customer.status, 201);
    const res = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, {
      cId: 'u-1234',
      startDate: '2026-11-01',
      endDate: '2026-11-21',
    });
    assert.equal(res.status, 200);
    assertSameShape(res.body, SEED_QUEUED);
    const status = await kore(b.jwt, 'GET', `${b.base}/conversations/delete/status/${res.body.jobId}`);
    assert.deepEqual(status.body.request, { cId: 'u-1234', startDate: '2026-11-01', endDate: '2026-11-21' });
    const defaults = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, {
      cId: 'u-1234',
      dryRun: true,
    });
    assert.equal(defaults.status, 200);
    assert.match(defaults.body.message, /^Dry-run deletion job queued successfully/);
    const dry = await kore(b.jwt, 'GET', `${b.base}/conversations/delete/status/${defaults.body.jobId}`);
    assert.equal(dry.body.dryRun, true);
    assert.deepEqual(dry.body.request, { cId: 'u-1234', startDate: '2026-11-21', endDate: '2026-11-21' });
  });
});

describe('the auth header', () => {
  test('bad JWTs are refused with 401, and nothing is queued', async () => {
    const b = await makeBot();
    const other = await makeBot();
    const [id] = await seedConversations(t.ctx, {
      orgId: b.o.org.id,
      members: [b.o.owner.actor],
      count: 1,
      messagesEach: 1,
    });
    const unsigned = (claims: Record<string, unknown>) =>
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const now = Math.floor(t.clock.now() / 1000);
    const revoked = await createApp(t.ctx, principalFor(b.o, b.o.owner.actor), 'old');
    const revokedJwt = await sign({ appId: String(revoked.appId) }, revoked.serverSecret);
    await revokeOrgApp(t.ctx, principalFor(b.o, b.o.owner.actor), revoked.id);
    const cases: [string, string | null, string, Record<string, string>?][] = [
      ['missing header', null, 'missing_token'],
      ['empty header', '', 'missing_token'],
      ['bearer instead of auth', null, 'missing_token', { authorization: `Bearer ${b.jwt}` }],
      ['not a JWT', 'abc.def', 'malformed_token'],
      ['garbage', 'not-a-token', 'malformed_token'],
      ['wrong signature', await sign({ appId: String(b.appId) }, 'not-the-secret'), 'bad_signature'],
      ["another app's secret", await sign({ appId: String(b.appId) }, other.secret), 'bad_signature'],
      ['alg none', unsigned({ sub: 'x', appId: String(b.appId) }), 'unsupported_alg'],
      ['alg HS512', await sign({ appId: String(b.appId) }, b.secret, 'HS512'), 'unsupported_alg'],
      ['expired', await sign({ appId: String(b.appId), exp: now - 60 }, b.secret), 'token_expired'],
      [
        'not yet valid',
        await sign({ appId: String(b.appId), nbf: now + 3600 }, b.secret),
        'token_not_yet_valid',
      ],
      ['unknown appId', await sign({ appId: '4294967000' }, b.secret), 'unknown_app'],
      ['revoked app', revokedJwt, 'unknown_app'],
      ['no appId claim', await sign({ sub: 'x' }, b.secret), 'missing_app_id'],
      ['appId not a number', await sign({ appId: 'st-1234' }, b.secret), 'missing_app_id'],
    ];
    for (const [label, jwt, code, headers] of cases) {
      const res = await kore(
        jwt,
        'POST',
        `${b.base}/conversations/delete`,
        { conversationIds: [id] },
        headers,
      );
      assertKoreError(res, 401, code, label);
    }
    // exp in the future is fine; a numeric appId claim too.
    const fresh = await sign({ appId: b.appId, exp: now + 60 }, b.secret);
    const ok = await kore(fresh, 'POST', `${b.base}/conversations/delete`, {
      conversationIds: [id],
      dryRun: true,
    });
    assert.equal(ok.status, 200);
    const jobs = await call(t.app, b.o.owner.token, 'GET', '/v1/deletion-jobs');
    assert.equal(jobs.body.items.length, 1, 'only the good request queued a job');
  });

  test("the bot must be the app's org: unknown and other bots are 404 alike", async () => {
    const b = await makeBot();
    const other = await makeBot();
    const [id] = await seedConversations(t.ctx, {
      orgId: b.o.org.id,
      members: [b.o.owner.actor],
      count: 1,
      messagesEach: 1,
    });
    const theirs = await kore(b.jwt, 'POST', `${other.base}/conversations/delete`, { conversationIds: [id] });
    const unknown = await kore(
      b.jwt,
      'POST',
      '/compat/kore/api/public/bot/no-such-bot/conversations/delete',
      {
        conversationIds: [id],
      },
    );
    assertKoreError(theirs, 404, 'bot_not_found');
    assertKoreError(unknown, 404, 'bot_not_found');
    assert.deepEqual(theirs.body, unknown.body);
    const mine = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, { conversationIds: [id] });
    const status = await kore(
      other.jwt,
      'GET',
      `${other.base}/conversations/delete/status/${mine.body.jobId}`,
    );
    assertKoreError(status, 404, 'deletion_job_not_found', "another bot's job");
  });
});

describe('bad requests', () => {
  test('selectors, dates and ids: 400/404/409 in the vendor shape, nothing queued', async () => {
    t.clock.set(Date.parse('2026-11-21T09:00:00Z'));
    const b = await makeBot();
    const other = await makeBot();
    const ids = await seedConversations(t.ctx, {
      orgId: b.o.org.id,
      members: [b.o.owner.actor],
      count: 2,
      messagesEach: 1,
    });
    const [foreign] = await seedConversations(t.ctx, {
      orgId: other.o.org.id,
      members: [other.o.owner.actor],
      count: 1,
      messagesEach: 1,
    });
    await call(t.app, b.o.owner.token, 'POST', '/v1/actors', {
      kind: 'visitor',
      name: 'C',
      external_id: 'c-1',
    });
    const cases: [unknown, number, string, RegExp?][] = [
      [{}, 400, 'selector_required', /conversationIds.*cId/],
      [{ conversationIds: ids, cId: 'c-1' }, 400, 'ambiguous_selector', /either conversationIds or cId/],
      [
        { conversationIds: ids, startDate: '2026-11-01' },
        400,
        'dates_need_customer',
        /^startDate is only used with cId/,
      ],
      [{ conversationIds: [] }, 400, 'invalid_request', /^conversationIds /],
      [{ conversationIds: ['abc'] }, 400, 'invalid_id', /^conversationIds\.0 must be a conversation id/],
      [{ conversationIds: [...ids, '12345'] }, 404, 'conversation_not_found'],
      [{ conversationIds: [foreign] }, 404, 'conversation_not_found'],
      [{ cId: 'nobody' }, 404, 'customer_not_found'],
      [
        { cId: 'c-1', endDate: '2026-11-22' },
        400,
        'end_date_in_future',
        /^endDate must not be in the future/,
      ],
      [{ cId: 'c-1', startDate: '2026-11-10', endDate: '2026-11-09' }, 400, 'invalid_date_range'],
      [
        { cId: 'c-1', startDate: '2026-02-29' },
        400,
        'invalid_date',
        /^startDate must be a date as YYYY-MM-DD/,
      ],
      [{ cId: 'c-1', endDate: '21-11-2026' }, 400, 'invalid_date'],
      [{ cId: 'c-1', dryRun: 'no' }, 400, 'invalid_request'],
      [{ cId: 'c-1', userId: 'x' }, 400, 'invalid_request', /userId/],
    ];
    for (const [body, status, code, msg] of cases) {
      const label = JSON.stringify(body).slice(0, 80);
      const res = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, body);
      assertKoreError(res, status, code, label);
      if (msg) assert.match(res.body.errors[0].msg, msg, label);
    }
    const both = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, {
      conversationIds: 'x',
      dryRun: 1,
    });
    assert.equal(both.body.errors.length, 2, 'every problem of a body is listed');

    const text = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, 'cId=c-1', {
      'content-type': 'text/plain',
    });
    assertKoreError(text, 415, 'unsupported_media_type');
    const html = await kore(
      b.jwt,
      'POST',
      `${b.base}/conversations/delete`,
      { cId: 'c-1' },
      { accept: 'text/html' },
    );
    assertKoreError(html, 406, 'not_acceptable');
    const badJson = await kore(b.jwt, 'POST', `${b.base}/conversations/delete`, '{"cId":', {
      'content-type': 'application/json',
    });
    assertKoreError(badJson, 400, 'invalid_json');
    assert.equal((await call(t.app, b.o.owner.token, 'GET', '/v1/deletion-jobs')).body.items.length, 0);
  });

  test('unknown paths, wrong methods, unknown jobs', async () => {
    const b = await makeBot();
    assertKoreError(
      await kore(
        b.jwt,
        'GET',
        `${b.base}/conversations/delete/status/cdj-00000000-0000-4000-8000-000000000000`,
      ),
      404,
      'deletion_job_not_found',
    );
    assertKoreError(
      await kore(b.jwt, 'GET', `${b.base}/conversations/delete/status/whatever`),
      404,
      'deletion_job_not_found',
    );
    assertKoreError(await kore(b.jwt, 'GET', `${b.base}/nothing-here`), 404, 'route_not_found');
    const wrong = await kore(b.jwt, 'PUT', `${b.base}/conversations/delete`, { cId: 'x' });
    assertKoreError(wrong, 405, 'method_not_allowed');
    assert.equal(wrong.headers.allow, 'POST');
  });

  test('the kore rate-limit group, per app', async () => {
    const b = await makeBot();
    const set = await call(t.app, b.o.owner.token, 'PUT', '/v1/rate-limits/kore', {
      points: 2,
      duration_s: 60,
      block_s: 0,
    });
    assert.equal(set.status, 200);
    const url = `${b.base}/conversations/delete/status/cdj-00000000-0000-4000-8000-000000000000`;
    assert.equal((await kore(b.jwt, 'GET', url)).status, 404);
    assert.equal((await kore(b.jwt, 'GET', url)).status, 404);
    const limited = await kore(b.jwt, 'GET', url);
    assertKoreError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });
});
