import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { zimSignature } from '../../src/auth/signature.ts';
import { createApp } from '../../src/services/apps.ts';
import { sendMessage } from '../../src/services/messages.ts';
import { buildTestApp, call, type TestApp } from '../support/app.ts';
import { makeOrg, principalFor, seedConversations, type TestOrg } from '../support/factories.ts';
import { connectStream } from '../support/stream.ts';

/**
 * Abuse limits (docs/security.md, "Limits"), each with small values set through the config's
 * environment so the suite is quick: HTTP body, header size, slow clients and connection caps on
 * real listening servers and raw TCP sockets; the stream's frame size, frame rate, socket caps
 * and slow-consumer close over real WebSockets; per-org quotas through the API and the bot
 * dialect. Every refusal is a 4xx (or a close code) in the surface's own shape that changes
 * nothing, and the server keeps serving. PARLEY_SOAK=1 runs longer variants.
 */

const SOAK = process.env.PARLEY_SOAK === '1';
const figure = (line: string) => process.stdout.write(`# ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RawResult {
  /** Everything the server sent before it closed the connection. */
  data: string;
  /** Milliseconds from connect to close. */
  ms: number;
  /** Whether the server closed it (false: still open when we gave up). */
  closed: boolean;
}

function openRaw(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects what a raw socket receives until the server closes it, or `giveUpMs` passes. */
function collect(s: Socket, giveUpMs: number): Promise<RawResult> {
  const start = performance.now();
  let data = '';
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    data += chunk;
  });
  s.on('error', () => undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ data, ms: performance.now() - start, closed: false }), giveUpMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ data, ms: performance.now() - start, closed: true });
    });
  });
}

/** Writes `chunks` one every `everyMs` while the socket is writable (a trickling client). */
function trickle(s: Socket, chunks: readonly string[], everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (s.destroyed || !s.writable || i >= chunks.length) return clearInterval(timer);
    s.write(chunks[i++]!);
  }, everyMs);
  return () => clearInterval(timer);
}

/** The JSON body of a raw HTTP response. */
function bodyOf(raw: string): any {
  const at = raw.indexOf('\r\n\r\n');
  return at < 0 ? undefined : JSON.parse(raw.slice(at + 4));
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

async function healthy(base: string): Promise<void> {
  const res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

const QUOTA_ENV = {
  QUOTA_ACTORS: '4',
  QUOTA_MEMBERS_PER_CONVERSATION: '3',
  QUOTA_WEBHOOKS: '2',
  QUOTA_APPS: '2',
  QUOTA_TOKENS_PER_ACTOR: '3',
  QUOTA_DELETION_JOBS: '2',
};

/** The quotas of QUOTA_ENV, through the API: each refusal is 409 quota_exceeded and writes nothing. */
async function checkQuotas(app: TestApp['app'], ctx: TestApp['ctx']): Promise<void> {
  const o = await makeOrg(ctx);
  const tok = o.owner.token;
  const assertQuota = (res: { status: number; body: any }, quota: string, limit: number) => {
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'quota_exceeded');
    assert.deepEqual(res.body.error.details, { quota, limit });
  };

  // actors: the owner and three more
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await call(app, tok, 'POST', '/v1/actors', { kind: 'user', role: 'member', name: `m${i}` });
    assert.equal(r.status, 201, r.raw);
    ids.push(r.body.id);
  }
  const actorsBefore = (await call(app, tok, 'GET', '/v1/actors?limit=100')).body.items.length;
  assertQuota(await call(app, tok, 'POST', '/v1/actors', { kind: 'bot', name: 'one too many' }), 'actors', 4);
  assert.equal((await call(app, tok, 'GET', '/v1/actors?limit=100')).body.items.length, actorsBefore);
  // a deactivated actor frees its seat
  assert.equal((await call(app, tok, 'POST', `/v1/actors/${ids[2]}/deactivate`)).status, 200);
  assert.equal((await call(app, tok, 'POST', '/v1/actors', { kind: 'bot', name: 'fits' })).status, 201);

  // members per conversation: creating with too many, then adding one too many
  assertQuota(
    await call(app, tok, 'POST', '/v1/conversations', { kind: 'group', title: 'x', member_ids: ids }),
    'members_per_conversation',
    3,
  );
  assert.equal((await call(app, tok, 'GET', '/v1/conversations')).body.items.length, 0);
  const g = await call(app, tok, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'g',
    member_ids: [ids[0]],
  });
  assert.equal(g.status, 201);
  const bot = (await call(app, tok, 'GET', '/v1/actors?kind=bot')).body.items[0].id as string;
  assertQuota(
    await call(app, tok, 'POST', `/v1/conversations/${g.body.id}/members`, { actor_ids: [ids[1], bot] }),
    'members_per_conversation',
    3,
  );
  const members = await call(app, tok, 'GET', `/v1/conversations/${g.body.id}/members`);
  assert.equal(members.body.items.length, 2, 'nobody was added');
  assert.equal(
    (await call(app, tok, 'POST', `/v1/conversations/${g.body.id}/members`, { actor_ids: [ids[1]] })).status <
      300,
    true,
  );

  // webhooks
  for (let i = 0; i < 2; i++) {
    const w = await call(app, tok, 'POST', '/v1/webhooks', {
      url: `https://example.com/h${i}`,
      events: ['message.created'],
    });
    assert.equal(w.status, 201, w.raw);
  }
  assertQuota(
    await call(app, tok, 'POST', '/v1/webhooks', {
      url: 'https://example.com/h3',
      events: ['message.created'],
    }),
    'webhooks',
    2,
  );
  assert.equal((await call(app, tok, 'GET', '/v1/webhooks')).body.items.length, 2);

  // apps
  for (let i = 0; i < 2; i++)
    assert.equal((await call(app, tok, 'POST', '/v1/apps', { name: `a${i}` })).status, 201);
  assertQuota(await call(app, tok, 'POST', '/v1/apps', { name: 'a3' }), 'apps', 2);
  assert.equal((await call(app, tok, 'GET', '/v1/apps')).body.items.length, 2);

  // tokens per actor: the owner has one; two more fit
  for (let i = 0; i < 2; i++) {
    const r = await call(app, tok, 'POST', '/v1/tokens', { name: `t${i}`, scopes: ['messages:read'] });
    assert.equal(r.status, 201, r.raw);
  }
  const tokensBefore = (await call(app, tok, 'GET', '/v1/tokens')).body.items.length;
  assertQuota(
    await call(app, tok, 'POST', '/v1/tokens', { name: 't3', scopes: ['messages:read'] }),
    'tokens_per_actor',
    3,
  );
  assert.equal((await call(app, tok, 'GET', '/v1/tokens')).body.items.length, tokensBefore);
}

/**
 * Requests racing for the last places of each quota of QUOTA_ENV, all at once: exactly as many
 * succeed as there is room for, the rest are 409 quota_exceeded, and what is stored is at the
 * limit, not past it (the count is taken in the write's transaction, the org locked on PostgreSQL).
 */
async function checkQuotaRaces(app: TestApp['app'], ctx: TestApp['ctx']): Promise<void> {
  const o = await makeOrg(ctx);
  const tok = o.owner.token;
  const race = async (n: number, fn: (i: number) => Promise<{ status: number; body: any }>) => {
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
    for (const a of answers)
      if (a.status === 409) assert.equal(a.body.error.code, 'quota_exceeded', JSON.stringify(a.body));
    const codes = answers.map((a) => a.status);
    return [codes.filter((c) => c < 300).length, codes.filter((c) => c === 409).length, codes.join(',')];
  };
  const count = async (path: string) => (await call(app, tok, 'GET', path)).body.items.length as number;

  // actors: the owner, and room for three more
  const actors = await race(8, (i) =>
    call(app, tok, 'POST', '/v1/actors', { kind: 'user', role: 'member', name: `racer ${i}` }),
  );
  assert.deepEqual(actors.slice(0, 2), [3, 5], `actors: ${actors[2]}`);
  assert.equal(await count('/v1/actors?limit=100'), 4);
  const ids = ((await call(app, tok, 'GET', '/v1/actors?limit=100')).body.items as { id: string }[])
    .map((a) => a.id)
    .filter((id) => id !== o.owner.actor.id);

  // tokens per actor: the owner has one, room for two
  const tokens = await race(6, (i) =>
    call(app, tok, 'POST', '/v1/tokens', { name: `racer ${i}`, scopes: ['messages:read'] }),
  );
  assert.deepEqual(tokens.slice(0, 2), [2, 4], `tokens: ${tokens[2]}`);
  assert.equal(await count('/v1/tokens'), 3);

  const apps = await race(5, (i) => call(app, tok, 'POST', '/v1/apps', { name: `racer ${i}` }));
  assert.deepEqual(apps.slice(0, 2), [2, 3], `apps: ${apps[2]}`);
  assert.equal(await count('/v1/apps'), 2);

  const hooks = await race(5, (i) =>
    call(app, tok, 'POST', '/v1/webhooks', {
      url: `https://example.com/race${i}`,
      events: ['message.created'],
    }),
  );
  assert.deepEqual(hooks.slice(0, 2), [2, 3], `webhooks: ${hooks[2]}`);
  assert.equal(await count('/v1/webhooks'), 2);

  // members per conversation: two members, room for one more, two different actors added at once
  const g = await call(app, tok, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'race',
    member_ids: [ids[0]],
  });
  assert.equal(g.status, 201, JSON.stringify(g.body));
  // ...while messages go into it: the org lock must not hold up (or deadlock with) sends, whose
  // event rows reference the org row.
  const sends = Array.from({ length: 30 }, (_, i) =>
    call(app, tok, 'POST', `/v1/conversations/${g.body.id}/messages`, { text: `during the race ${i}` }),
  );
  const adds = await race(2, (i) =>
    call(app, tok, 'POST', `/v1/conversations/${g.body.id}/members`, { actor_ids: [ids[1 + i]] }),
  );
  assert.deepEqual(adds.slice(0, 2), [1, 1], `members: ${adds[2]}`);
  assert.deepEqual(
    (await Promise.all(sends)).map((r) => r.status),
    sends.map(() => 201),
  );
  assert.equal(await count(`/v1/conversations/${g.body.id}/members`), 3);

  // deletion jobs waiting: room for two
  const convs = await seedConversations(ctx, {
    orgId: o.org.id,
    members: [o.owner.actor],
    count: 4,
    messagesEach: 1,
  });
  const jobs = await race(4, (i) =>
    call(app, tok, 'POST', '/v1/deletion-jobs', { conversation_ids: [convs[i]] }),
  );
  assert.deepEqual(jobs.slice(0, 2), [2, 2], `deletion jobs: ${jobs[2]}`);
  assert.equal(await count('/v1/deletion-jobs'), 2);
}

// ---------------------------------------------------------------------------------------------
// HTTP: body and header size, slow clients, quotas (one server with small limits)
// ---------------------------------------------------------------------------------------------

describe('HTTP limits and quotas', () => {
  let t: TestApp;
  let base: string;
  let port: number;
  const HEADERS_MS = 400;
  const REQUEST_MS = 800;
  const KEEP_ALIVE_MS = 400;
  before(async () => {
    t = await buildTestApp({
      BODY_LIMIT: '4096',
      HTTP_MAX_HEADER_BYTES: '4096',
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
      DELETION_WINDOW: 'any',
      ...QUOTA_ENV,
    });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(base).port);
  });
  after(async () => t.close());

  const big = (n: number) => JSON.stringify({ text: 'x'.repeat(n) });

  test('a body over BODY_LIMIT is 413 in each surface’s own shape, and nothing is written', async () => {
    const o = await makeOrg(t.ctx);
    const json = { 'content-type': 'application/json' };
    const owner = { ...json, authorization: `Bearer ${o.owner.token}` };
    const group = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'g',
    });
    assert.equal(group.status, 201);
    const messagesUrl = `${base}/v1/conversations/${group.body.id}/messages`;

    // native, with Content-Length and chunked (no length: the limit is counted as it arrives)
    const native = await fetch(messagesUrl, { method: 'POST', headers: owner, body: big(10_000) });
    assert.equal(native.status, 413);
    assert.deepEqual(await native.json(), {
      error: {
        code: 'body_too_large',
        message: 'The request body is larger than the server accepts',
        details: null,
        request_id: native.headers.get('x-request-id'),
      },
    });
    const chunks = [new TextEncoder().encode(big(10_000))];
    const chunked = await fetch(messagesUrl, {
      method: 'POST',
      headers: owner,
      body: new ReadableStream({
        pull(c) {
          const next = chunks.shift();
          if (next) c.enqueue(next);
          else c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.equal(((await chunked.json()) as any).error.code, 'body_too_large');
    const history = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${group.body.id}/messages`);
    assert.equal(history.body.items.length, 0, 'no message was written');

    // cliq: the vendor's catalogue has no 413, so the page's 400 body; Parley's code in the header
    const cliq = await fetch(`${base}/compat/cliq/api/v2/chats/${group.body.id}/mute`, {
      method: 'POST',
      headers: owner,
      body: big(10_000),
    });
    assert.equal(cliq.status, 400);
    assert.equal(cliq.headers.get('x-parley-error-code'), 'body_too_large');
    assert.deepEqual(Object.keys((await cliq.json()) as object), ['message']);

    // zim: {Code, Message, RequestId}, before the signature is even looked at
    const made = await createApp(t.ctx, principalFor(o, o.owner.actor), 'server');
    const ts = String(Math.floor(t.clock.now() / 1000));
    const nonce = '0123456789abcdef';
    const q = `Action=DeleteConv&AppId=${made.appId}&SignatureNonce=${nonce}&Timestamp=${ts}&SignatureVersion=2.0&Signature=${zimSignature(made.appId, nonce, made.serverSecret, ts)}`;
    const zim = await fetch(`${base}/compat/zim/?${q}`, { method: 'POST', headers: json, body: big(10_000) });
    assert.equal(zim.status, 413);
    const zimBody = (await zim.json()) as any;
    assert.deepEqual(Object.keys(zimBody).sort(), ['Code', 'Message', 'RequestId']);
    assert.equal(zimBody.Code, 660000002);

    // salesiq: the v2 error body with code 1413
    const salesiq = await fetch(`${base}/compat/salesiq/api/v2/${o.org.slug}/conversations`, {
      method: 'DELETE',
      headers: { ...json, authorization: `Zoho-oauthtoken ${o.owner.token}` },
      body: JSON.stringify({ ids: ['1'], pad: 'x'.repeat(10_000) }),
    });
    assert.equal(salesiq.status, 413);
    const sBody = (await salesiq.json()) as any;
    assert.equal(sBody.object, 'error');
    assert.equal(sBody.error.code, 1413);
    assert.equal(sBody.error.reason, 'body_too_large');

    // kore: {"errors": [{"msg", "code": 413}]}, and no job queued
    const jwt = await new SignJWT({ appId: String(made.appId) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(made.serverSecret));
    const kore = await fetch(`${base}/compat/kore/api/public/bot/${o.org.slug}/conversations/delete`, {
      method: 'POST',
      headers: { ...json, auth: jwt },
      body: JSON.stringify({ conversationIds: ['1'], pad: 'x'.repeat(10_000) }),
    });
    assert.equal(kore.status, 413);
    assert.equal(kore.headers.get('x-parley-error-code'), 'body_too_large');
    const kBody = (await kore.json()) as any;
    assert.equal(kBody.errors[0].code, 413);
    const jobs = await call(t.app, o.owner.token, 'GET', '/v1/deletion-jobs');
    assert.equal(jobs.body.items.length, 0, 'no deletion job was queued');
  });

  test('headers over HTTP_MAX_HEADER_BYTES are 431 in the native shape; the server keeps serving', async () => {
    const s = await openRaw(port);
    const got = collect(s, 3000);
    s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(8000)}\r\n\r\n`);
    const r = await got;
    assert.ok(r.closed, 'the connection is closed');
    assert.equal(statusOf(r.data), 431);
    assert.equal(bodyOf(r.data).error.code, 'headers_too_large');
    const broken = await openRaw(port);
    const bad = collect(broken, 3000);
    broken.write('NOT HTTP AT ALL\r\n\r\n');
    const b = await bad;
    assert.equal(statusOf(b.data), 400);
    assert.equal(bodyOf(b.data).error.code, 'bad_request');
    await healthy(base);
  });

  test('slow clients are cut off: trickled headers, a trickled body, an idle socket, idle keep-alive', async () => {
    // headers a line every 100 ms, never finished: 408 once HTTP_HEADERS_TIMEOUT_MS is up
    const slowHeaders = await openRaw(port);
    const h = collect(slowHeaders, 5000);
    slowHeaders.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const stopH = trickle(
      slowHeaders,
      Array.from({ length: 100 }, (_, i) => `X-${i}: y\r\n`),
      100,
    );
    const hr = await h;
    stopH();
    assert.ok(hr.closed, 'trickled headers are cut off');
    assert.ok(hr.ms < HEADERS_MS + 1000, `closed after ${hr.ms} ms`);
    assert.equal(statusOf(hr.data), 408);
    assert.equal(bodyOf(hr.data).error.code, 'request_timeout');

    // a body trickled a byte every 100 ms: 408 once HTTP_REQUEST_TIMEOUT_MS is up, nothing written
    const o = await makeOrg(t.ctx);
    const body = JSON.stringify({ kind: 'group', title: 'never' });
    const slowBody = await openRaw(port);
    const b = collect(slowBody, 5000);
    slowBody.write(
      `POST /v1/conversations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${o.owner.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const stopB = trickle(slowBody, body.slice(0, -1).split(''), 100);
    const br = await b;
    stopB();
    assert.ok(br.closed, 'a trickled body is cut off');
    assert.ok(br.ms < REQUEST_MS + 1000, `closed after ${br.ms} ms`);
    assert.ok(!br.data.includes(' 201 '), br.data);
    const list = await call(t.app, o.owner.token, 'GET', '/v1/conversations');
    assert.equal(list.body.items.length, 0, 'no conversation was created');

    // a connection that never sends anything
    const idle = await openRaw(port);
    const ir = await collect(idle, 5000);
    assert.ok(ir.closed && ir.ms < HEADERS_MS + 1000, `idle socket closed after ${ir.ms} ms`);

    // an idle keep-alive connection after a complete request (Node adds a second of grace to
    // HTTP_KEEP_ALIVE_TIMEOUT_MS, so that a client's own keep-alive timer fires first)
    const ka = await openRaw(port);
    const kr = collect(ka, 5000);
    ka.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const k = await kr;
    assert.equal(statusOf(k.data), 200);
    assert.ok(k.closed && k.ms < KEEP_ALIVE_MS + 2000, `keep-alive socket closed after ${k.ms} ms`);
    await healthy(base);
  });

  test(`many slow-loris sockets at once are all cut off while others are served${SOAK ? ' (soak)' : ''}`, async () => {
    const n = SOAK ? 1000 : 50;
    const rounds = SOAK ? 10 : 1;
    let cut = 0;
    let worst = 0;
    const latencies: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const sockets = await Promise.all(Array.from({ length: n }, () => openRaw(port)));
      const results = sockets.map((s) => collect(s, HEADERS_MS + 4000));
      const stops = sockets.map((s, i) => {
        s.write(`GET /healthz?${i} HTTP/1.1\r\nHost: x\r\n`);
        return trickle(
          s,
          Array.from({ length: 200 }, (_, j) => `X-${j}: y\r\n`),
          50,
        );
      });
      const probing = (async () => {
        const until = performance.now() + HEADERS_MS;
        while (performance.now() < until) {
          const at = performance.now();
          await healthy(base);
          latencies.push(performance.now() - at);
          await sleep(20);
        }
      })();
      const done = await Promise.all(results);
      await probing;
      for (const stop of stops) stop();
      for (const r of done) {
        if (r.closed && statusOf(r.data) === 408) cut++;
        worst = Math.max(worst, r.ms);
      }
    }
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    figure(
      `slow-loris: ${n * rounds} trickling sockets, ${cut} cut off with 408, slowest after ${Math.round(worst)} ms ` +
        `(HTTP_HEADERS_TIMEOUT_MS ${HEADERS_MS}); ${latencies.length} requests served meanwhile, p99 ${p99.toFixed(1)} ms`,
    );
    assert.equal(cut, n * rounds);
    assert.ok(worst < HEADERS_MS + 2000, `slowest cut after ${worst} ms`);
    await healthy(base);
  });

  test('quotas: each refusal is 409 quota_exceeded and writes nothing', async () => {
    await checkQuotas(t.app, t.ctx);
  });

  test('quotas hold when requests race for the last places', async () => {
    await checkQuotaRaces(t.app, t.ctx);
  });

  test('the deletion-job quota answers the bot dialect in its own shape', async () => {
    const o: TestOrg = await makeOrg(t.ctx);
    const made = await createApp(t.ctx, principalFor(o, o.owner.actor), 'bot');
    const jwt = await new SignJWT({ appId: String(made.appId) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(made.serverSecret));
    const convs = await seedConversations(t.ctx, {
      orgId: o.org.id,
      members: [o.owner.actor],
      count: 3,
      messagesEach: 1,
    });
    const kore = (id: string) =>
      call(
        t.app,
        null,
        'POST',
        `/compat/kore/api/public/bot/${o.org.slug}/conversations/delete`,
        {
          conversationIds: [id],
        },
        { auth: jwt },
      );
    assert.equal((await kore(convs[0]!)).status, 200);
    assert.equal(
      (await call(t.app, o.owner.token, 'POST', '/v1/deletion-jobs', { conversation_ids: [convs[1]] }))
        .status,
      202,
    );
    const refused = await kore(convs[2]!);
    assert.equal(refused.status, 409, refused.raw);
    assert.equal(refused.headers['x-parley-error-code'], 'quota_exceeded');
    assert.equal(refused.body.errors[0].code, 409);
    const native = await call(t.app, o.owner.token, 'POST', '/v1/deletion-jobs', {
      conversation_ids: [convs[2]],
    });
    assert.equal(native.status, 409);
    assert.deepEqual(native.body.error.details, { quota: 'deletion_jobs', limit: 2 });
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/deletion-jobs')).body.items.length, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP: connection caps per node and per client address
// ---------------------------------------------------------------------------------------------

describe('connection caps', () => {
  let t: TestApp;
  let base: string;
  let port: number;
  before(async () => {
    t = await buildTestApp({ HTTP_MAX_CONNECTIONS: '12', HTTP_MAX_CONNECTIONS_PER_IP: '5' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(base).port);
  });
  after(async () => t.close());

  /** Whether the server drops a fresh connection from `from` within 300 ms. */
  async function dropped(from: string): Promise<{ socket: Socket; dropped: boolean }> {
    const s = await openRaw(port, from);
    const r = await collect(s, 300);
    return { socket: s, dropped: r.closed };
  }

  test('past HTTP_MAX_CONNECTIONS_PER_IP and HTTP_MAX_CONNECTIONS new connections are closed at once', async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) held.push(await openRaw(port, '127.0.0.1'));
      const sixth = await dropped('127.0.0.1');
      assert.ok(sixth.dropped, 'the sixth connection from one address is closed');
      for (let i = 0; i < 5; i++) held.push(await openRaw(port, '127.0.0.2'));
      for (let i = 0; i < 2; i++) held.push(await openRaw(port, '127.0.0.3'));
      await sleep(50);
      const thirteenth = await dropped('127.0.0.4');
      assert.ok(thirteenth.dropped, 'the thirteenth connection to the node is closed');
      // the held connections still work
      const s = held[6]!;
      const got = collect(s, 2000);
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(statusOf((await got).data), 200);
    } finally {
      for (const s of held) s.destroy();
    }
    await sleep(100);
    // once they are closed, the address and the node have room again
    const again = await dropped('127.0.0.1');
    assert.ok(!again.dropped);
    again.socket.destroy();
    await healthy(base);
  });
});

// ---------------------------------------------------------------------------------------------
// Stream: frame size, frame rate, socket caps, slow consumers, the handshake
// ---------------------------------------------------------------------------------------------

describe('stream limits', () => {
  let t: TestApp;
  let base: string;
  let port: number;
  before(async () => {
    t = await buildTestApp({
      STREAM_MAX_FRAME_BYTES: '2048',
      STREAM_FRAMES_PER_SECOND: '10',
      STREAM_MAX_SOCKETS_PER_ACTOR: '3',
      STREAM_MAX_SOCKETS_PER_ORG: '5',
      STREAM_MAX_BUFFERED_BYTES: '16384',
      HTTP_HEADERS_TIMEOUT_MS: '300',
      HTTP_REQUEST_TIMEOUT_MS: '600',
    });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(base).port);
  });
  after(async () => t.close());

  /** A refused upgrade: its status and native error body. */
  function refusedUpgrade(token: string): Promise<{ status: number; body: any }> {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.close();
        reject(new Error('the upgrade was accepted'));
      });
      ws.once('unexpected-response', (_req, res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          raw += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw) }));
      });
      ws.once('error', () => undefined);
    });
  }

  test('a frame over STREAM_MAX_FRAME_BYTES closes that socket with 1009; others carry on', async () => {
    const o = await makeOrg(t.ctx);
    const a = await connectStream(base, { token: o.owner.token });
    await a.next((f) => f.type === 'ready');
    const bystander = await connectStream(base, { token: o.owner.token });
    await bystander.next((f) => f.type === 'ready');
    a.send({ type: 'ping', pad: 'x'.repeat(4096) });
    const closed = await a.closed;
    assert.equal(closed.code, 1009);
    bystander.send({ type: 'ping' });
    await bystander.next((f) => f.type === 'pong');
    await bystander.close();
    await healthy(base);
  });

  test('frames past STREAM_FRAMES_PER_SECOND are refused, twice as many close the socket (4029)', async () => {
    const o = await makeOrg(t.ctx);
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: 'g' });
    const s = await connectStream(base, { token: o.owner.token });
    await s.next((f) => f.type === 'ready');
    // 15 sends in one burst: 10 are processed, 5 refused with their client ids
    for (let i = 0; i < 15; i++)
      s.send({ type: 'send', conversation_id: g.body.id, text: `m${i}`, client_id: `c${i}` });
    const deadline = Date.now() + 3000;
    while (s.seen((f) => f.type === 'ack' || f.code === 'rate_limited').length < 15 && Date.now() < deadline)
      await sleep(20);
    const acks = s.seen((f) => f.type === 'ack');
    const refused = s.seen((f) => f.type === 'error' && f.code === 'rate_limited');
    assert.equal(acks.length, 10);
    assert.equal(refused.length, 5);
    assert.ok(refused.every((f) => /^c\d+$/.test(f.client_id) && f.retry_after_ms > 0));
    const history = await call(
      t.app,
      o.owner.token,
      'GET',
      `/v1/conversations/${g.body.id}/messages?limit=100`,
    );
    assert.equal(history.body.items.length, 10, 'refused frames wrote nothing');
    // after the window, the socket is served again
    await sleep(1050);
    s.send({ type: 'ping' });
    await s.next((f) => f.type === 'pong');
    // a flood in a fresh window: 10 answered, 10 refused, then closed with 4029
    await sleep(1050);
    const flood = 100;
    const pongsBefore = s.seen((f) => f.type === 'pong').length;
    const refusedBefore = s.seen((f) => f.code === 'rate_limited').length;
    for (let i = 0; i < flood && s.ws.readyState === s.ws.OPEN; i++) s.send({ type: 'ping' });
    const closed = await s.closed;
    assert.equal(closed.code, 4029);
    assert.equal(s.seen((f) => f.type === 'pong').length - pongsBefore, 10);
    assert.equal(s.seen((f) => f.code === 'rate_limited').length - refusedBefore, 10);
    await healthy(base);
  });

  test(`flooding sockets one after another leave the server serving${SOAK ? ' (soak)' : ''}`, async () => {
    const o = await makeOrg(t.ctx);
    const cycles = SOAK ? 1000 : 10;
    const frames = 1000;
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    let closed4029 = 0;
    for (let c = 0; c < cycles; c++) {
      const s = await connectStream(base, { token: o.owner.token });
      await s.next((f) => f.type === 'ready');
      for (let i = 0; i < frames && s.ws.readyState === s.ws.OPEN; i++)
        s.send({ type: 'typing', conversation_id: '1' });
      if ((await s.closed).code === 4029) closed4029++;
    }
    const ms = performance.now() - started;
    figure(
      `stream flood: ${cycles} sockets x up to ${frames} frames, ${closed4029} closed with 4029 in ${Math.round(ms)} ms; ` +
        `rss ${Math.round(rss / 1e6)} -> ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
    );
    assert.equal(closed4029, cycles);
    for (let i = 0; i < 100 && t.gateway.socketCount > 0; i++) await sleep(10);
    assert.equal(t.gateway.socketCount, 0);
    await healthy(base);
  });

  test('STREAM_MAX_SOCKETS_PER_ACTOR and _PER_ORG: the next upgrade is 429 too_many_streams', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const carol = await o.user();
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await connectStream(base, { token: bob.token }));
    const perActor = await refusedUpgrade(bob.token);
    assert.equal(perActor.status, 429);
    assert.equal(perActor.body.error.code, 'too_many_streams');
    assert.equal(perActor.body.error.details.per, 'actor');
    // a socket closed frees its place
    await mine.pop()!.close();
    await sleep(50);
    mine.push(await connectStream(base, { token: bob.token }));
    // the org: 3 of bob's and 2 of carol's, then nobody else of the org
    mine.push(await connectStream(base, { token: carol.token }));
    mine.push(await connectStream(base, { token: carol.token }));
    const perOrg = await refusedUpgrade(o.owner.token);
    assert.equal(perOrg.status, 429);
    assert.equal(perOrg.body.error.details.per, 'org');
    // another org is not affected
    const other = await makeOrg(t.ctx);
    const theirs = await connectStream(base, { token: other.owner.token });
    await theirs.next((f) => f.type === 'ready');
    await theirs.close();
    for (const s of mine) await s.close();
  });

  test(`a consumer that stops reading is closed with 4008; the others get everything${SOAK ? ' (soak)' : ''}`, async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const carol = await o.user();
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'busy',
      member_ids: [bob.actor.id, carol.actor.id],
    });
    const owner = principalFor(o, o.owner.actor);
    const text = 'y'.repeat(10_000);
    // The server closes the socket (its close frame waits behind the queued data), so the
    // sender watches the server's side of the socket (@fastify/websocket's server).
    const serverSide = (t.app as unknown as { websocketServer: { clients: Set<WebSocket> } }).websocketServer;
    const closing = () => [...serverSide.clients].some((c) => c.readyState !== c.OPEN);
    const rounds = SOAK ? 10 : 1;
    let sent = 0;
    for (let round = 0; round < rounds; round++) {
      const reader = await connectStream(base, { token: carol.token });
      const ready = await reader.next((f) => f.type === 'ready');
      const slow = await connectStream(base, { token: bob.token });
      await slow.next((f) => f.type === 'ready');
      const raw = (slow.ws as unknown as { _socket: Socket })._socket;
      raw.pause();
      let closedCode: number | null = null;
      void slow.closed.then((c) => {
        closedCode = c.code;
      });
      const before = sent;
      const started = performance.now();
      while (sent - before < 3_000 && !closing()) {
        await Promise.all(
          Array.from({ length: 25 }, () =>
            sendMessage(t.ctx, owner, g.body.id, { text, clientId: `slow-${sent++}` }),
          ),
        );
      }
      const ms = performance.now() - started;
      raw.resume();
      await Promise.race([slow.closed, sleep(5000)]);
      assert.equal(closedCode, 4008);
      // the reading socket got every message, in order, while the other one was stuck
      const last = await reader
        .next(
          (f) => f.event === 'message.created' && f.data?.message?.client_id === `slow-${sent - 1}`,
          10_000,
        )
        .catch(() => null);
      const got = reader.seen((f) => f.event === 'message.created');
      figure(
        `slow consumer round ${round + 1}: closed with ${closedCode} after ${sent - before} messages of 10 kB ` +
          `(${Math.round(ms)} ms, STREAM_MAX_BUFFERED_BYTES 16384); a reading socket got ${got.length}`,
      );
      assert.ok(last, 'the reading socket got the last message');
      assert.equal(got.length, sent - before);
      assert.ok(got.every((f, i) => i === 0 || f.seq > got[i - 1].seq) && got[0].seq > ready.seq);
      await reader.close();
    }
    const fresh = await connectStream(base, { token: bob.token });
    await fresh.next((f) => f.type === 'ready');
    await fresh.close();
  });

  test('the upgrade handshake is bound by the header timeout; an open socket is not', async () => {
    const o = await makeOrg(t.ctx);
    const s = await openRaw(port);
    const got = collect(s, 4000);
    s.write(
      `GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Version: 13\r\n`,
    );
    const stop = trickle(
      s,
      [
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
        'X-a: b\r\n',
        'X-b: c\r\n',
        'X-c: d\r\n',
        'X-d: e\r\n',
        'X-e: f\r\n',
        'X-f: g\r\n',
        'X-g: h\r\n',
      ],
      100,
    );
    const r = await got;
    stop();
    assert.ok(r.closed && r.ms < 1500, `a trickled handshake is cut off (after ${r.ms} ms)`);
    assert.equal(statusOf(r.data), 408);
    // a socket that finished its handshake outlives HTTP_REQUEST_TIMEOUT_MS
    const live = await connectStream(base, { token: o.owner.token });
    await live.next((f) => f.type === 'ready');
    await sleep(1500);
    live.send({ type: 'ping' });
    await live.next((f) => f.type === 'pong');
    await live.close();
  });
});
