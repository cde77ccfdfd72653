import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { MAX_DELIVERY_ATTEMPTS, retryDelayMs } from '../../../src/domain/webhooks.ts';
import { runJobsUntilIdle } from '../../../src/jobs/runner.ts';
import { inTransaction } from '../../../src/services/tx.ts';
import { call } from '../../support/app.ts';
import {
  closeAfterConcurrency,
  makeDepartment,
  makeOrg,
  seedConversations,
  startWaitingChat,
  type TestOrg,
} from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp({ WEBHOOK_TIMEOUT_MS: '300' }, { close: closeAfterConcurrency });

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A webhook receiver on 127.0.0.1: answers each request with the next status of `plan`, then
 * with `otherwise` (200 unless changed).
 */
async function receiver(plan: (number | 'hang')[] = []) {
  const received: Received[] = [];
  const state = { otherwise: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const next = plan.shift() ?? state.otherwise;
      if (next === 'hang') return; // never answers: the sender's timeout must fire
      res.writeHead(next, { 'content-type': 'text/plain' }).end(next < 300 ? 'ok' : 'nope');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    plan,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Checks X-Parley-Signature the way a receiver would. */
function signatureValid(secret: string, r: Received): boolean {
  const header = String(r.headers['x-parley-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${r.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

const createHook = (o: TestOrg, body: unknown) => call(t.app, o.owner.token, 'POST', '/v1/webhooks', body);

/** Starts a support chat: records one support.waiting event. */
async function supportEvent(o: TestOrg) {
  const dept = await makeDepartment(t.ctx, o, `D${Math.random()}`);
  const visitor = await o.visitor();
  return startWaitingChat(t.ctx, o, visitor.actor, dept);
}

describe('webhooks: create, list, get, update, delete, subscribe', () => {
  test('the lifecycle of a webhook', async () => {
    const o = await makeOrg(t.ctx);
    const made = await createHook(o, {
      url: 'https://example.com/hooks/parley',
      events: ['support.waiting', 'message.created', 'support.waiting'],
      description: 'CRM sync',
    });
    assert.equal(made.status, 201);
    assert.match(made.body.secret, /^whsec_[0-9a-f]{48}$/);
    assert.deepEqual(made.body.events, ['support.waiting', 'message.created']);
    assert.equal(made.body.active, true);
    const id = made.body.id;

    const list = await call(t.app, o.owner.token, 'GET', '/v1/webhooks');
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.items[0].secret, undefined, 'the secret is shown only once');
    const got = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${id}`);
    assert.equal(got.body.url, 'https://example.com/hooks/parley');

    const patched = await call(t.app, o.owner.token, 'PATCH', `/v1/webhooks/${id}`, {
      url: 'https://example.com/v2',
      active: false,
      description: null,
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(
      [patched.body.url, patched.body.active, patched.body.description],
      ['https://example.com/v2', false, null],
    );
    assert.equal(patched.body.secret, undefined);
    const rotated = await call(t.app, o.owner.token, 'PATCH', `/v1/webhooks/${id}`, { rotate_secret: true });
    assert.match(rotated.body.secret, /^whsec_/);
    assert.notEqual(rotated.body.secret, made.body.secret);

    const sub = await call(t.app, o.owner.token, 'POST', `/v1/webhooks/${id}/events`, {
      events: ['deletion_job.completed', 'support.waiting'],
    });
    assert.deepEqual(sub.body.events, ['support.waiting', 'message.created', 'deletion_job.completed']);
    const unsub = await call(
      t.app,
      o.owner.token,
      'DELETE',
      `/v1/webhooks/${id}/events?events=message.created,support.waiting`,
    );
    assert.equal(unsub.status, 200);
    assert.deepEqual(unsub.body.events, ['deletion_job.completed']);
    const last = await call(
      t.app,
      o.owner.token,
      'DELETE',
      `/v1/webhooks/${id}/events?events=deletion_job.completed`,
    );
    assert.equal(last.status, 400);
    assert.equal(last.body.error.code, 'events_required');

    const types = await call(t.app, o.owner.token, 'GET', '/v1/webhooks/event-types');
    assert.ok(types.body.items.includes('message.created'));
    assert.ok(types.body.items.includes('deletion_job.failed'));
    assert.ok(!types.body.items.includes('typing.started'));

    assert.equal((await call(t.app, o.owner.token, 'DELETE', `/v1/webhooks/${id}`)).status, 204);
    assert.equal((await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${id}`)).status, 404);
    assert.equal((await call(t.app, o.owner.token, 'DELETE', `/v1/webhooks/${id}`)).status, 404);
  });

  test('bad URLs, unknown events, other orgs and non-admins: 4xx, nothing made or changed', async () => {
    const o = await makeOrg(t.ctx);
    const member = await o.user('member');
    const cases: [unknown, string, string][] = [
      [{ url: 'ftp://example.com/x', events: ['message.created'] }, 'invalid_url', 'body.url'],
      [{ url: 'not a url', events: ['message.created'] }, 'invalid_url', 'body.url'],
      [{ url: '/relative/path', events: ['message.created'] }, 'invalid_url', 'body.url'],
      [{ url: 'https://user:pw@example.com/x', events: ['message.created'] }, 'invalid_url', 'body.url'],
      [{ url: 'https://example.com/x#frag', events: ['message.created'] }, 'invalid_url', 'body.url'],
      [
        { url: `https://example.com/${'a'.repeat(2050)}`, events: ['message.created'] },
        'invalid_request',
        'body.url',
      ],
      [{ url: 'https://example.com/x', events: ['message.exploded'] }, 'unknown_event', 'body.events.0'],
      [
        { url: 'https://example.com/x', events: ['message.created', 'typing.started'] },
        'unknown_event',
        'body.events.1',
      ],
      [{ url: 'https://example.com/x', events: ['token.revoked'] }, 'unknown_event', 'body.events.0'],
      [{ url: 'https://example.com/x', events: [] }, 'invalid_request', 'body.events'],
      [{ url: 'https://example.com/x' }, 'invalid_request', 'body.events'],
      [
        { url: 'https://example.com/x', events: ['message.created'], secret: 'mine' },
        'invalid_request',
        'body.secret',
      ],
    ];
    for (const [body, code, path] of cases) {
      const res = await createHook(o, body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.error.code, code, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.error.details[0].path, path);
    }
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/webhooks')).body.items.length, 0);

    const hook = (await createHook(o, { url: 'https://example.com/x', events: ['message.created'] })).body;
    for (const [method, url, body] of [
      ['PATCH', `/v1/webhooks/${hook.id}`, {}],
      ['PATCH', `/v1/webhooks/${hook.id}`, { url: 'gopher://x' }],
      ['PATCH', `/v1/webhooks/${hook.id}`, { events: ['nope'] }],
      ['POST', `/v1/webhooks/${hook.id}/events`, { events: ['nope'] }],
      ['DELETE', `/v1/webhooks/${hook.id}/events?events=nope`, undefined],
      ['DELETE', `/v1/webhooks/${hook.id}/events`, undefined],
      ['DELETE', `/v1/webhooks/${hook.id}/deliveries?ids=abc`, undefined],
      ['GET', `/v1/webhooks/${hook.id}/deliveries?status=lost`, undefined],
      ['GET', `/v1/webhooks/${hook.id}/summary?since=yesterday`, undefined],
    ] as const) {
      const res = await call(t.app, o.owner.token, method, url, body);
      assert.equal(res.status, 400, `${method} ${url}`);
    }
    const other = await makeOrg(t.ctx);
    for (const [method, url] of [
      ['GET', `/v1/webhooks/${hook.id}`],
      ['DELETE', `/v1/webhooks/${hook.id}`],
      ['GET', `/v1/webhooks/${hook.id}/deliveries`],
      ['GET', `/v1/webhooks/${hook.id}/summary`],
      ['GET', `/v1/webhooks/${hook.id}/deliveries/export`],
    ] as const) {
      const res = await call(t.app, other.owner.token, method, url);
      assert.equal(res.status, 404, `${method} ${url}`);
      assert.equal(res.body.error.code, 'webhook_not_found');
    }
    const byMember = await call(t.app, member.token, 'POST', '/v1/webhooks', {
      url: 'https://example.com/y',
      events: ['message.created'],
    });
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.error.code, 'admin_role_required');
    const still = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}`);
    assert.deepEqual(
      [still.body.url, still.body.events, still.body.active],
      ['https://example.com/x', ['message.created'], true],
    );
  });
});

describe('deliveries', () => {
  test('a receiver that fails twice then succeeds gets the event exactly once, signed', async () => {
    const o = await makeOrg(t.ctx);
    const r = await receiver([500, 503]);
    try {
      const hook = (await createHook(o, { url: r.url, events: ['support.waiting'] })).body;
      const chat = await supportEvent(o);
      const pending = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
      assert.equal(pending.body.items.length, 1, 'written with the change that caused it');
      assert.equal(pending.body.items[0].status, 'pending');

      await runJobsUntilIdle(t.ctx);
      assert.equal(r.received.length, 1);
      await runJobsUntilIdle(t.ctx);
      assert.equal(r.received.length, 1, 'not before its back-off');
      t.clock.advance(retryDelayMs(1));
      await runJobsUntilIdle(t.ctx);
      assert.equal(r.received.length, 2);
      t.clock.advance(retryDelayMs(2));
      await runJobsUntilIdle(t.ctx);
      assert.equal(r.received.length, 3);
      t.clock.advance(24 * 60 * 60_000);
      await runJobsUntilIdle(t.ctx);
      assert.equal(r.received.length, 3, 'nothing after the success');

      const ids = new Set(r.received.map((x) => x.headers['x-parley-delivery']));
      assert.equal(ids.size, 1, 'one delivery id for every attempt');
      assert.ok(r.received.every((x) => signatureValid(hook.secret, x)));
      assert.ok(!signatureValid('whsec_wrong', r.received[0]!));
      assert.ok(r.received.every((x) => x.body === r.received[0]!.body));
      const body = JSON.parse(r.received[2]!.body);
      assert.equal(body.id, [...ids][0]);
      assert.equal(body.type, 'support.waiting');
      assert.equal(body.conversation_id, chat.id);
      assert.equal(body.data.conversation_id, chat.id);
      assert.equal(r.received[0]!.headers['x-parley-event'], 'support.waiting');
      assert.equal(r.received[0]!.headers['content-type'], 'application/json');

      const list = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
      const d = list.body.items[0];
      assert.deepEqual([d.status, d.attempts, d.last_status_code, d.last_error], ['succeeded', 3, 200, null]);
      const summary = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/summary`);
      assert.equal(summary.body.succeeded, 1);
      assert.equal(summary.body.failed, 0);
      assert.equal(summary.body.success_rate, 1);
      assert.deepEqual(summary.body.events, [
        { event: 'support.waiting', succeeded: 1, failed: 0, pending: 0 },
      ]);
    } finally {
      await r.close();
    }
  });

  test('only subscribed, active webhooks of the org get deliveries', async () => {
    const o = await makeOrg(t.ctx);
    const other = await makeOrg(t.ctx);
    const subscribed = (await createHook(o, { url: 'https://example.com/a', events: ['support.waiting'] }))
      .body;
    const elsewhere = (await createHook(o, { url: 'https://example.com/b', events: ['support.ended'] })).body;
    const paused = (
      await createHook(o, { url: 'https://example.com/c', events: ['support.waiting'], active: false })
    ).body;
    const foreign = (await createHook(other, { url: 'https://example.com/d', events: ['support.waiting'] }))
      .body;
    await supportEvent(o);
    const count = async (org: TestOrg, id: string) =>
      (await call(t.app, org.owner.token, 'GET', `/v1/webhooks/${id}/deliveries`)).body.items.length;
    assert.equal(await count(o, subscribed.id), 1);
    assert.equal(await count(o, elsewhere.id), 0);
    assert.equal(await count(o, paused.id), 0);
    assert.equal(await count(other, foreign.id), 0);
  });

  test('deliveries commit or roll back with the change: a rolled-back change leaves none', async () => {
    const o = await makeOrg(t.ctx);
    const hook = (await createHook(o, { url: 'https://example.com/a', events: ['support.waiting'] })).body;
    const event = { type: 'support.waiting' as const, recipients: [o.owner.actor.id], payload: { n: 1 } };
    await assert.rejects(
      inTransaction(t.ctx, async (tx) => {
        tx.emit(o.org.id, [event]);
        throw new Error('the change fails after its event was recorded');
      }),
      /the change fails/,
    );
    const none = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
    assert.equal(none.body.items.length, 0);
    await inTransaction(t.ctx, async (tx) => tx.emit(o.org.id, [event]));
    const one = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
    assert.equal(one.body.items.length, 1);
    assert.deepEqual(one.body.items[0].payload.data, { n: 1 });
  });

  test('failed for good after the last attempt; listed, exported, retried and deleted', async () => {
    const o = await makeOrg(t.ctx);
    const r = await receiver();
    r.state.otherwise = 500;
    try {
      const hook = (await createHook(o, { url: r.url, events: ['support.waiting'] })).body;
      await supportEvent(o);
      await supportEvent(o);
      for (let attempt = 1; attempt <= MAX_DELIVERY_ATTEMPTS; attempt++) {
        await runJobsUntilIdle(t.ctx);
        t.clock.advance(retryDelayMs(attempt));
      }
      assert.equal(r.received.length, 2 * MAX_DELIVERY_ATTEMPTS);
      t.clock.advance(24 * 60 * 60_000);
      await runJobsUntilIdle(t.ctx);
      assert.equal(r.received.length, 2 * MAX_DELIVERY_ATTEMPTS, 'no attempt after the last one');
      const failed = await call(
        t.app,
        o.owner.token,
        'GET',
        `/v1/webhooks/${hook.id}/deliveries?status=failed`,
      );
      assert.equal(failed.body.items.length, 2);
      const [newest, oldest] = failed.body.items;
      assert.equal(newest.attempts, MAX_DELIVERY_ATTEMPTS);
      assert.equal(newest.next_attempt_at, null);
      assert.deepEqual([newest.last_status_code, newest.last_error], [500, 'HTTP 500']);
      assert.equal(oldest.attempts, MAX_DELIVERY_ATTEMPTS);

      const summary = (await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/summary`)).body;
      assert.deepEqual(
        [summary.total, summary.succeeded, summary.failed, summary.success_rate],
        [2, 0, 2, 0],
      );
      assert.ok(summary.last_failed_at);

      const csv = await call(
        t.app,
        o.owner.token,
        'GET',
        `/v1/webhooks/${hook.id}/deliveries/export`,
        undefined,
        {
          accept: 'text/csv',
        },
      );
      assert.equal(csv.status, 200);
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      assert.match(
        String(csv.headers['content-disposition']),
        /attachment; filename="webhook-\d+-failed-deliveries.csv"/,
      );
      const lines = csv.raw.trim().split('\r\n');
      assert.equal(
        lines[0],
        'delivery_id,webhook_id,event,event_seq,status,attempts,last_status_code,last_error,created_at,last_attempt_at,delivered_at,payload',
      );
      assert.equal(lines.length, 1 + failed.body.items.length);
      assert.ok(lines[1]!.startsWith(`${newest.id},${hook.id},support.waiting,`));
      assert.match(lines[1]!, /,"\{""id"":/, 'the payload is one quoted field');
      const json = await call(
        t.app,
        o.owner.token,
        'GET',
        `/v1/webhooks/${hook.id}/deliveries/export`,
        undefined,
        {
          accept: 'application/json',
        },
      );
      assert.equal(json.status, 406);

      r.state.otherwise = 200; // the receiver is fixed
      const retried = await call(
        t.app,
        o.owner.token,
        'POST',
        `/v1/webhooks/${hook.id}/deliveries/${oldest.id}/retry`,
        {},
      );
      assert.equal(retried.status, 200);
      assert.equal(retried.body.status, 'pending');
      await runJobsUntilIdle(t.ctx);
      const after = (await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).body
        .items;
      assert.equal(after.find((d: any) => d.id === oldest.id).status, 'succeeded');
      const again = await call(
        t.app,
        o.owner.token,
        'POST',
        `/v1/webhooks/${hook.id}/deliveries/${oldest.id}/retry`,
        {},
      );
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'delivery_not_failed');
      const unknown = await call(
        t.app,
        o.owner.token,
        'POST',
        `/v1/webhooks/${hook.id}/deliveries/12345/retry`,
        {},
      );
      assert.equal(unknown.status, 404);

      const delNone = await call(
        t.app,
        o.owner.token,
        'DELETE',
        `/v1/webhooks/${hook.id}/deliveries?ids=${oldest.id}`,
      );
      assert.deepEqual(delNone.body, { deleted: 0 }, 'a succeeded delivery is not a failed one');
      const del = await call(t.app, o.owner.token, 'DELETE', `/v1/webhooks/${hook.id}/deliveries`);
      assert.deepEqual(del.body, { deleted: 1 });
      const left = (await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).body.items;
      assert.deepEqual(
        left.map((d: any) => d.status),
        ['succeeded'],
      );
    } finally {
      await r.close();
    }
  });

  test('a receiver that never answers times out and is retried', async () => {
    const o = await makeOrg(t.ctx);
    const r = await receiver(['hang']);
    try {
      const hook = (await createHook(o, { url: r.url, events: ['support.waiting'] })).body;
      await supportEvent(o);
      await runJobsUntilIdle(t.ctx);
      const d = (await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).body.items[0];
      assert.equal(d.status, 'pending');
      assert.equal(d.last_status_code, null);
      assert.match(d.last_error, /no answer within 300 ms/);
      t.clock.advance(retryDelayMs(1));
      await runJobsUntilIdle(t.ctx);
      const ok = (await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).body
        .items[0];
      assert.equal(ok.status, 'succeeded');
    } finally {
      await r.close();
    }
  });

  test('a deletion job ends with a deletion_job.completed delivery; deleted conversations take their deliveries along', async () => {
    const o = await makeOrg(t.ctx);
    await call(t.app, o.owner.token, 'PUT', '/v1/deletion-jobs/window', { any_time: true });
    const r = await receiver();
    try {
      const hook = (
        await createHook(o, { url: r.url, events: ['deletion_job.completed', 'support.waiting'] })
      ).body;
      const chat = await supportEvent(o);
      await call(t.app, o.owner.token, 'POST', `/v1/support/chats/${chat.id}/end`);
      await runJobsUntilIdle(t.ctx);
      const ids = await seedConversations(t.ctx, {
        orgId: o.org.id,
        members: [o.owner.actor],
        count: 2,
        messagesEach: 3,
      });
      const job = await call(t.app, o.owner.token, 'POST', '/v1/deletion-jobs', {
        conversation_ids: [...ids, chat.id],
      });
      await runJobsUntilIdle(t.ctx);
      const types = r.received.map((x) => JSON.parse(x.body).type);
      assert.deepEqual(types.sort(), ['deletion_job.completed', 'support.waiting']);
      const done = JSON.parse(
        r.received.find((x) => JSON.parse(x.body).type === 'deletion_job.completed')!.body,
      );
      assert.equal(done.data.job_id, job.body.id);
      assert.equal(done.data.conversations_deleted, 3);
      assert.equal(done.data.messages_deleted, 7);
      const left = (await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).body.items;
      assert.deepEqual(
        left.map((d: any) => d.event),
        ['deletion_job.completed'],
        "the deleted chat's own delivery went with it",
      );
    } finally {
      await r.close();
    }
  });
});
