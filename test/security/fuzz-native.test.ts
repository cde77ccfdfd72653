import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { RateGroup } from '../../src/domain/rate-limits.ts';
import { issueInstanceToken } from '../../src/services/instance-admin.ts';
import { setRatePolicy } from '../../src/services/rate-limits.ts';
import { issueToken, revokeAccessToken } from '../../src/services/tokens.ts';
import { buildTestApp, call, type TestApp } from '../support/app.ts';
import {
  makeDepartment,
  makeOrg,
  principalFor,
  startWaitingChat,
  type TestOrg,
} from '../support/factories.ts';
import {
  assertEveryRouteDocumented,
  Fuzzer,
  loadOperations,
  nativeShape,
  type Operation,
  out,
  type Pools,
  requestsFor,
  scale,
  strayRequests,
} from '../support/fuzz.ts';

/**
 * Fuzz of the native API: every operation of /openapi.json under /v1, with real ids and tokens
 * for part of the runs (so the fuzz reaches validation and the services), hostile ones for the
 * rest. Invariants: no 5xx, every 4xx is `{"error": {"code", "message", "details"}}`, and a
 * refused request changes no row of any table.
 */

const BODY_LIMIT = 65536;
let t: TestApp;
let o: TestOrg;
let other: TestOrg;
let ops: Operation[];
let pools: Pools;
let auth: fc.Arbitrary<{ headers: Record<string, string>; note: string }>;

/** Policies high enough that the fuzz is not stopped by the rate limiter (it is fuzzed too). */
async function liftRateLimits(org: TestOrg) {
  for (const group of RateGroup)
    await setRatePolicy(t.ctx, t.ctx.rateLimits, principalFor(org, org.owner.actor), group, {
      points: 1_000_000,
      durationSec: 60,
      blockSec: 0,
    });
}

before(async () => {
  t = await buildTestApp({ BODY_LIMIT: String(BODY_LIMIT) });
  ops = (await loadOperations(t.app)).filter((op) => op.path.startsWith('/v1/'));
  o = await makeOrg(t.ctx);
  other = await makeOrg(t.ctx);
  // The fuzz calls as Ada (an admin): her actor and token are kept out of the id pools so a
  // lucky request cannot deactivate or revoke the fuzzer itself.
  const ada = await o.user('admin', 'Ada');
  const bob = await o.user('member', 'Bob');
  const carol = await o.user('member', 'Carol');
  const op = await o.user('operator', 'Oscar');
  const vera = await o.visitor('Vera');
  const group = await call(t.app, ada.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'fuzz group',
    member_ids: [bob.actor.id, carol.actor.id],
  });
  assert.equal(group.status, 201, group.raw);
  const direct = await call(t.app, ada.token, 'POST', '/v1/conversations', {
    kind: 'direct',
    member_ids: [bob.actor.id],
  });
  assert.ok(direct.status < 300, direct.raw);
  const messages: string[] = [];
  for (const text of ['one', 'two', 'three']) {
    const m = await call(t.app, ada.token, 'POST', `/v1/conversations/${group.body.id}/messages`, { text });
    assert.equal(m.status, 201, m.raw);
    messages.push(m.body.id);
  }
  const dept = await makeDepartment(t.ctx, o, 'Billing', [op.actor]);
  const chat = await startWaitingChat(t.ctx, o, vera.actor, dept);
  const app = await call(t.app, ada.token, 'POST', '/v1/apps', { name: 'fuzz app' });
  assert.equal(app.status, 201, app.raw);
  const hook = await call(t.app, ada.token, 'POST', '/v1/webhooks', {
    url: 'http://127.0.0.1:9/hook',
    events: ['message.created'],
  });
  // The website chat widget: a widget, a canned response, a visitor with a chat of their own.
  await call(t.app, op.token, 'PUT', '/v1/support/availability', { status: 'available' });
  const widget = await call(t.app, ada.token, 'POST', '/v1/widgets', {
    allowed_origins: ['https://shop.example'],
    department_ids: [dept.id],
  });
  assert.equal(widget.status, 201, widget.raw);
  const canned = await call(t.app, ada.token, 'POST', '/v1/canned-responses', {
    shortcut: 'hi',
    text: 'Hello',
  });
  const visitorSession = await call(t.app, null, 'POST', '/v1/widget/sessions', {
    key: widget.body.public_key,
  });
  assert.equal(visitorSession.status, 201, visitorSession.raw);
  const visitorToken = visitorSession.body.token as string;
  const widgetChat = await call(t.app, visitorToken, 'POST', '/v1/widget/chats', { question: 'fuzz me' });
  assert.equal(widgetChat.status, 201, widgetChat.raw);
  const otherGroup = await call(t.app, other.owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'elsewhere',
  });
  await liftRateLimits(o);
  await liftRateLimits(other);

  const bobToken = (await call(t.app, bob.token, 'GET', '/v1/tokens')).body.items?.[0]?.id as
    | string
    | undefined;
  const readOnly = await o.token(ada.actor, ['conversations:read']);
  const { token: revoked, record } = await issueToken(t.ctx, {
    orgId: o.org.id,
    actorId: bob.actor.id,
    name: 'revoked',
    scopes: ['conversations:read'],
  });
  await revokeAccessToken(t.ctx, principalFor(o, bob.actor), record.id);

  const conversations = [
    group.body.id,
    direct.body.id,
    chat.id,
    widgetChat.body.id,
    otherGroup.body.id,
  ].filter((x): x is string => typeof x === 'string');
  const actors = [bob.actor.id, carol.actor.id, op.actor.id, vera.actor.id, other.owner.actor.id];
  const others = [dept.id, app.body.id, hook.body?.id, bobToken, widget.body.id, canned.body.id].filter(
    (x): x is string => typeof x === 'string',
  );
  pools = {
    params: {
      id: [...conversations, ...actors, ...others],
      messageId: messages,
      actorId: actors,
      deliveryId: messages,
    },
    ids: [...conversations, ...actors, ...messages, ...others],
    // GET /v1/search/messages: real words and the syntax of FTS5 and to_tsquery, which must
    // never reach either parser (results or a 400, never a 500).
    fields: {
      q: ['one', 'tw', '"one', 'one OR two', 'NEAR(one two)', 'one:*', "o'ne & !two", '(((', '*', 'a\u0000b'],
      conversation_id: conversations,
      sender_id: actors,
      key: [widget.body.public_key, 'wk_unknown'],
      shortcut: ['hi', '/hi', 'Bad Shortcut'],
      department_id: [dept.id],
      // POST /v1/conversations/{id}/attachments: file names with paths, NUL and control characters.
      name: ['a.txt', 'photo.png', '../etc/passwd', 'a\\b', 'a\u0000b', '..', 'x'.repeat(300), '\u0007'],
    },
  };
  const instanceAdmin = (await issueInstanceToken(t.ctx, { name: 'fuzz' })).token;
  const bearer = (token: string, note: string) => ({ headers: { authorization: `Bearer ${token}` }, note });
  auth = fc.oneof(
    { weight: 8, arbitrary: fc.constant(bearer(ada.token, 'admin token')) },
    { weight: 2, arbitrary: fc.constant(bearer(bob.token, 'member token')) },
    { weight: 1, arbitrary: fc.constant(bearer(readOnly, 'read-only token')) },
    { weight: 1, arbitrary: fc.constant(bearer(other.owner.token, "another org's owner")) },
    // The instance administrator: reaches /v1/instance's validation (the pools hold no org id,
    // so no fuzzed request can suspend or delete the orgs the fuzz calls as).
    { weight: 1, arbitrary: fc.constant(bearer(instanceAdmin, 'instance-admin token')) },
    { weight: 2, arbitrary: fc.constant(bearer(visitorToken, 'widget visitor credential')) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constant({ headers: {}, note: 'no credentials' }),
        fc.constant(bearer(revoked, 'revoked token')),
        fc.constant({ headers: { authorization: `bearer ${ada.token}` }, note: 'lowercase scheme' }),
        fc.constant({ headers: { authorization: `Zoho-oauthtoken ${ada.token}` }, note: 'vendor scheme' }),
        fc.constant({ headers: { authorization: `Bearer ${ada.token} extra` }, note: 'token and more' }),
        fc.constant({
          headers: { authorization: `Bearer ${ada.token.slice(0, -1)}` },
          note: 'truncated token',
        }),
        fc.constant({ headers: { authorization: 'Bearer' }, note: 'scheme only' }),
        fc.constant({ headers: { authorization: 'Basic dXNlcjpwYXNz' }, note: 'basic auth' }),
        fc.constant({ headers: { authorization: `Bearer ${'p'.repeat(10_000)}` }, note: 'huge token' }),
        fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 }).map((s) => ({
          headers: { authorization: `Bearer ${s.replace(/[^\x20-\x7e]/g, '')}` },
          note: 'random token',
        })),
        fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => ({
          headers: { authorization: s.replace(/[^\x20-\x7e]/g, '') },
          note: 'random header',
        })),
      ),
    },
  );
});
after(async () => t.close());

describe('fuzz: native /v1', () => {
  test('every route the app serves is in /openapi.json, so the fuzz covers it', () => {
    assertEveryRouteDocumented(
      t.routes.filter((r) => r.url.startsWith('/v1/')),
      ops,
    );
    assert.ok(ops.length > 50, `${ops.length} operations`);
  });

  test('generated and mutated requests: no 5xx, the native error shape, no change from refused requests', async () => {
    const fuzzer = new Fuzzer({
      app: t.app,
      db: t.ctx.db,
      shapeOf: () => ({ name: 'native', check: nativeShape }),
      async afterSuccess(req) {
        // A fuzzed policy that happened to be valid would throttle the rest of the run.
        if (req.url.includes('/rate-limits')) {
          await liftRateLimits(o);
          await liftRateLimits(other);
        }
      },
    });
    const perOp = scale(30);
    let i = 0;
    for (const op of ops) {
      await fuzzer.runAll(requestsFor(op, pools, auth, { bodyLimit: BODY_LIMIT }), perOp, i++);
    }
    await fuzzer.runAll(
      strayRequests(
        '/v1',
        ops.map((op) => op.path),
        auth,
      ),
      scale(150),
      i++,
    );
    fuzzer.report('native');
    out(`fuzz native: ${ops.length} operations, ${perOp} cases each, ${fuzzer.stats.unsendable} unsendable`);
    fuzzer.assertClean();
    // Attachment bytes are stored only after their row: no stored file lacks one.
    const keys = new Set(
      (await t.ctx.db.selectFrom('attachment').select(['storage_key', 'preview_key']).execute()).flatMap(
        (r) => (r.preview_key ? [r.storage_key, r.preview_key] : [r.storage_key]),
      ),
    );
    assert.deepEqual(
      (await t.ctx.blobs.list()).filter((k) => !keys.has(k)),
      [],
      'no stored file without its row',
    );
    assert.ok(fuzzer.stats.refused > 0);
    assert.ok(
      [...fuzzer.stats.byStatus.keys()].some((s) => s < 300),
      'part of the fuzz gets through to a successful answer',
    );
  });
});
