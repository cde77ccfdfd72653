import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope } from '../../../src/domain/scopes.ts';
import { call } from '../../support/app.ts';
import { makeOrg } from '../../support/factories.ts';
import { deadTokens, useTestApp } from '../../support/fixtures.ts';

/**
 * The authorization matrix, generated from the route table: every /v1 route is called by
 * each kind of unwelcome principal. A new route is in the matrix automatically; it only
 * needs a sample body below (the test fails for a route without one).
 */
const t = useTestApp();

const SAMPLE_BODIES: Record<string, (ids: Record<string, string>) => unknown> = {
  'POST /v1/conversations': (ids) => ({ kind: 'group', title: 'm', member_ids: [ids.member] }),
  'PATCH /v1/conversations/:id': () => ({ title: 'renamed' }),
  'POST /v1/conversations/:id/members': (ids) => ({ actor_ids: [ids.member] }),
  'POST /v1/conversations/:id/leave': () => undefined,
  'POST /v1/conversations/:id/messages': () => ({ text: 'hi' }),
  'PATCH /v1/conversations/:id/messages/:messageId': () => ({ text: 'edit' }),
  'POST /v1/conversations/:id/mute': () => ({}),
  'POST /v1/conversations/:id/unmute': () => ({}),
  'POST /v1/conversations/:id/read': () => ({}),
  'PUT /v1/conversations/:id/draft': () => ({ text: 'd' }),
  'POST /v1/conversations/:id/hide': () => ({}),
  'POST /v1/conversations/:id/unhide': () => ({}),
  'PUT /v1/conversations/:id/pin-in-list': () => undefined,
  'PUT /v1/conversations/:id/pin': (ids) => ({ message_id: ids.messageId }),
  'POST /v1/actors': () => ({ kind: 'bot', name: 'b' }),
  'PATCH /v1/actors/:id': () => ({ name: 'n' }),
  'POST /v1/actors/:id/deactivate': () => undefined,
  'POST /v1/tokens': () => ({ name: 'n', scopes: ['people:read'] }),
  'POST /v1/apps': () => ({ name: 'app' }),
  'PUT /v1/rate-limits/:group': () => ({ points: 5, duration_s: 60, block_s: 0 }),
  'POST /v1/departments': () => ({ name: 'Sales' }),
  'PUT /v1/departments/:id/operators': (ids) => ({ operator_ids: [ids.member] }),
  'PUT /v1/departments/:id/hours': () => ({
    hours: { time_zone: 'Europe/Berlin', weekly: { mon: [{ start: '09:00', end: '17:00' }] } },
  }),
  'POST /v1/support/chats': () => ({ department_id: '1', question: 'q' }),
  'POST /v1/support/chats/:id/pickup': () => undefined,
  'POST /v1/support/chats/:id/transfer': (ids) => ({ operator_id: ids.member }),
  'POST /v1/support/chats/:id/end': () => undefined,
  'PATCH /v1/support/settings': () => ({ recycle_bin_days: 30 }),
  'POST /v1/conversations/delete': () => ({ ids: ['1'] }),
  'POST /v1/recycle-bin/restore': () => ({ ids: ['1'] }),
  'POST /v1/recycle-bin/purge': () => ({ ids: ['1'] }),
  'POST /v1/deletion-jobs': () => ({ conversation_ids: ['1'] }),
  'PUT /v1/deletion-jobs/window': () => ({ any_time: true }),
  'POST /v1/deletion-jobs/:id/cancel': () => ({}),
  'POST /v1/webhooks': () => ({ url: 'https://example.com/hook', events: ['message.created'] }),
  'PATCH /v1/webhooks/:id': () => ({ active: false }),
  'POST /v1/webhooks/:id/events': () => ({ events: ['message.created'] }),
  'POST /v1/webhooks/:id/deliveries/:deliveryId/retry': () => ({}),
  'PUT /v1/oidc': () => ({ issuer: 'https://idp.example.com', client_id: 'c', client_secret: 's' }),
  'POST /v1/widgets': (ids) => ({ allowed_origins: [], department_ids: [ids.member] }),
  'PATCH /v1/widgets/:id': () => ({ greeting: 'hi' }),
  'PUT /v1/support/availability': () => ({ status: 'available' }),
  'PUT /v1/support/availability/:id': () => ({ status: 'away' }),
  'POST /v1/canned-responses': () => ({ shortcut: 'hi', text: 'Hello' }),
  'PATCH /v1/canned-responses/:id': () => ({ text: 'Hello' }),
  // Team chat (routes/team-chat.ts).
  'PUT /v1/conversations/:id/messages/:messageId/reactions/:emoji': () => undefined,
  'POST /v1/conversations/:id/messages/:messageId/thread/read': () => undefined,
  'PUT /v1/conversations/:id/messages/:messageId/thread/follow': () => ({ following: true }),
  'PUT /v1/presence/me': () => ({ status: 'away' }),
  'PATCH /v1/team-chat/settings': () => ({ read_receipts: false }),
  'PATCH /v1/me/notifications': () => ({ digest_minutes: 5 }),
  'POST /v1/conversations/:id/attachments': () => 'file bytes',
};

/** The widget's visitor routes (/v1/widget/...) take a visitor credential instead (the last test). */
const isWidgetVisitorRoute = (url: string) => url.startsWith('/v1/widget/');

/**
 * /v1 routes whose credential is not a token: the digest mail's unsubscribe link carries a
 * signed token of its own (test/api/native/team-chat.test.ts checks it is required).
 */
const TOKENLESS = new Set(['GET /v1/notifications/unsubscribe', 'POST /v1/notifications/unsubscribe']);

test('every /v1 route refuses the unwelcome and reveals nothing', async () => {
  const o = await makeOrg(t.ctx);
  const member = await o.user();
  const nonMember = await o.user();
  const visitor = await o.visitor();
  const other = await makeOrg(t.ctx);
  const conv = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'x',
    member_ids: [member.actor.id],
  });
  const msg = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${conv.body.id}/messages`, {
    text: 'm',
  });
  const ids: Record<string, string> = { member: member.actor.id, messageId: msg.body.id };

  const { revoked, expired } = await deadTokens(t, o);

  // Instance routes take no org token at all: test/security/authz-matrix.test.ts has their rows.
  const routes = t.routes.filter(
    (r) =>
      r.url.startsWith('/v1/') &&
      !r.instance &&
      !isWidgetVisitorRoute(r.url) &&
      !TOKENLESS.has(`${r.method} ${r.url}`),
  );
  assert.ok(routes.length >= 30, `found ${routes.length} routes`);
  let checks = 0;
  for (const route of routes) {
    const key = `${route.method} ${route.url}`;
    assert.ok(route.scope || route.anyScope, `${key} declares a scope`);
    const needsBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
    assert.ok(!needsBody || key in SAMPLE_BODIES, `${key} needs a sample body in the matrix`);
    const body = SAMPLE_BODIES[key]?.(ids);
    const url = (actorParam: string, tokenId = revoked.id) =>
      route.url
        .replace(':messageId', msg.body.id)
        .replace(':deliveryId', msg.body.id)
        .replace(':actorId', actorParam)
        .replace(/^\/v1\/tokens\/:id$/, `/v1/tokens/${tokenId}`)
        .replace(/^\/v1\/actors\/:id/, `/v1/actors/${member.actor.id}`)
        .replace(':group', 'cliq')
        .replace(':emoji', '%F0%9F%91%8D')
        .replace(':id', conv.body.id);
    const target = url(member.actor.id);

    for (const [who, token] of [
      ['no credentials', null],
      ['revoked token', revoked.token],
      ['expired token', expired.token],
    ] as const) {
      const res = await call(t.app, token, route.method as 'GET', target, body);
      assert.equal(res.status, 401, `${key} with ${who}`);
      checks++;
    }

    if (route.scope) {
      const lacking = await o.token(
        o.owner.actor,
        Scope.filter((s) => s !== route.scope),
      );
      const noScope = await call(t.app, lacking, route.method as 'GET', target, body);
      assert.equal(noScope.status, 403, `${key} without ${route.scope}`);
      assert.equal(noScope.body.error.code, 'insufficient_scope');
      checks++;
    }

    if (route.url.includes(':')) {
      // Another org's token, a non-member of the org and a visitor: the object does not exist for them.
      for (const [who, person] of [
        ['another org', other.owner],
        ['a non-member', nonMember],
        ['a visitor', visitor],
      ] as const) {
        const res = await call(t.app, person.token, route.method as 'GET', target, body);
        // Org-level resources: visible org-wide, managed by admins (403 for others).
        const isPeople =
          /^\/v1\/(actors|tokens|apps|rate-limits|departments|deletion-jobs|webhooks|widgets|canned-responses|support\/availability)/.test(
            route.url,
          );
        if (route.url.endsWith('/:group')) {
          // The group is a name, not an object: each caller acts on its own org, or is refused.
          assert.ok([200, 403].includes(res.status), `${key} as ${who}: ${res.status}`);
        } else if (isPeople && who !== 'another org') {
          // people of the same org are visible to everyone; managing them needs an admin (403)
          assert.ok([200, 403, 404].includes(res.status), `${key} as ${who}: ${res.status}`);
          if (route.method !== 'GET')
            assert.ok(res.status === 403 || res.status === 404, `${key} as ${who}: ${res.status}`);
        } else {
          assert.ok(
            res.status === 404 || (isPeople && res.status === 403),
            `${key} as ${who}: ${res.status} ${res.raw.slice(0, 120)}`,
          );
          if (res.status === 404) assert.doesNotMatch(res.raw, /secret|"x"|"m"/);
        }
        checks++;
      }
    }
  }
  // Nothing any of them did changed the conversation.
  const after = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${conv.body.id}`);
  assert.equal(after.body.title, 'x');
  assert.equal(after.body.participant_count, 2);
  assert.equal(after.body.last_message.id, msg.body.id);
  const limits = await call(t.app, o.owner.token, 'GET', '/v1/rate-limits');
  const cliq = limits.body.items.find((l: { group: string }) => l.group === 'cliq');
  assert.deepEqual(
    cliq.policy,
    { points: 20, duration_s: 60, block_s: 600 },
    "another org's admin changed only its own policy",
  );
  const history = await call(t.app, o.owner.token, 'GET', `/v1/conversations/${conv.body.id}/messages`);
  assert.equal(history.body.items.length, 1);
  process.stdout.write(`# authorization matrix: ${routes.length} routes, ${checks} checks\n`);
});

/** Widget routes that need no credential (the widget's key instead); tested in widget.test.ts. */
const PUBLIC_WIDGET_ROUTES = new Set(['GET /v1/widget/config', 'POST /v1/widget/sessions']);

const WIDGET_SAMPLE_BODIES: Record<string, unknown> = {
  'POST /v1/widget/chats': { question: 'q' },
  'POST /v1/widget/chats/:id/messages': { text: 'hi' },
  'POST /v1/widget/chats/:id/typing': {},
  'POST /v1/widget/chats/:id/read': {},
  'POST /v1/widget/chats/:id/end': {},
  'POST /v1/widget/offline-messages': { email: 'v@example.com', message: 'm' },
};

test("every /v1/widget route refuses every credential but a visitor's, and a visitor sees only their own chat", async () => {
  const o = await makeOrg(t.ctx);
  const op = await o.user('operator');
  const visitorActor = await o.visitor();
  const dept = await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: 'D' });
  const widget = await call(t.app, o.owner.token, 'POST', '/v1/widgets', {
    allowed_origins: [],
    department_ids: [dept.body.id],
  });
  await call(t.app, op.token, 'PUT', '/v1/support/availability', { status: 'available' });
  const session = async (org: string) => {
    const res = await call(t.app, null, 'POST', '/v1/widget/sessions', { key: org });
    assert.equal(res.status, 201, res.raw);
    return res.body.token as string;
  };
  const owner = await session(widget.body.public_key);
  const mine = await call(t.app, owner, 'POST', '/v1/widget/chats', { question: 'secret question' });
  assert.equal(mine.status, 201, mine.raw);
  const stranger = await session(widget.body.public_key);
  const other = await makeOrg(t.ctx);
  const otherDept = await call(t.app, other.owner.token, 'POST', '/v1/departments', { name: 'D' });
  const otherWidget = await call(t.app, other.owner.token, 'POST', '/v1/widgets', {
    allowed_origins: [],
    department_ids: [otherDept.body.id],
  });
  const foreign = await session(otherWidget.body.public_key);

  const routes = t.routes.filter((r) => isWidgetVisitorRoute(r.url));
  assert.ok(routes.length >= 10, `found ${routes.length} widget routes`);
  let checks = 0;
  for (const route of routes) {
    const key = `${route.method} ${route.url}`;
    if (PUBLIC_WIDGET_ROUTES.has(key)) continue;
    assert.ok(
      !['POST', 'PUT', 'PATCH'].includes(route.method) || key in WIDGET_SAMPLE_BODIES,
      `${key} needs a sample body`,
    );
    const body = WIDGET_SAMPLE_BODIES[key];
    const target = route.url.replace(':id', mine.body.id);
    for (const [who, token] of [
      ['no credentials', null],
      ["the org owner's token", o.owner.token],
      ["an operator's token", op.token],
      ["a visitor actor's API token", visitorActor.token],
      ['a made-up visitor credential', 'pv_made-up'],
    ] as const) {
      const res = await call(t.app, token, route.method as 'GET', target, body);
      assert.equal(res.status, 401, `${key} with ${who}: ${res.raw}`);
      checks++;
    }
    if (route.url.includes(':id')) {
      for (const [who, token] of [
        ['another visitor of the widget', stranger],
        ["another org's visitor", foreign],
      ] as const) {
        const res = await call(t.app, token, route.method as 'GET', target, body);
        assert.equal(res.status, 404, `${key} as ${who}: ${res.raw}`);
        assert.doesNotMatch(res.raw, /secret/);
        checks++;
      }
    }
  }
  const after = await call(t.app, owner, 'GET', `/v1/widget/chats/${mine.body.id}/messages`);
  assert.deepEqual(
    after.body.items.map((m: { text: string }) => m.text),
    ['secret question'],
    'nothing any of them did changed the chat',
  );
  assert.equal((await call(t.app, owner, 'GET', `/v1/widget/chats/${mine.body.id}`)).body.state, 'waiting');
  process.stdout.write(`# widget authorization matrix: ${routes.length} routes, ${checks} checks\n`);
});
