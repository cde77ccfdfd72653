import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildTestApp, call } from '../../support/app.ts';
import { makeOrg, orgWithGroup } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';
import { connectStream } from '../../support/stream.ts';

const METRICS_TOKEN = 'metrics-token-0123456789';
const t = useTestApp({ METRICS_TOKEN }, { gateway: { pingMs: 100, gapFillMs: 50 }, listen: true });

const scrape = async () => {
  const res = await call(t.app, METRICS_TOKEN, 'GET', '/metrics');
  assert.equal(res.status, 200, res.raw);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  return res.raw;
};
/** The value of one sample line (`name{labels} value`), or undefined. */
const sample = (text: string, line: string) => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

describe('GET /metrics', () => {
  test('refused without the METRICS_TOKEN bearer (401, native shape), off without METRICS_TOKEN (404)', async () => {
    for (const token of [null, 'wrong-token-0123456789', `${METRICS_TOKEN}x`]) {
      const res = await call(t.app, token, 'GET', '/metrics');
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'invalid_token');
      assert.equal(typeof res.body.error.request_id, 'string');
    }
    // An org's access token is not the metrics token.
    const o = await makeOrg(t.ctx);
    assert.equal((await call(t.app, o.owner.token, 'GET', '/metrics')).status, 401);
    const off = await buildTestApp();
    try {
      const res = await call(off.app, METRICS_TOKEN, 'GET', '/metrics');
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'route_not_found');
    } finally {
      await off.close();
    }
  });

  test('HTTP durations by route pattern and status; events published and delivered; sockets; work by state', async () => {
    const { o, bob, id } = await orgWithGroup(t);
    const s = await connectStream(t.base, { token: bob.token });
    await s.next((f) => f.type === 'ready');
    let text = await scrape();
    assert.equal(sample(text, 'parley_stream_sockets'), 1);
    const deliveredBefore = sample(text, 'parley_events_delivered_total') ?? 0;
    const publishedBefore = sample(text, 'parley_events_published_total') ?? 0;
    const sent = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${id}/messages`, { text: 'hi' });
    assert.equal(sent.status, 201);
    await s.next((f) => f.type === 'event' && f.event === 'message.created');
    await call(t.app, o.owner.token, 'GET', `/v1/conversations/${id}`);
    await call(t.app, o.owner.token, 'GET', '/v1/conversations/999999');
    text = await scrape();
    assert.ok(sample(text, 'parley_events_published_total')! > publishedBefore);
    assert.ok(sample(text, 'parley_events_delivered_total')! > deliveredBefore);
    // The route's pattern, never the raw URL (ids would make one series per conversation).
    assert.ok(
      (sample(
        text,
        'parley_http_request_duration_seconds_count{method="GET",route="/v1/conversations/:id",status="200"}',
      ) ?? 0) >= 1,
    );
    assert.ok(
      (sample(
        text,
        'parley_http_request_duration_seconds_count{method="GET",route="/v1/conversations/:id",status="404"}',
      ) ?? 0) >= 1,
    );
    assert.doesNotMatch(text, /route="\/v1\/conversations\/[0-9]/);
    assert.match(text, /parley_group_commit_batch_size_count \d+/);
    assert.match(text, /parley_group_commit_flush_seconds_bucket/);
    assert.match(text, /# TYPE parley_deletion_jobs gauge/);
    assert.match(text, /# TYPE parley_webhook_deliveries gauge/);
    assert.match(text, /# TYPE parley_mail_outbox gauge/);
    if (t.ctx.caps.dialect === 'postgres')
      assert.match(text, /parley_db_pool_connections\{state="idle"\} \d+/);
    await s.close();
  });

  test('rate-limit refusals are counted by group', async () => {
    const o = await makeOrg(t.ctx);
    const before = sample(await scrape(), 'parley_rate_limit_refusals_total{group="native"}') ?? 0;
    const set = await call(t.app, o.owner.token, 'PUT', '/v1/rate-limits/native', {
      points: 2,
      duration_s: 60,
      block_s: 0,
    });
    assert.equal(set.status, 200, set.raw);
    let refused = 0;
    for (let i = 0; i < 4; i++)
      if ((await call(t.app, o.owner.token, 'GET', '/v1/me')).status === 429) refused++;
    assert.ok(refused >= 1);
    const after = sample(await scrape(), 'parley_rate_limit_refusals_total{group="native"}');
    assert.equal(after, before + refused);
  });
});

describe('X-Request-Id', () => {
  test('a sane id is kept, anything else replaced by a UUID; returned on every response and in native errors', async () => {
    const o = await makeOrg(t.ctx);
    const ok = await call(t.app, o.owner.token, 'GET', '/v1/me', undefined, {
      'x-request-id': 'req-12345678',
    });
    assert.equal(ok.headers['x-request-id'], 'req-12345678');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of ['short', 'has space inside', 'x'.repeat(129), 'semi;colon-123', 'ünïcode-12345']) {
      const res = await call(t.app, o.owner.token, 'GET', '/v1/me', undefined, {
        'x-request-id': encodeURIComponent(bad) === bad ? bad : bad.replace(/[^\x20-\x7e]/g, '?'),
      });
      assert.match(String(res.headers['x-request-id']), uuid, bad);
    }
    const none = await call(t.app, o.owner.token, 'GET', '/v1/me');
    assert.match(String(none.headers['x-request-id']), uuid);
    const err = await call(t.app, o.owner.token, 'GET', '/v1/conversations/1', undefined, {
      'x-request-id': 'trace:abc.DEF_9',
    });
    assert.equal(err.status, 404);
    assert.equal(err.headers['x-request-id'], 'trace:abc.DEF_9');
    assert.equal(err.body.error.request_id, 'trace:abc.DEF_9');
    const unauth = await call(t.app, null, 'GET', '/v1/me');
    assert.equal(unauth.body.error.request_id, unauth.headers['x-request-id']);
    const health = await call(t.app, null, 'GET', '/healthz');
    assert.match(String(health.headers['x-request-id']), uuid);
  });

  test('the dialects keep their own error bodies (no request_id field) and send the header', async () => {
    const res = await call(t.app, null, 'GET', '/compat/cliq/api/v2/chats', undefined, {
      'x-request-id': 'cliq-request-1',
    });
    assert.ok(res.status >= 400);
    assert.equal(res.headers['x-request-id'], 'cliq-request-1');
    assert.ok(!res.raw.includes('request_id'), res.raw);
    const kore = await call(t.app, null, 'POST', '/compat/kore/api/public/bot/x/conversations/delete', {});
    assert.ok(kore.status >= 400);
    assert.ok(!kore.raw.includes('request_id'), kore.raw);
    assert.match(String(kore.headers['x-request-id']), /-/);
  });
});
