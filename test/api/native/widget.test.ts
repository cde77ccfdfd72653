import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runJobsUntilIdle } from '../../../src/jobs/runner.ts';
import { buildTestApp, call, type TestApp, visitorCaller } from '../../support/app.ts';
import { makeOrg, type Person, type TestOrg } from '../../support/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../support/smtp.ts';
import { connectStream } from '../../support/stream.ts';

/**
 * The website chat widget through its HTTP surface: configuration (admins), the visitor's
 * public endpoints and credential, origins, rate limits, signed identity, leave-a-message,
 * transcripts to a real SMTP sink, availability routing, the visitor panel and canned responses.
 */

let t: TestApp;
let sink: SmtpSink;
let base: string;
before(async () => {
  sink = await startSmtpSink();
  t = await buildTestApp(
    { SMTP_URL: sink.url, MAIL_FROM: 'Parley <support@parley.test>' },
    {
      gateway: { pingMs: 1000, gapFillMs: 50 },
    },
  );
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await t.close();
  await sink.close();
});

const SITE = 'https://shop.example';

const visitorCall = visitorCaller(() => t.app);

interface Setup {
  o: TestOrg;
  op: Person;
  dept: { id: string };
  dept2: { id: string };
  widget: any;
}

async function setup(prechat?: Record<string, string>): Promise<Setup> {
  const o = await makeOrg(t.ctx);
  const op = await o.user('operator', 'Olga Operator');
  const dept = (await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Sales' })).body;
  const dept2 = (await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'Billing' })).body;
  await call(t.app, o.owner.token, 'PUT', `/v1/departments/${dept.id}/operators`, {
    operator_ids: [op.actor.id],
  });
  await call(t.app, o.owner.token, 'PUT', `/v1/departments/${dept2.id}/operators`, { operator_ids: [] });
  const res = await call(t.app, o.owner.token, 'POST', '/v1/widgets', {
    name: 'Shop',
    allowed_origins: [SITE, 'http://localhost:3000/'],
    department_ids: [dept.id, dept2.id],
    colour: '#AA3300',
    ...(prechat ? { prechat } : {}),
  });
  assert.equal(res.status, 201, res.raw);
  return { o, op, dept, dept2, widget: res.body };
}

async function session(w: any, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await visitorCall(null, 'POST', '/v1/widget/sessions', { key: w.public_key, ...body }, headers);
  assert.equal(res.status, 201, res.raw);
  return res.body as { token: string; visitor: { id: string; name: string } };
}

const available = (s: Setup, who: Person = s.op) =>
  call(t.app, who.token, 'PUT', '/v1/support/availability', { status: 'available' });

describe('widget configuration', () => {
  test('CRUD: create, list, get, change, rotate the secret, delete', async () => {
    const s = await setup();
    const w = s.widget;
    assert.match(w.public_key, /^wk_/);
    assert.ok(w.secret.length >= 40);
    assert.deepEqual(w.allowed_origins, [SITE, 'http://localhost:3000']);
    assert.equal(w.colour, '#aa3300');
    assert.deepEqual(w.prechat, { name: 'optional', email: 'optional', question: 'required' });
    assert.match(
      w.embed_snippet,
      new RegExp(`<script src="http://[^"]+/widget.js" data-key="${w.public_key}" async></script>`),
    );
    const list = await call(t.app, s.o.owner.token, 'GET', '/v1/widgets');
    assert.deepEqual(
      list.body.items.map((x: any) => x.id),
      [w.id],
    );
    const patched = await call(t.app, s.o.owner.token, 'PATCH', `/v1/widgets/${w.id}`, {
      greeting: 'Hello there',
      prechat: { email: 'required' },
      rotate_secret: true,
    });
    assert.equal(patched.status, 200, patched.raw);
    assert.equal(patched.body.greeting, 'Hello there');
    assert.equal(patched.body.prechat.email, 'required');
    assert.equal(patched.body.prechat.question, 'required');
    assert.notEqual(patched.body.secret, w.secret);
    assert.equal(patched.body.public_key, w.public_key);
    const got = await call(t.app, s.o.owner.token, 'GET', `/v1/widgets/${w.id}`);
    assert.equal(got.body.greeting, 'Hello there');
    const del = await call(t.app, s.o.owner.token, 'DELETE', `/v1/widgets/${w.id}`);
    assert.equal(del.status, 204);
    assert.equal((await call(t.app, s.o.owner.token, 'GET', `/v1/widgets/${w.id}`)).status, 404);
    const pub = await visitorCall(null, 'GET', `/v1/widget/config?key=${w.public_key}`);
    assert.equal(pub.status, 404);
  });

  test('bad inputs are a clear 400 and change nothing', async () => {
    const s = await setup();
    const w = s.widget;
    const bad: [string, Record<string, unknown>, string][] = [
      ['body.allowed_origins.0', { allowed_origins: ['shop.example'] }, 'invalid_origin'],
      ['body.allowed_origins.0', { allowed_origins: ['https://shop.example/path'] }, 'invalid_origin'],
      ['body.allowed_origins.0', { allowed_origins: ['javascript:alert(1)'] }, 'invalid_origin'],
      ['body.colour', { colour: 'red' }, 'invalid_request'],
      ['body.department_ids', { department_ids: [] }, 'invalid_request'],
      ['body.department_ids.0', { department_ids: ['999999'] }, 'department_not_found'],
      ['body.prechat.name', { prechat: { name: 'sometimes' } }, 'invalid_request'],
      ['body.greeting', { greeting: 'x'.repeat(501) }, 'invalid_request'],
      ['body.nope', { nope: 1 }, 'invalid_request'],
    ];
    for (const [path, body, code] of bad) {
      const res = await call(t.app, s.o.owner.token, 'PATCH', `/v1/widgets/${w.id}`, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw}`);
      assert.equal(res.body.error.code, code, res.raw);
      assert.ok(
        res.body.error.details.some((d: { path: string }) => d.path === path),
        `${JSON.stringify(body)} names ${path}: ${res.raw}`,
      );
    }
    const empty = await call(t.app, s.o.owner.token, 'PATCH', `/v1/widgets/${w.id}`, {});
    assert.equal(empty.status, 400);
    const noDept = await call(t.app, s.o.owner.token, 'POST', '/v1/widgets', { allowed_origins: [] });
    assert.equal(noDept.status, 400);
    assert.equal(noDept.body.error.details[0].path, 'body.department_ids');
    const after = await call(t.app, s.o.owner.token, 'GET', `/v1/widgets/${w.id}`);
    assert.deepEqual(after.body, w, 'nothing changed');
    assert.equal((await call(t.app, s.o.owner.token, 'GET', '/v1/widgets')).body.items.length, 1);
  });

  test('only admins configure widgets; another org sees none', async () => {
    const s = await setup();
    const other = await makeOrg(t.ctx);
    const forOp = await call(t.app, s.op.token, 'GET', '/v1/widgets');
    assert.equal(forOp.status, 403);
    assert.equal(forOp.body.error.code, 'admin_role_required');
    assert.equal((await call(t.app, other.owner.token, 'GET', `/v1/widgets/${s.widget.id}`)).status, 404);
    assert.equal((await call(t.app, other.owner.token, 'DELETE', `/v1/widgets/${s.widget.id}`)).status, 404);
    assert.equal((await call(t.app, s.o.owner.token, 'GET', `/v1/widgets/${s.widget.id}`)).status, 200);
  });
});

describe('the visitor', () => {
  test('public config follows availability; origin refused without CORS, allowed with it', async () => {
    const s = await setup();
    const key = s.widget.public_key;
    const off = await visitorCall(null, 'GET', `/v1/widget/config?key=${key}`, undefined, { origin: SITE });
    assert.equal(off.status, 200, off.raw);
    assert.equal(off.headers['access-control-allow-origin'], SITE);
    assert.equal(off.body.online, false);
    assert.deepEqual(
      off.body.departments.map((d: any) => [d.name, d.online]),
      [
        ['Sales', false],
        ['Billing', false],
      ],
    );
    assert.equal(off.body.secret, undefined, 'the secret never reaches the visitor');
    await available(s);
    const on = await visitorCall(null, 'GET', `/v1/widget/config?key=${key}`);
    assert.deepEqual(
      on.body.departments.map((d: any) => [d.name, d.online]),
      [
        ['Sales', true],
        ['Billing', false],
      ],
    );
    const refused = await visitorCall(null, 'GET', `/v1/widget/config?key=${key}`, undefined, {
      origin: 'https://evil.example',
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'origin_not_allowed');
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
    const sess = await visitorCall(
      null,
      'POST',
      '/v1/widget/sessions',
      { key },
      { origin: 'https://evil.example' },
    );
    assert.equal(sess.status, 403);
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/widget/sessions',
      headers: { origin: SITE, 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], SITE);
    const preBad = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/widget/sessions',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preBad.statusCode, 403);
    assert.equal(preBad.headers['access-control-allow-origin'], undefined);
    const unknown = await visitorCall(null, 'GET', '/v1/widget/config?key=wk_nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'widget_not_found');
  });

  test('the iframe document names the allowed origins in frame-ancestors', async () => {
    const s = await setup();
    const res = await t.app.inject({ method: 'GET', url: `/widget/frame?key=${s.widget.public_key}` });
    assert.equal(res.statusCode, 200);
    assert.match(
      String(res.headers['content-security-policy']),
      /frame-ancestors https:\/\/shop\.example http:\/\/localhost:3000(;|$)/,
    );
    assert.match(res.body, new RegExp(`data-key="${s.widget.public_key}"`));
    const missing = await t.app.inject({ method: 'GET', url: '/widget/frame?key=wk_unknown' });
    assert.equal(missing.statusCode, 404);
    const hostile = await t.app.inject({ method: 'GET', url: '/widget/frame?key=%22%3E%3Cscript%3E' });
    assert.equal(hostile.statusCode, 404);
    assert.doesNotMatch(hostile.body, /<script>/);
  });

  test('a chat: start, operator picks up and answers, history, typing, read, end; one open chat', async () => {
    const s = await setup();
    const { token, visitor } = await session(s.widget);
    const offline = await visitorCall(token, 'POST', '/v1/widget/chats', { question: 'hello?' });
    assert.equal(offline.status, 409, offline.raw);
    assert.equal(offline.body.error.code, 'no_operator_available');
    await available(s);
    const started = await visitorCall(token, 'POST', '/v1/widget/chats', {
      name: 'Vera Visitor',
      email: 'vera@example.com',
      question: 'Where is my order?',
      page_url: 'https://shop.example/orders/7',
    });
    assert.equal(started.status, 201, started.raw);
    const chat = started.body;
    assert.equal(chat.state, 'waiting');
    assert.equal(chat.department.name, 'Sales');
    assert.equal(chat.page_url, 'https://shop.example/orders/7');
    // Another tab: the same chat, not a second one.
    const again = await visitorCall(token, 'POST', '/v1/widget/chats', {
      question: 'hello again',
      department_id: s.dept2.id,
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, chat.id);

    const stream = await connectWidgetStream(token);
    const conv = await call(t.app, s.op.token, 'GET', `/v1/conversations/${chat.id}`);
    // Staff read a support chat without being in it (the owner-access rule), but are not members until pickup.
    assert.equal(conv.status, 200);
    assert.equal(conv.body.me, null, 'not a member until picked up');
    const queue = await call(t.app, s.op.token, 'GET', '/v1/support/queue');
    assert.equal(queue.body.items[0].id, chat.id);
    const counts = await call(t.app, s.op.token, 'GET', '/v1/support/queue/counts');
    assert.deepEqual(
      counts.body.items.map((c: any) => [c.department.name, c.waiting, c.available_operators]),
      [['Sales', 1, 1]],
    );
    const picked = await call(t.app, s.op.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    assert.equal(picked.status, 200);
    const mineOpen = await call(t.app, s.op.token, 'GET', '/v1/support/chats?mine=true');
    assert.deepEqual(
      mineOpen.body.items.map((c: any) => [c.id, c.title, c.state, c.page_url, c.attender.name]),
      [[chat.id, 'Vera Visitor', 'connected', 'https://shop.example/orders/7', 'Olga Operator']],
      'my open chats',
    );
    const listed = await call(t.app, s.op.token, 'GET', '/v1/conversations');
    assert.equal(
      listed.body.items.find((c: any) => c.id === chat.id).title,
      'Vera Visitor',
      'named after the visitor',
    );
    await stream.next((f) => f.event === 'support.picked_up');
    const answer = await call(t.app, s.op.token, 'POST', `/v1/conversations/${chat.id}/messages`, {
      text: '<b>On its way</b>',
    });
    const frame = await stream.next((f) => f.event === 'message.created');
    assert.equal(frame.data.message.text, '<b>On its way</b>');
    const v = await visitorCall(token, 'GET', `/v1/widget/chats/${chat.id}`);
    assert.equal(v.body.operator.name, 'Olga Operator');
    assert.equal(v.body.state, 'connected');

    const sent = await visitorCall(token, 'POST', `/v1/widget/chats/${chat.id}/messages`, {
      text: 'thanks',
      client_id: 'c1',
    });
    assert.equal(sent.status, 201);
    const retry = await visitorCall(token, 'POST', `/v1/widget/chats/${chat.id}/messages`, {
      text: 'thanks',
      client_id: 'c1',
    });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.id, sent.body.id);
    const history = await visitorCall(
      token,
      'GET',
      `/v1/widget/chats/${chat.id}/messages?after=${answer.body.id}`,
    );
    assert.deepEqual(
      history.body.items.map((m: any) => [m.text, m.mine, m.sender.name]),
      [['thanks', true, 'Vera Visitor']],
    );
    const all = await visitorCall(token, 'GET', `/v1/widget/chats/${chat.id}/messages`);
    assert.deepEqual(
      all.body.items.map((m: any) => m.text),
      ['thanks', '<b>On its way</b>', 'Where is my order?'],
    );

    const typing = await visitorCall(token, 'POST', `/v1/widget/chats/${chat.id}/typing`, {});
    assert.equal(typing.status, 204);
    await call(t.app, s.op.token, 'POST', `/v1/conversations/${chat.id}/read`, {});
    const read = await visitorCall(token, 'POST', `/v1/widget/chats/${chat.id}/read`, {});
    assert.equal(read.body.operator_read_message_id, sent.body.id);
    assert.equal(read.body.visitor_read_message_id, sent.body.id);

    const panel = await call(t.app, s.op.token, 'GET', `/v1/support/chats/${chat.id}/visitor`);
    assert.equal(panel.status, 200, panel.raw);
    assert.equal(panel.body.visitor.name, 'Vera Visitor');
    assert.equal(panel.body.visitor.email, 'vera@example.com');
    assert.equal(panel.body.page_url, 'https://shop.example/orders/7');
    assert.equal(panel.body.department.name, 'Sales');
    assert.equal(panel.body.widget.name, 'Shop');
    assert.deepEqual(panel.body.previous_chats, []);

    const ended = await visitorCall(token, 'POST', `/v1/widget/chats/${chat.id}/end`, {});
    assert.equal(ended.status, 200);
    assert.equal(ended.body.state, 'ended');
    await stream.next((f) => f.event === 'support.ended');
    await runJobsUntilIdle(t.ctx);
    const mails = await sink.waitFor(1);
    const mail = mails.find((m) => m.to.includes('vera@example.com'));
    assert.ok(mail, 'the transcript reached the SMTP sink');
    assert.match(mail.subject, /Transcript of your chat/);
    assert.match(mail.text, /Vera Visitor: Where is my order\?/);
    assert.match(mail.text, /Olga Operator: <b>On its way<\/b>/);
    assert.match(mail.text, /Vera Visitor: thanks/);
    await stream.close();

    // A second chat: the panel shows the first as a previous chat.
    const second = await visitorCall(token, 'POST', `/v1/widget/chats`, { question: 'one more thing' });
    assert.equal(second.status, 201);
    const panel2 = await call(t.app, s.op.token, 'GET', `/v1/support/chats/${second.body.id}/visitor`);
    assert.deepEqual(
      panel2.body.previous_chats.map((c: any) => c.id),
      [chat.id],
    );
    assert.equal(visitor.id, panel2.body.visitor.id);
  });

  test("a visitor's stream carries only their own chat", async () => {
    const s = await setup();
    await available(s);
    const a = await session(s.widget, { name: 'Anna' });
    const b = await session(s.widget, { name: 'Ben' });
    const chatA = (await visitorCall(a.token, 'POST', '/v1/widget/chats', { question: 'A here' })).body;
    const chatB = (await visitorCall(b.token, 'POST', '/v1/widget/chats', { question: 'B here' })).body;
    const streamB = await connectWidgetStream(b.token);
    await call(t.app, s.op.token, 'POST', `/v1/support/chats/${chatA.id}/pickup`);
    await call(t.app, s.op.token, 'POST', `/v1/conversations/${chatA.id}/messages`, { text: 'secret for A' });
    await visitorCall(a.token, 'POST', `/v1/widget/chats/${chatA.id}/typing`, {});
    await call(t.app, s.op.token, 'POST', `/v1/support/chats/${chatB.id}/pickup`);
    await call(t.app, s.op.token, 'POST', `/v1/conversations/${chatB.id}/messages`, { text: 'for B' });
    await streamB.next((f) => f.event === 'message.created' && f.data.message.text === 'for B');
    assert.deepEqual(
      streamB.seen((f) => f.type === 'event' && f.conversation_id !== chatB.id),
      [],
      "no frame of A's chat reached B",
    );
    assert.doesNotMatch(JSON.stringify(streamB.frames), /secret for A/);
    // A's chat is not B's: every route answers 404.
    for (const [m, u, body] of [
      ['GET', `/v1/widget/chats/${chatA.id}`, undefined],
      ['GET', `/v1/widget/chats/${chatA.id}/messages`, undefined],
      ['POST', `/v1/widget/chats/${chatA.id}/messages`, { text: 'x' }],
      ['POST', `/v1/widget/chats/${chatA.id}/typing`, {}],
      ['POST', `/v1/widget/chats/${chatA.id}/read`, {}],
      ['POST', `/v1/widget/chats/${chatA.id}/end`, {}],
    ] as const) {
      const res = await visitorCall(b.token, m, u, body);
      assert.equal(res.status, 404, `${m} ${u}`);
      assert.equal(res.body.error.code, 'conversation_not_found');
    }
    assert.equal((await visitorCall(a.token, 'GET', `/v1/widget/chats/${chatA.id}`)).body.state, 'connected');
    await streamB.close();
  });

  test('reconnecting with since catches up what was missed', async () => {
    const s = await setup();
    await available(s);
    const v = await session(s.widget);
    const chat = (await visitorCall(v.token, 'POST', '/v1/widget/chats', { question: 'hi' })).body;
    await call(t.app, s.op.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    const first = await connectWidgetStream(v.token);
    const ready = await first.next((f) => f.type === 'ready');
    await first.close();
    await call(t.app, s.op.token, 'POST', `/v1/conversations/${chat.id}/messages`, {
      text: 'while you were away',
    });
    const second = await connectWidgetStream(v.token, ready.seq);
    const missed = await second.next((f) => f.event === 'message.created');
    assert.equal(missed.data.message.text, 'while you were away');
    await second.next((f) => f.type === 'ready');
    await second.close();
  });

  test('the visitor credential is refused everywhere else, and others are refused here', async () => {
    const s = await setup();
    await available(s);
    const v = await session(s.widget);
    for (const [m, u] of [
      ['GET', '/v1/me'],
      ['GET', '/v1/conversations'],
      ['GET', '/v1/support/queue'],
      ['POST', '/v1/support/chats'],
      ['GET', '/v1/actors'],
      ['GET', '/v1/widgets'],
      ['GET', '/v1/canned-responses'],
    ] as const) {
      const res = await call(
        t.app,
        v.token,
        m,
        u,
        m === 'POST' ? { department_id: s.dept.id, question: 'q' } : undefined,
      );
      assert.equal(res.status, 401, `${m} ${u}`);
      assert.equal(res.body.error.code, 'invalid_token');
    }
    await assert.rejects(connectStream(base, { token: v.token, via: 'protocol' }), /401/);
    const staff = await visitorCall(s.o.owner.token, 'GET', '/v1/widget/me');
    assert.equal(staff.status, 401);
    assert.equal(staff.body.error.code, 'invalid_visitor_token');
    const none = await visitorCall(null, 'GET', '/v1/widget/me');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'missing_token');
    const bogus = await visitorCall('pv_bogus', 'GET', '/v1/widget/me');
    assert.equal(bogus.status, 401);
    // A deleted widget ends its visitors' credentials.
    await call(t.app, s.o.owner.token, 'DELETE', `/v1/widgets/${s.widget.id}`);
    assert.equal((await visitorCall(v.token, 'GET', '/v1/widget/me')).status, 401);
  });

  test('rate limits: per client address, sessions per address', async () => {
    const s = await setup();
    const key = s.widget.public_key;
    const from = { 'x-ip': '192.0.2.9' };
    for (let i = 0; i < 10; i++) await session(s.widget, {}, from);
    const eleventh = await visitorCall(null, 'POST', '/v1/widget/sessions', { key }, from);
    assert.equal(eleventh.status, 429);
    assert.equal(eleventh.body.error.code, 'rate_limited');
    assert.ok(Number(eleventh.headers['retry-after']) >= 1);
    const other = await visitorCall(null, 'POST', '/v1/widget/sessions', { key }, { 'x-ip': '192.0.2.10' });
    assert.equal(other.status, 201, 'another address is not limited');
    let limited = 0;
    for (let i = 0; i < 125; i++) {
      const res = await visitorCall(null, 'GET', `/v1/widget/config?key=${key}`, undefined, {
        'x-ip': '192.0.2.11',
      });
      if (res.status === 429) limited++;
    }
    assert.ok(limited >= 5, `requests past 120 a minute are refused (${limited})`);
  });

  test('bad visitor inputs are clear 4xx and change nothing', async () => {
    const s = await setup({ name: 'required', email: 'required', question: 'required' });
    await available(s);
    const v = await session(s.widget);
    const cases: [unknown, string, string][] = [
      [{ question: 'q', email: 'v@example.com' }, 'body.name', 'prechat_field_required'],
      [{ question: 'q', name: 'V' }, 'body.email', 'prechat_field_required'],
      [{ name: 'V', email: 'v@example.com' }, 'body.question', 'prechat_field_required'],
      [{ name: 'V', email: 'not-an-email', question: 'q' }, 'body.email', 'invalid_request'],
      [
        { name: 'V', email: 'v@example.com', question: 'q', department_id: '12345' },
        'body.department_id',
        'invalid_department',
      ],
      [
        { name: 'V', email: 'v@example.com', question: 'q', page_url: 'javascript:alert(1)' },
        'body.page_url',
        'invalid_request',
      ],
      [{ name: 'V', email: 'v@example.com', question: '' }, 'body.question', 'invalid_request'],
      [{ name: 'V', email: 'v@example.com', question: 'q', extra: 1 }, 'body.extra', 'invalid_request'],
    ];
    for (const [body, path, code] of cases) {
      const res = await visitorCall(v.token, 'POST', '/v1/widget/chats', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw}`);
      assert.equal(res.body.error.code, code, res.raw);
      assert.ok(
        res.body.error.details.some((d: any) => d.path === path),
        res.raw,
      );
    }
    const json = await visitorCall(v.token, 'POST', '/v1/widget/chats', undefined, {
      'content-type': 'application/json',
    });
    assert.equal(json.status, 400);
    const me = await visitorCall(v.token, 'GET', '/v1/widget/me');
    assert.equal(me.body.chat, null, 'no chat was started');
    const badSession = await visitorCall(null, 'POST', '/v1/widget/sessions', {
      key: s.widget.public_key,
      email: 'x',
    });
    assert.equal(badSession.status, 400);
    const noKey = await visitorCall(null, 'POST', '/v1/widget/sessions', {});
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.error.details[0].path, 'body.key');
    const wrongKey = await visitorCall(null, 'POST', '/v1/widget/sessions', { key: 'wk_missing' });
    assert.equal(wrongKey.status, 404);
  });

  test('signed identity: the same customer on every device; a bad signature is refused', async () => {
    const s = await setup();
    await available(s);
    const sign = (id: string, secret = s.widget.secret) =>
      createHmac('sha256', secret).update(id).digest('hex');
    const phone = await session(s.widget, {
      identity: { user_id: 'cust-42', signature: sign('cust-42') },
      name: 'Carla',
    });
    const laptop = await session(s.widget, { identity: { user_id: 'cust-42', signature: sign('cust-42') } });
    assert.equal(phone.visitor.id, laptop.visitor.id);
    assert.equal((phone.visitor as any).external_id, 'cust-42');
    const chat = (await visitorCall(phone.token, 'POST', '/v1/widget/chats', { question: 'from my phone' }))
      .body;
    const other = await visitorCall(laptop.token, 'GET', '/v1/widget/me');
    assert.equal(other.body.chat.id, chat.id, 'the laptop continues the chat');
    assert.equal(other.body.visitor.name, 'Carla');
    for (const signature of [sign('cust-43'), sign('cust-42', 'wrong secret'), 'a'.repeat(64)]) {
      const res = await visitorCall(null, 'POST', '/v1/widget/sessions', {
        key: s.widget.public_key,
        identity: { user_id: 'cust-42', signature },
      });
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'invalid_identity');
    }
    const malformed = await visitorCall(null, 'POST', '/v1/widget/sessions', {
      key: s.widget.public_key,
      identity: { user_id: 'cust-42', signature: 'zz' },
    });
    assert.equal(malformed.status, 400);
    // A staff member's external id cannot be taken over by signing it.
    await call(t.app, s.o.owner.token, 'PATCH', `/v1/actors/${s.op.actor.id}`, { external_id: 'staff-1' });
    const takeover = await visitorCall(null, 'POST', '/v1/widget/sessions', {
      key: s.widget.public_key,
      identity: { user_id: 'staff-1', signature: sign('staff-1') },
    });
    assert.equal(takeover.status, 409);
  });

  test('leave a message: a missed chat for operators and a mail to the visitor', async () => {
    const s = await setup();
    const v = await session(s.widget);
    const before = sink.mails.length;
    const left = await visitorCall(v.token, 'POST', '/v1/widget/offline-messages', {
      name: 'Olive',
      email: 'olive@example.com',
      message: 'Call me back please',
      department_id: s.dept2.id,
    });
    assert.equal(left.status, 201, left.raw);
    assert.equal(left.body.state, 'missed');
    assert.equal(left.body.offline, true);
    const panel = await call(t.app, s.o.owner.token, 'GET', `/v1/support/chats/${left.body.id}/visitor`);
    assert.equal(panel.body.offline, true);
    assert.equal(panel.body.contact_email, 'olive@example.com');
    const missed = await call(t.app, s.o.owner.token, 'GET', '/v1/support/chats?state=missed');
    assert.deepEqual(
      missed.body.items.map((c: any) => [c.id, c.offline, c.visitor.email, c.title]),
      [[left.body.id, true, 'olive@example.com', 'Olive']],
    );
    // Olga serves Sales only: the Billing message is not hers to see.
    const forOlga = await call(t.app, s.op.token, 'GET', '/v1/support/chats?state=missed');
    assert.deepEqual(forOlga.body.items, []);
    const badState = await call(t.app, s.op.token, 'GET', '/v1/support/chats?state=lost');
    assert.equal(badState.status, 400);
    const chat = await call(t.app, s.o.owner.token, 'GET', `/v1/support/chats/${left.body.id}`);
    assert.equal(chat.body.state, 'missed');
    assert.equal(chat.body.question, 'Call me back please');
    assert.equal(chat.body.department.name, 'Billing');
    await runJobsUntilIdle(t.ctx);
    const mails = await sink.waitFor(before + 1);
    const mail = mails.find((m) => m.to.includes('olive@example.com'));
    assert.ok(mail);
    assert.match(mail.subject, /We got your message/);
    assert.match(mail.text, /Call me back please/);
    const bad = await visitorCall(v.token, 'POST', '/v1/widget/offline-messages', { message: 'no email' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].path, 'body.email');
  });
});

describe('availability and canned responses', () => {
  test('availability: staff set their own, admins anyone; routing follows it', async () => {
    const s = await setup();
    const member = await s.o.user('member');
    const list = await call(t.app, s.op.token, 'GET', '/v1/support/availability');
    assert.deepEqual(list.body.items.map((a: any) => [a.name, a.status]).sort(), [
      ['Olga Operator', 'away'],
      ['Owner', 'away'],
    ]);
    const mine = await available(s);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.status, 'available');
    const refused = await call(t.app, member.token, 'PUT', '/v1/support/availability', {
      status: 'available',
    });
    assert.equal(refused.status, 403);
    const bad = await call(t.app, s.op.token, 'PUT', '/v1/support/availability', { status: 'busy' });
    assert.equal(bad.status, 400);
    const byOp = await call(t.app, s.op.token, 'PUT', `/v1/support/availability/${s.o.owner.actor.id}`, {
      status: 'available',
    });
    assert.equal(byOp.status, 403);
    const byAdmin = await call(t.app, s.o.owner.token, 'PUT', `/v1/support/availability/${s.op.actor.id}`, {
      status: 'away',
    });
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.status, 'away');
    const notStaff = await call(
      t.app,
      s.o.owner.token,
      'PUT',
      `/v1/support/availability/${member.actor.id}`,
      { status: 'away' },
    );
    assert.equal(notStaff.status, 404);
    const v = await session(s.widget);
    const res = await visitorCall(v.token, 'POST', '/v1/widget/chats', { question: 'anyone?' });
    assert.equal(res.body.error.code, 'no_operator_available');
    // The owner serves every department: Billing (no operators of its own) goes online with them.
    await available(s, s.o.owner);
    const cfg = await visitorCall(null, 'GET', `/v1/widget/config?key=${s.widget.public_key}`);
    assert.deepEqual(
      cfg.body.departments.map((d: any) => d.online),
      [true, true],
    );
    const ok = await visitorCall(v.token, 'POST', '/v1/widget/chats', {
      question: 'anyone?',
      department_id: s.dept2.id,
    });
    assert.equal(ok.status, 201);
  });

  test('canned responses: CRUD, prefix, duplicates and bad input refused', async () => {
    const s = await setup();
    const created = await call(t.app, s.o.owner.token, 'POST', '/v1/canned-responses', {
      shortcut: '/hello',
      title: 'Greeting',
      text: 'Hello! How can I help?',
    });
    assert.equal(created.status, 201, created.raw);
    assert.equal(created.body.shortcut, 'hello');
    await call(t.app, s.o.owner.token, 'POST', '/v1/canned-responses', {
      shortcut: 'refund',
      text: 'Refunds take 5 days.',
    });
    const dup = await call(t.app, s.o.owner.token, 'POST', '/v1/canned-responses', {
      shortcut: 'hello',
      text: 'x',
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'shortcut_taken');
    const bad = await call(t.app, s.o.owner.token, 'POST', '/v1/canned-responses', {
      shortcut: 'Hi There',
      text: 'x',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_shortcut');
    const empty = await call(t.app, s.o.owner.token, 'POST', '/v1/canned-responses', {
      shortcut: 'x',
      text: '',
    });
    assert.equal(empty.status, 400);
    const byOp = await call(t.app, s.op.token, 'POST', '/v1/canned-responses', { shortcut: 'op', text: 'x' });
    assert.equal(byOp.status, 403);
    const list = await call(t.app, s.op.token, 'GET', '/v1/canned-responses');
    assert.deepEqual(
      list.body.items.map((c: any) => c.shortcut),
      ['hello', 'refund'],
    );
    const prefixed = await call(t.app, s.op.token, 'GET', '/v1/canned-responses?prefix=/ref');
    assert.deepEqual(
      prefixed.body.items.map((c: any) => c.shortcut),
      ['refund'],
    );
    const patched = await call(t.app, s.o.owner.token, 'PATCH', `/v1/canned-responses/${created.body.id}`, {
      text: 'Hi!',
    });
    assert.equal(patched.body.text, 'Hi!');
    const clash = await call(t.app, s.o.owner.token, 'PATCH', `/v1/canned-responses/${created.body.id}`, {
      shortcut: 'refund',
    });
    assert.equal(clash.status, 409);
    assert.equal(
      (await call(t.app, s.op.token, 'GET', `/v1/canned-responses/${created.body.id}`)).body.shortcut,
      'hello',
    );
    const other = await makeOrg(t.ctx);
    assert.equal(
      (await call(t.app, other.owner.token, 'GET', `/v1/canned-responses/${created.body.id}`)).status,
      404,
    );
    assert.equal(
      (await call(t.app, s.o.owner.token, 'DELETE', `/v1/canned-responses/${created.body.id}`)).status,
      204,
    );
    assert.equal(
      (await call(t.app, s.op.token, 'GET', `/v1/canned-responses/${created.body.id}`)).status,
      404,
    );
  });
});

function connectWidgetStream(token: string, since?: number) {
  return connectStream(base, {
    token,
    via: 'protocol',
    path: '/v1/widget/stream',
    ...(since === undefined ? {} : { since }),
  });
}
