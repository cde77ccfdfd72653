import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { zimSignature } from '../../src/auth/signature.ts';
import { CLIQ_MESSAGES } from '../../src/compat/cliq/errors.ts';
import { Scope } from '../../src/domain/scopes.ts';
import { createApp, revokeOrgApp } from '../../src/services/apps.ts';
import { issueInstanceToken, revokeInstanceAdminToken } from '../../src/services/instance-admin.ts';
import { call, type Res } from '../support/app.ts';
import { makeOrg, principalFor, type TestOrg } from '../support/factories.ts';
import { deadTokens, useTestApp } from '../support/fixtures.ts';
import { connectStream, type StreamClient } from '../support/stream.ts';

/**
 * The authorization matrix beyond /v1 (test/api/native/auth-matrix.test.ts covers /v1): every
 * /compat route of the route table x every kind of unwelcome caller answers the status its
 * dialect documents (docs/compat.md), in the dialect's own error shape, changes nothing and shows
 * nothing of the org it does not belong to. Then the route table as a whole (every route is /v1,
 * /compat or on a short public allow-list), and the realtime stream over real sockets.
 */

const t = useTestApp({}, { gateway: { pingMs: 1000, gapFillMs: 50 }, listen: true });

const rand = () => randomBytes(6).toString('hex');

/**
 * /v1 routes whose credential is not a bearer token: the digest mail's unsubscribe link, signed
 * with the org's key (services/digest.ts). Checked below: without a valid signature, 400.
 */
const TOKENLESS_V1 = new Set(['GET /v1/notifications/unsubscribe', 'POST /v1/notifications/unsubscribe']);

/** Routes that answer without credentials; anything else outside /v1 and /compat fails the test. */
const PUBLIC_ROUTES = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'GET /asyncapi.json',
  // Not public: it checks its own credential, METRICS_TOKEN (tested below and in observability.test.ts).
  'GET /metrics',
  // Not public either: its credential is the link's signature (tested below and in attachments.test.ts).
  'GET /files/:id',
  'GET /docs',
  'GET /docs/json',
  'GET /docs/yaml',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /docs/static/*',
  // The console is served by an onRequest hook (no routes); these are its paths if it ever gets routes.
  'GET /',
  'GET /assets/*',
  // The console's OpenID Connect sign-in: redirects to the org's provider and back into a session
  // cookie (test/api/native/oidc.test.ts); logout needs the session's CSRF token.
  'GET /auth/oidc/:org/login',
  'GET /auth/oidc/:org/callback',
  'POST /auth/logout',
  // The website chat widget's loader, panel and iframe document (test/api/native/widget.test.ts).
  'GET /widget.js',
  'GET /widget/panel.js',
  'GET /widget/frame',
]);

interface Actorish {
  id: string;
}
interface Who {
  actor: Actorish;
  token: string;
}
interface SignedApp {
  id: string;
  appId: number;
  secret: string;
}

/** The victim org with everything the samples point at, and the outsiders. */
async function world() {
  const tag = rand();
  const o = await makeOrg(t.ctx);
  const person = async (
    org: TestOrg,
    body: { kind: 'user' | 'visitor'; role?: string; name: string; external_id: string },
  ): Promise<Who> => {
    const res = await call(t.app, org.owner.token, 'POST', '/v1/actors', {
      ...body,
      ...(body.kind === 'visitor' ? { channel: 'website' } : {}),
    });
    assert.equal(res.status, 201, res.raw);
    return { actor: res.body, token: await org.token(res.body, [...Scope]) };
  };
  const bob = await person(o, { kind: 'user', role: 'member', name: `Bob ${tag}`, external_id: 'bob-ext' });
  const nonMember = await person(o, {
    kind: 'user',
    role: 'member',
    name: `Nina ${tag}`,
    external_id: 'nina-ext',
  });
  const op = await person(o, {
    kind: 'user',
    role: 'operator',
    name: `Otto ${tag}`,
    external_id: 'otto-ext',
  });
  const visitor = await person(o, { kind: 'visitor', name: `Vera ${tag}`, external_id: 'vera-ext' });
  const visitor2 = await person(o, { kind: 'visitor', name: `Viktor ${tag}`, external_id: 'viktor-ext' });
  // A visitor of the org who is in none of the conversations above.
  const stranger = await person(o, { kind: 'visitor', name: `Xena ${tag}`, external_id: 'xena-ext' });
  const dept = (await call(t.app, o.owner.token, 'POST', '/v1/departments', { name: `Billing ${tag}` })).body;
  await call(t.app, o.owner.token, 'PUT', `/v1/departments/${dept.id}/operators`, {
    operator_ids: [op.actor.id],
  });

  const title = `secret title ${tag}`;
  const text = `secret text ${tag}`;
  const group = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title,
    member_ids: [bob.actor.id],
  });
  const msg = await call(t.app, o.owner.token, 'POST', `/v1/conversations/${group.body.id}/messages`, {
    text,
  });
  const startChat = async (who: Who, question: string): Promise<string> => {
    const res = await call(t.app, who.token, 'POST', '/v1/support/chats', {
      department_id: dept.id,
      question,
    });
    assert.equal(res.status, 201, res.raw);
    return res.body.id;
  };
  const waitingQuestion = `secret question waiting ${tag}`;
  const waiting = { id: await startChat(visitor, waitingQuestion) };
  const endedQuestion = `secret question ended ${tag}`;
  const ended = { id: await startChat(visitor2, endedQuestion) };
  assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${ended.id}/pickup`)).status, 200);
  assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${ended.id}/end`)).status, 200);
  const job = await call(t.app, o.owner.token, 'POST', '/v1/deletion-jobs', {
    conversation_ids: [group.body.id],
  });
  assert.equal(job.status, 202, job.raw);
  // Only queued: no runner runs in this test, and the default window (00:00-06:00) is closed at 09:00.
  await call(t.app, o.owner.token, 'POST', `/v1/deletion-jobs/${job.body.id}/cancel`, {});

  const mkApp = async (org: TestOrg, name: string): Promise<SignedApp> => {
    const a = await createApp(t.ctx, principalFor(org, org.owner.actor), name);
    return { id: a.id, appId: a.appId, secret: a.serverSecret };
  };
  const app = await mkApp(o, 'victim app');
  const revokedApp = await mkApp(o, 'revoked app');
  await revokeOrgApp(t.ctx, principalFor(o, o.owner.actor), revokedApp.id);

  const { revoked, expired } = await deadTokens(t, o);

  const other = await makeOrg(t.ctx);
  // The other org has a user with the same external id as the victim's Bob (the zim dialect's FromUserId).
  const otherBob = await person(other, {
    kind: 'user',
    role: 'member',
    name: 'Other Bob',
    external_id: 'bob-ext',
  });
  const otherApp = await mkApp(other, 'other app');
  const otherGroup = await call(t.app, other.owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'their own',
    member_ids: [otherBob.actor.id],
  });

  /** What must never show up in an answer to an outsider, unless the outsider sent it. */
  const secrets = [
    title,
    text,
    waitingQuestion,
    endedQuestion,
    tag,
    group.body.id,
    msg.body.id,
    waiting.id,
    ended.id,
    job.body.id,
    bob.actor.id,
    op.actor.id,
    visitor.actor.id,
    visitor2.actor.id,
    o.owner.actor.id,
    o.org.id,
    o.org.slug,
    String(app.appId),
  ];
  return {
    o,
    bob,
    nonMember,
    op,
    visitor,
    visitor2,
    stranger,
    dept: dept as { id: string },
    group: group.body.id as string,
    msg: msg.body as { id: string; created_at: string },
    waiting: waiting.id,
    ended: ended.id,
    jobId: job.body.id as string,
    app,
    revokedApp,
    revokedToken: revoked.token,
    expiredToken: expired.token,
    other,
    otherBob,
    otherApp,
    otherGroup: otherGroup.body.id as string,
    secrets,
  };
}
type World = Awaited<ReturnType<typeof world>>;

/** A request of the matrix, before credentials are added. */
interface Req {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Where a sample points: the victim's objects, seen from an org (its slug names the portal/bot). */
interface Target {
  w: World;
  slug: string;
}

/** One sample request per /compat route (a new route without one fails the test). */
const SAMPLES: Record<string, (x: Target) => Omit<Req, 'method'>> = {
  'GET /compat/cliq/api/v2/chats': () => ({ url: '/compat/cliq/api/v2/chats?limit=100' }),
  'GET /compat/cliq/api/v2/chats/:CHAT_ID/members': ({ w }) => ({
    url: `/compat/cliq/api/v2/chats/${w.group}/members`,
  }),
  'POST /compat/cliq/api/v2/chats/:CHAT_ID/mute': ({ w }) => ({
    url: `/compat/cliq/api/v2/chats/${w.group}/mute`,
  }),
  'POST /compat/cliq/api/v2/chats/:CHAT_ID/unmute': ({ w }) => ({
    url: `/compat/cliq/api/v2/chats/${w.group}/unmute`,
  }),
  'POST /compat/cliq/api/v2/chats/:CHAT_ID/stickymessage': ({ w }) => ({
    url: `/compat/cliq/api/v2/chats/${w.group}/stickymessage`,
    body: { id: `${Date.parse(w.msg.created_at)}_${w.msg.id}`, expiry_time: -1, notify: true },
  }),
  'GET /compat/cliq/api/v2/chats/:CHAT_ID/stickymessage': ({ w }) => ({
    url: `/compat/cliq/api/v2/chats/${w.group}/stickymessage`,
  }),
  'DELETE /compat/cliq/api/v2/chats/:CHAT_ID/stickymessage': ({ w }) => ({
    url: `/compat/cliq/api/v2/chats/${w.group}/stickymessage`,
  }),
  'POST /compat/cliq/api/v2/chats/:CHAT_ID/leave': ({ w }) => ({
    url: `/compat/cliq/api/v2/chats/${w.group}/leave`,
  }),
  'POST /compat/salesiq/api/v2/:screen_name/conversations/:conversation_id/pickup': ({ w, slug }) => ({
    url: `/compat/salesiq/api/v2/${slug}/conversations/${w.waiting}/pickup`,
  }),
  'DELETE /compat/salesiq/api/v2/:screen_name/conversations': ({ w, slug }) => ({
    url: `/compat/salesiq/api/v2/${slug}/conversations`,
    body: { ids: [w.ended] },
  }),
  'POST /compat/kore/api/public/bot/:botId/conversations/delete': ({ w, slug }) => ({
    url: `/compat/kore/api/public/bot/${slug}/conversations/delete`,
    body: { conversationIds: [w.group] },
  }),
  'GET /compat/kore/api/public/bot/:botId/conversations/delete/status/:jobId': ({ w, slug }) => ({
    url: `/compat/kore/api/public/bot/${slug}/conversations/delete/status/${w.jobId}`,
  }),
  // The signed dialect: the action and its parameters; the public (signature) parameters are added per caller.
  'GET /compat/zim': ({ w }) => ({
    url: `/compat/zim/?Action=ClearConversationUnread&FromUserId=bob-ext&ConvId=${w.group}&ConvType=2`,
  }),
  'POST /compat/zim': ({ w }) => ({
    url: '/compat/zim/?Action=DeleteConv',
    body: { FromUserId: 'bob-ext', ConvId: w.group, ConvType: 2 },
  }),
};

type Dialect = 'cliq' | 'salesiq' | 'zim' | 'kore';
const dialectOf = (url: string) => url.split('/')[2] as Dialect;

/** Asserts the body is in the dialect's own error shape (and not the native one). */
function assertErrorShape(dialect: Dialect, res: Res, label: string): void {
  assert.ok(res.body && typeof res.body === 'object', `${label}: a JSON body: ${res.raw.slice(0, 200)}`);
  if (dialect !== 'salesiq') assert.equal(res.body.error, undefined, `${label}: not the native shape`);
  if (dialect === 'cliq') assert.deepEqual(res.body, { message: CLIQ_MESSAGES[res.status] }, label);
  if (dialect === 'salesiq') {
    assert.equal(res.body.object, 'error', label);
    assert.equal(typeof res.body.url, 'string', label);
    assert.equal(typeof res.body.error.code, 'number', label);
    assert.equal(typeof res.body.error.message, 'string', label);
  }
  if (dialect === 'zim') {
    assert.deepEqual(Object.keys(res.body).sort(), ['Code', 'Message', 'RequestId'], label);
    assert.notEqual(res.body.Code, 0, label);
  }
  if (dialect === 'kore') {
    assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0, label);
    for (const e of res.body.errors) assert.equal(e.code, res.status, label);
  }
}

/** Nothing of the victim org in the answer, except what the caller itself sent. */
function assertRevealsNothing(w: World, req: Req, res: Res, label: string): void {
  const sent = `${req.url} ${JSON.stringify(req.body ?? null)} ${JSON.stringify(req.headers ?? {})}`;
  const leaked = w.secrets.filter((s) => res.raw.includes(s) && !sent.includes(s));
  assert.deepEqual(leaked, [], `${label} leaks ${leaked.join(', ')}: ${res.raw.slice(0, 300)}`);
}

let nonceSeq = 0;
const nextNonce = () =>
  (0x1a2b3c4d00000000n + BigInt(++nonceSeq) + BigInt(process.pid) * 65536n).toString(16);

/** The zim public parameters, signed by `app` (or spoiled as `over` says). */
function zimSigned(url: string, app: SignedApp, over: Record<string, string | null> = {}): string {
  const timestamp = over.Timestamp ?? String(Math.floor(t.clock.now() / 1000));
  const nonce = nextNonce().padStart(16, '0').slice(-16);
  const params: Record<string, string | null> = {
    AppId: String(app.appId),
    SignatureNonce: nonce,
    Timestamp: timestamp,
    SignatureVersion: '2.0',
    Signature: zimSignature(app.appId, nonce, app.secret, timestamp),
    ...over,
  };
  const q = Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return `${url}&${q}`;
}

const jwt = (claims: Record<string, unknown>, secret: string) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));

/** One unwelcome caller on one route: the request it sends and the statuses the dialect documents. */
interface Case {
  principal: string;
  req: Req;
  /** Allowed statuses. */
  status: number[];
  /** The answer is a success for the caller's own data (a list): checked for leaks only. */
  ok?: boolean;
  /** Extra checks of the body. */
  check?: (res: Res) => void;
}

const PRINCIPALS = [
  'no credentials',
  'malformed credentials',
  'expired or revoked',
  'lacking the scope',
  'another org',
  'a non-member',
  'a visitor',
] as const;

async function casesFor(w: World, key: string, method: Req['method'], scope: string | null): Promise<Case[]> {
  const url = key.slice(key.indexOf(' ') + 1);
  const dialect = dialectOf(url);
  const sample = SAMPLES[key]!;
  const own = sample({ w, slug: w.o.org.slug });
  const theirs = sample({ w, slug: w.other.org.slug });
  const req = (s: Omit<Req, 'method'>, headers: Record<string, string> = {}): Req => ({
    method,
    ...s,
    headers: { ...s.headers, ...headers },
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const zoho = (token: string) => ({ authorization: `Zoho-oauthtoken ${token}` });
  const cases: Case[] = [];

  if (dialect === 'cliq' || dialect === 'salesiq') {
    const isList = key === 'GET /compat/cliq/api/v2/chats';
    const isBulkDelete = key.startsWith('DELETE /compat/salesiq');
    const bulkRefused = (res: Res) => {
      assert.deepEqual(res.body.data.deleted, []);
      assert.deepEqual(
        res.body.data.failed.map((f: { id: string; reason: string }) => [f.id, f.reason]),
        [[w.ended, 'conversation_not_found']],
      );
    };
    cases.push({ principal: 'no credentials', req: req(own), status: [401] });
    for (const h of [
      { authorization: 'Basic Ym9iOnNlY3JldA==' },
      { authorization: 'Bearer' },
      { authorization: `Zoho-oauthtoken pk_${rand()}${rand()}` },
      { authorization: `Bearer ${w.o.owner.token}x` },
    ])
      cases.push({ principal: 'malformed credentials', req: req(own, h), status: [401] });
    cases.push({ principal: 'expired or revoked', req: req(own, bearer(w.revokedToken)), status: [401] });
    cases.push({ principal: 'expired or revoked', req: req(own, zoho(w.expiredToken)), status: [401] });
    assert.ok(scope, `${key} declares a scope`);
    const lacking = await w.o.token(
      w.o.owner.actor,
      Scope.filter((s) => s !== scope),
    );
    cases.push({
      principal: 'lacking the scope',
      req: req(own, zoho(lacking)),
      status: [403],
      check: (res) => {
        if (dialect === 'salesiq') assert.match(res.body.error.message, /^Invalid OAuth scope/);
        else assert.equal(res.headers['x-parley-error-code'], 'insufficient_scope');
      },
    });
    // Another org: with the victim's portal (404 "Invalid portal", never confirming it exists),
    // and with its own portal and the victim's ids (404 / refused per id).
    const outsiders: [string, string][] = [
      ['another org', w.other.owner.token],
      ['a non-member', w.nonMember.token],
      ['a visitor', w.stranger.token],
    ];
    for (const [principal, token] of outsiders) {
      if (isList) {
        cases.push({ principal, req: req(own, bearer(token)), status: [200], ok: true });
        continue;
      }
      if (dialect === 'salesiq' && principal === 'another org') {
        cases.push({
          principal,
          req: req(own, zoho(token)),
          status: [404],
          check: (res) => assert.equal(res.body.error.code, 1005),
        });
        if (isBulkDelete)
          cases.push({
            principal,
            req: req(theirs, zoho(token)),
            status: [200],
            ok: true,
            check: bulkRefused,
          });
        else
          cases.push({
            principal,
            req: req(theirs, zoho(token)),
            status: [404],
            check: (res) => assert.equal(res.body.error.code, 1404),
          });
        continue;
      }
      if (isBulkDelete) {
        cases.push({ principal, req: req(own, zoho(token)), status: [200], ok: true, check: bulkRefused });
        continue;
      }
      cases.push({
        principal,
        req: req(own, bearer(token)),
        status: [404],
        check: (res) => {
          if (dialect === 'salesiq') assert.equal(res.body.error.code, 1404);
        },
      });
    }
    return cases;
  }

  if (dialect === 'zim') {
    const code = (c: number | number[]) => (res: Res) =>
      assert.ok([c].flat().includes(res.body.Code), `Code ${res.body.Code}, expected ${c}`);
    const u = own.url;
    cases.push({
      principal: 'no credentials',
      req: req({ ...own, url: u }),
      status: [400],
      check: code(100000001),
    });
    cases.push({
      principal: 'no credentials',
      req: req({ ...own, url: zimSigned(u, w.app, { Signature: null }) }),
      status: [400],
      check: code(100000009),
    });
    cases.push({
      principal: 'malformed credentials',
      req: req({ ...own, url: zimSigned(u, { ...w.app, secret: 'f'.repeat(32) }) }),
      status: [401],
      check: code(100000005),
    });
    cases.push({
      principal: 'malformed credentials',
      req: req({ ...own, url: zimSigned(u, w.app, { SignatureNonce: 'not-hex-at-all!!' }) }),
      status: [400],
      check: code(660000002),
    });
    cases.push({
      principal: 'expired or revoked',
      req: req({
        ...own,
        url: zimSigned(u, w.app, { Timestamp: String(Math.floor(t.clock.now() / 1000) - 660) }),
      }),
      status: [401],
      check: code(100000004),
    });
    cases.push({
      principal: 'expired or revoked',
      req: req({ ...own, url: zimSigned(u, w.revokedApp) }),
      status: [401],
      check: code(100000010),
    });
    // No scopes on the signed dialect: an app acts for the users of its org.
    cases.push({
      principal: 'another org',
      req: req({ ...own, url: zimSigned(u, w.otherApp) }),
      status: [404],
      check: code(660000002),
    });
    for (const [principal, ext] of [
      ['a non-member', 'nina-ext'],
      ['a visitor', 'xena-ext'],
    ] as const) {
      const s = {
        url: own.url.replace('bob-ext', ext),
        body: own.body === undefined ? undefined : { ...(own.body as object), FromUserId: ext },
      };
      cases.push({
        principal,
        req: req({ ...s, url: zimSigned(s.url, w.app) }),
        status: [404],
        check: code(660000002),
      });
    }
    return cases;
  }

  // kore: a JWT of an app in the `auth` header. Apps have no scopes and act for the whole org,
  // so there is no scope, chat membership or visitor to test; the org boundary is the bot.
  const header = (v: string) => ({ auth: v });
  const valid = (a: SignedApp, extra: Record<string, unknown> = {}) =>
    jwt({ sub: 'authz', appId: String(a.appId), ...extra }, a.secret);
  const koreCode = (c: string) => (res: Res) => assert.equal(res.headers['x-parley-error-code'], c);
  cases.push({ principal: 'no credentials', req: req(own), status: [401], check: koreCode('missing_token') });
  cases.push({
    principal: 'malformed credentials',
    req: req(own, header('not.a.jwt')),
    status: [401],
    check: koreCode('malformed_token'),
  });
  cases.push({
    principal: 'malformed credentials',
    req: req(own, header(await valid({ ...w.app, secret: w.otherApp.secret }))),
    status: [401],
    check: koreCode('bad_signature'),
  });
  cases.push({
    principal: 'expired or revoked',
    req: req(own, header(await valid(w.app, { exp: Math.floor(t.clock.now() / 1000) - 1 }))),
    status: [401],
    check: koreCode('token_expired'),
  });
  cases.push({
    principal: 'expired or revoked',
    req: req(own, header(await valid(w.revokedApp))),
    status: [401],
    check: koreCode('unknown_app'),
  });
  const otherJwt = await valid(w.otherApp);
  cases.push({
    principal: 'another org',
    req: req(own, header(otherJwt)),
    status: [404],
    check: koreCode('bot_not_found'),
  });
  cases.push({
    principal: 'another org',
    req: req(theirs, header(otherJwt)),
    status: [404],
    check: koreCode(method === 'GET' ? 'deletion_job_not_found' : 'conversation_not_found'),
  });
  return cases;
}

const NOT_APPLICABLE: Record<Dialect, readonly string[]> = {
  cliq: [],
  salesiq: [],
  zim: ['lacking the scope'],
  kore: ['lacking the scope', 'a non-member', 'a visitor'],
};

describe('the route table beyond /v1', () => {
  test('every /compat route refuses every unwelcome caller as its dialect documents, and reveals nothing', async () => {
    const w = await world();
    const before = await snapshot(w);
    const routes = t.routes.filter((r) => r.url.startsWith('/compat/'));
    assert.ok(routes.length >= 14, `found ${routes.length} /compat routes`);
    let checks = 0;
    let notApplicable = 0;
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      assert.ok(key in SAMPLES, `${key} needs a sample request in test/security/authz-matrix.test.ts`);
      const dialect = dialectOf(route.url);
      // Each route runs in a fresh rate-limit window (cliq allows 20 a minute per user).
      t.clock.advance(61_000);
      const cases = await casesFor(w, key, route.method as Req['method'], route.scope);
      for (const p of PRINCIPALS) {
        const has = cases.some((c) => c.principal === p);
        assert.equal(
          has,
          !NOT_APPLICABLE[dialect].includes(p),
          `${key}: ${p} is covered (or documented n/a)`,
        );
        if (!has) notApplicable++;
      }
      for (const c of cases) {
        const label = `${key} as ${c.principal} (${c.req.url} ${JSON.stringify(c.req.headers)})`;
        const res = await call(t.app, null, c.req.method, c.req.url, c.req.body, c.req.headers ?? {});
        assert.ok(c.status.includes(res.status), `${label}: ${res.status} ${res.raw.slice(0, 300)}`);
        if (!c.ok) assertErrorShape(dialect, res, label);
        if (res.status === 401 && dialect !== 'zim')
          assert.ok(res.headers['www-authenticate'], `${label}: 401 names the scheme`);
        c.check?.(res);
        assertRevealsNothing(w, c.req, res, label);
        checks++;
      }
    }
    assert.deepEqual(await snapshot(w), before, 'nothing any of them did changed anything');
    process.stdout.write(
      `# authz: ${routes.length} routes x ${PRINCIPALS.length} principals = ${checks} checks` +
        ` (${notApplicable} route/principal pairs n/a: signed and JWT dialects have no scopes; kore acts for the org)\n`,
    );
  });

  test('every route is /v1 (auth-matrix.test.ts), /compat (above) or on the public allow-list', async () => {
    const w = await world();
    const outside = t.routes
      .filter((r) => !r.url.startsWith('/v1/') && !r.url.startsWith('/compat/'))
      .map((r) => `${r.method} ${r.url}`);
    const unknown = outside.filter((k) => !PUBLIC_ROUTES.has(k));
    assert.deepEqual(unknown, [], 'a route outside /v1 and /compat that is not on the public allow-list');
    // Every /v1 route is in the native matrix, which checks that each declares a scope.
    // The widget's visitor routes take a visitor credential instead (their own matrix there).
    for (const r of t.routes.filter(
      (r) =>
        r.url.startsWith('/v1/') &&
        !r.url.startsWith('/v1/widget/') &&
        !TOKENLESS_V1.has(`${r.method} ${r.url}`),
    ))
      assert.ok(
        r.scope || r.anyScope || (r.instance && r.url.startsWith('/v1/instance/')),
        `${r.method} ${r.url} declares a scope (or is an instance route under /v1/instance)`,
      );
    // The unsubscribe link: nothing without a validly signed token, whoever asks.
    for (const method of ['GET', 'POST'] as const) {
      for (const [token, query] of [
        [null, ''],
        [null, '?token=1.2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
        [
          w.o.owner.token,
          `?token=${w.o.org.id}.${w.bob.actor.id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
        ],
      ] as const) {
        const res = await call(t.app, token, method, `/v1/notifications/unsubscribe${query}`);
        assert.equal(res.status, 400, `${method} unsubscribe${query}: ${res.raw}`);
      }
    }
    // The public routes answer without credentials and show nothing of any org.
    for (const url of [
      '/healthz',
      '/readyz',
      '/openapi.json',
      '/asyncapi.json',
      '/docs/json',
      '/docs/yaml',
    ]) {
      const res = await call(t.app, null, 'GET', url);
      assert.equal(res.status, 200, url);
      const leaked = w.secrets.filter((s) => res.raw.includes(s));
      assert.deepEqual(leaked, [], `${url} leaks ${leaked.join(', ')}`);
    }
    // /metrics is off without METRICS_TOKEN (this app has none): a 404 to anyone, an org's owner too.
    for (const token of [null, w.o.owner.token])
      assert.equal((await call(t.app, token, 'GET', '/metrics')).status, 404);
    // A signed file link is its own credential: without one, or with a forged one, nothing shows.
    for (const [url, status] of [
      ['/files/1', 400],
      ['/files/1?expires=99999999999999&signature=forged', 403],
    ] as const) {
      const res = await call(t.app, w.o.owner.token, 'GET', url);
      assert.equal(res.status, status, `${url}: ${res.raw}`);
      assert.equal(typeof res.body.error.code, 'string');
    }
    // A path that is nowhere in the table is a 404 in the shape of the surface it falls under.
    assert.equal((await call(t.app, null, 'GET', '/v1/nowhere')).body.error.code, 'route_not_found');
    assert.deepEqual((await call(t.app, w.o.owner.token, 'GET', '/compat/cliq/api/v2/nowhere')).body, {
      message: CLIQ_MESSAGES[404],
    });
  });
});

describe('instance administration (/v1/instance)', () => {
  /** A body for each instance route that takes one (a request the route would carry out). */
  const INSTANCE_BODIES: Record<string, () => unknown> = {
    'POST /v1/instance/orgs': () => ({ slug: `m-${rand()}`, owner_email: 'o@m.test' }),
    'POST /v1/instance/orgs/:id/suspend': () => undefined,
    'POST /v1/instance/orgs/:id/unsuspend': () => undefined,
    'POST /v1/instance/orgs/:id/owner-token': () => ({}),
  };

  test('instance routes refuse org tokens and bad instance tokens; org routes refuse instance tokens', async () => {
    const w = await world();
    const admin = await issueInstanceToken(t.ctx, { name: 'matrix' });
    const revoked = await issueInstanceToken(t.ctx, { name: 'revoked' });
    await revokeInstanceAdminToken(t.ctx, revoked.record.id);
    const expired = await issueInstanceToken(t.ctx, { name: 'expired', expiresAt: t.clock.now() + 1 });
    t.clock.advance(2);
    const before = await snapshot(w);
    const orgsBefore = (await call(t.app, admin.token, 'GET', '/v1/instance/orgs?limit=100')).body.items;
    const routes = t.routes.filter((r) => r.instance);
    assert.ok(routes.length >= 7, `found ${routes.length} instance routes`);
    let checks = 0;
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      assert.ok(r.url.startsWith('/v1/instance/'), `${key} is under /v1/instance`);
      assert.equal(r.scope, null, `${key} names no org scope`);
      const needsBody = ['POST', 'PUT', 'PATCH'].includes(r.method);
      assert.ok(!needsBody || key in INSTANCE_BODIES, `${key} needs a body in the instance matrix`);
      const url = r.url.replace(':id', w.o.org.id);
      for (const [who, token] of [
        ['no credentials', null],
        ["the org's owner (every scope)", w.o.owner.token],
        ["another org's owner", w.other.owner.token],
        ['a revoked instance token', revoked.token],
        ['an expired instance token', expired.token],
        ['a forged instance token', `pia_${rand()}`],
      ] as const) {
        const res = await call(t.app, token, r.method as 'GET', url, INSTANCE_BODIES[key]?.());
        assert.equal(res.status, 401, `${key} with ${who}: ${res.raw}`);
        assert.equal(res.body.error.code, who === 'no credentials' ? 'missing_token' : 'invalid_token');
        checks++;
      }
    }
    // An instance-admin token on every org route: 401, saying where it works.
    // (Not the tokenless unsubscribe link, nor the widget's visitor routes, which take a visitor
    // credential and refuse every other one in test/api/native/widget.test.ts.)
    for (const r of t.routes.filter(
      (r) =>
        r.url.startsWith('/v1/') &&
        !r.instance &&
        !r.url.startsWith('/v1/widget/') &&
        !TOKENLESS_V1.has(`${r.method} ${r.url}`),
    )) {
      const url = r.url.replace(/:[A-Za-z]+/g, w.o.org.id);
      const res = await call(t.app, admin.token, r.method as 'GET', url, {});
      assert.equal(res.status, 401, `${r.method} ${r.url} with an instance token: ${res.raw}`);
      assert.match(res.body.error.message, /only on \/v1\/instance/);
      checks++;
    }
    // And on the stream.
    assert.equal((await upgrade({ authorization: `Bearer ${admin.token}` })).status, 401);
    assert.deepEqual(await snapshot(w), before);
    assert.deepEqual(
      (await call(t.app, admin.token, 'GET', '/v1/instance/orgs?limit=100')).body.items,
      orgsBefore,
      'no org was created, suspended or deleted',
    );
    process.stdout.write(`# instance matrix: ${routes.length} routes, ${checks} checks\n`);
  });
});

/** What the unwelcome callers must not have changed, read by the victim org's owner. */
async function snapshot(w: World) {
  const get = async (url: string, token = w.o.owner.token) => {
    const res = await call(t.app, token, 'GET', url);
    assert.equal(res.status, 200, `${url}: ${res.raw}`);
    return res.body;
  };
  const conv = await get(`/v1/conversations/${w.group}`);
  const bobConv = await get(`/v1/conversations/${w.group}`, w.bob.token);
  const members = await get(`/v1/conversations/${w.group}/members`);
  const pin = await call(t.app, w.o.owner.token, 'GET', `/v1/conversations/${w.group}/pin`);
  const waiting = await get(`/v1/support/chats/${w.waiting}`);
  const ended = await get(`/v1/support/chats/${w.ended}`);
  const bin = await get('/v1/recycle-bin');
  const jobs = await get('/v1/deletion-jobs');
  return {
    title: conv.title,
    participants: conv.participant_count,
    last: conv.last_message?.id,
    bobUnread: bobConv.unread_count,
    bobMuted: bobConv.muted,
    bobHidden: bobConv.hidden,
    members: members.items.map((m: { actor_id?: string; id?: string }) => m.actor_id ?? m.id).sort(),
    pin: pin.status,
    waiting: waiting.state ?? waiting.chat?.state,
    ended: ended.state ?? ended.chat?.state,
    bin: bin.items.length,
    jobs: jobs.items.map((j: { id: string; status: string }) => `${j.id}:${j.status}`),
  };
}

// ---------------------------------------------------------------------------------------------
// The realtime stream, over real sockets.

/** Attempts an upgrade and answers the refusal's status and JSON body (or 101). */
async function upgrade(headers: Record<string, string>, query = ''): Promise<{ status: number; body: any }> {
  const ws = new WebSocket(`${t.base.replace(/^http/, 'ws')}/v1/stream${query}`, { headers });
  const outcome = await Promise.race([
    once(ws, 'open').then(() => ({ status: 101, body: null })),
    once(ws, 'unexpected-response').then(async ([, res]) => {
      let raw = '';
      for await (const chunk of res) raw += chunk;
      return { status: res.statusCode as number, body: JSON.parse(raw) };
    }),
  ]);
  ws.terminate();
  return outcome;
}

describe('the realtime stream', () => {
  test('an upgrade without a valid token, or without messages:read, is refused as documented', async () => {
    const w = await world();
    const noRead = await w.o.token(
      w.o.owner.actor,
      Scope.filter((s) => s !== 'messages:read'),
    );
    const refusals: [string, Record<string, string>, string, number][] = [
      ['no token', {}, '', 401],
      ['a malformed header', { authorization: 'Basic Ym9iOnNlY3JldA==' }, '', 401],
      ['an unknown token', { authorization: `Bearer pk_${rand()}` }, '', 401],
      ['a revoked token', { authorization: `Bearer ${w.revokedToken}` }, '', 401],
      ['an expired token', { authorization: `Bearer ${w.expiredToken}` }, '', 401],
      ['a revoked token in the query', {}, `?access_token=${w.revokedToken}`, 401],
      [
        'a revoked token as subprotocol',
        { 'sec-websocket-protocol': `parley, bearer.${w.revokedToken}` },
        '',
        401,
      ],
      ['a token without messages:read', { authorization: `Bearer ${noRead}` }, '', 403],
    ];
    for (const [who, headers, query, status] of refusals) {
      const res = await upgrade(headers, query);
      assert.equal(res.status, status, who);
      assert.equal(typeof res.body.error.code, 'string', `${who}: the native error shape`);
      if (status === 403) assert.equal(res.body.error.code, 'insufficient_scope');
    }
    assert.equal(
      (await upgrade({ authorization: `Bearer ${w.bob.token}` })).status,
      101,
      'a member connects',
    );
    process.stdout.write(`# authz stream: ${refusals.length} refused upgrades\n`);
  });

  test('sockets of another org, a non-member and a visitor get none of the events of a conversation they are not in', async () => {
    const w = await world();
    const isEvent = (name: string) => (f: any) => f.type === 'event' && f.event === name;
    const streams = {
      owner: await connectStream(t.base, { token: w.o.owner.token }),
      bob: await connectStream(t.base, { token: w.bob.token }),
      op: await connectStream(t.base, { token: w.op.token }),
      visitor: await connectStream(t.base, { token: w.visitor.token, via: 'protocol' }),
      other: await connectStream(t.base, { token: w.other.owner.token }),
      nonMember: await connectStream(t.base, { token: w.nonMember.token, via: 'query' }),
      visitor2: await connectStream(t.base, { token: w.visitor2.token }),
    };
    const ready: Record<string, number> = {};
    for (const [name, s] of Object.entries(streams))
      ready[name] = (await s.next((f) => f.type === 'ready')).seq;

    // The group conversation: messages (over HTTP and over the socket), an edit, a pin, typing,
    // a rename, a delete (and the pin going with it).
    const tag = rand();
    const gid = w.group;
    const sent = await call(t.app, w.o.owner.token, 'POST', `/v1/conversations/${gid}/messages`, {
      text: `stream secret ${tag}`,
    });
    streams.owner.send({
      type: 'send',
      conversation_id: gid,
      text: `socket secret ${tag}`,
      client_id: `c-${tag}`,
    });
    await streams.owner.next((f) => f.type === 'ack');
    streams.owner.send({ type: 'typing', conversation_id: gid });
    // The typing frame goes over the socket and the edit over HTTP: the edit waits until bob has
    // the typing event, so that the group's events reach him in the order listed below.
    await streams.bob.received(isEvent('typing.started'));
    await call(t.app, w.o.owner.token, 'PATCH', `/v1/conversations/${gid}/messages/${sent.body.id}`, {
      text: `edited secret ${tag}`,
    });
    await call(t.app, w.o.owner.token, 'PUT', `/v1/conversations/${gid}/pin`, { message_id: sent.body.id });
    await call(t.app, w.o.owner.token, 'PATCH', `/v1/conversations/${gid}`, {
      title: `renamed secret ${tag}`,
    });
    await call(t.app, w.o.owner.token, 'DELETE', `/v1/conversations/${gid}/messages/${sent.body.id}`);
    const groupEvents = [
      'message.created',
      'typing.started',
      'message.edited',
      'pin.created',
      'conversation.updated',
      'message.deleted',
      'pin.deleted',
    ];
    for (const e of groupEvents) await streams.bob.next(isEvent(e));

    // A support chat of Vera's: her waiting chat from world() is picked up and ended, then a new
    // one: waiting, picked up, a message, ended, deleted, restored.
    await call(t.app, w.op.token, 'POST', `/v1/support/chats/${w.waiting}/pickup`);
    await call(t.app, w.op.token, 'POST', `/v1/support/chats/${w.waiting}/end`);
    const chat = await call(t.app, w.visitor.token, 'POST', '/v1/support/chats', {
      department_id: w.dept.id,
      question: `support secret ${tag}`,
    });
    assert.equal(chat.status, 201, chat.raw);
    const chatId: string = chat.body.id;
    assert.ok(chatId, 'a support chat started');
    await call(t.app, w.op.token, 'POST', `/v1/support/chats/${chatId}/pickup`);
    await call(t.app, w.op.token, 'POST', `/v1/conversations/${chatId}/messages`, {
      text: `operator secret ${tag}`,
    });
    await call(t.app, w.op.token, 'POST', `/v1/support/chats/${chatId}/end`);
    await call(t.app, w.o.owner.token, 'POST', '/v1/conversations/delete', { ids: [chatId] });
    await call(t.app, w.o.owner.token, 'POST', '/v1/recycle-bin/restore', { ids: [chatId] });
    const supportEvents = ['support.waiting', 'support.picked_up', 'message.created', 'support.ended'];
    for (const e of supportEvents)
      await streams.visitor.next((f) => isEvent(e)(f) && f.conversation_id === chatId);
    for (const e of [...supportEvents, 'support.deleted', 'support.restored'])
      await streams.op.next((f) => isEvent(e)(f) && f.conversation_id === chatId);

    // Sentinels: one event for each outsider, after all of the above; once it arrives, everything
    // before it has been delivered (one bus, in order), so what they lack they will never get.
    const otherMsg = await call(
      t.app,
      w.other.owner.token,
      'POST',
      `/v1/conversations/${w.otherGroup}/messages`,
      {
        text: 'sentinel',
      },
    );
    const dm = await call(t.app, w.o.owner.token, 'POST', '/v1/conversations', {
      kind: 'direct',
      member_ids: [w.nonMember.actor.id],
    });
    await call(t.app, w.o.owner.token, 'POST', `/v1/conversations/${dm.body.id}/messages`, {
      text: 'sentinel',
    });
    const v2chat = await call(t.app, w.visitor2.token, 'POST', '/v1/support/chats', {
      department_id: w.dept.id,
      question: 'sentinel',
    });
    assert.equal(v2chat.status, 201, v2chat.raw);
    await streams.other.next((f) => isEvent('message.created')(f) && f.data.message.id === otherMsg.body.id);
    await streams.nonMember.next((f) => isEvent('message.created')(f) && f.conversation_id === dm.body.id);
    await streams.visitor2.next((f) => isEvent('support.waiting')(f) && f.conversation_id === v2chat.body.id);

    const secretsOf = [tag, gid, chatId, sent.body.id, w.msg.id];
    const assertNothing = (name: string, s: StreamClient) => {
      const bad = s.frames.filter(
        (f) =>
          f.conversation_id === gid ||
          f.conversation_id === chatId ||
          f.conversation_id === w.waiting ||
          secretsOf.some((x) => JSON.stringify(f).includes(x)),
      );
      assert.deepEqual(bad, [], `${name} got events of a conversation it is not in`);
    };
    assertNothing('another org', streams.other);
    assertNothing('a non-member', streams.nonMember);
    assertNothing('a visitor', streams.visitor2);
    // Bob (a member of the group, not staff) got the group's events and none of the support chat's.
    assert.equal(streams.bob.seen((f) => f.conversation_id === chatId).length, 0, 'bob is not in the chat');

    // Catch-up after a reconnect replays only what the caller may see.
    let replayed = 0;
    for (const [name, token] of [
      ['a non-member', w.nonMember.token],
      ['a visitor', w.visitor2.token],
      ['another org', w.other.owner.token],
    ] as const) {
      const key = name === 'a non-member' ? 'nonMember' : name === 'a visitor' ? 'visitor2' : 'other';
      const s = await connectStream(t.base, { token, since: ready[key] });
      await s.next((f) => f.type === 'ready');
      replayed += s.frames.length;
      assertNothing(`${name} catching up`, s);
      await s.close();
    }
    const bobAgain = await connectStream(t.base, { token: w.bob.token, since: ready.bob });
    await bobAgain.next((f) => f.type === 'ready');
    for (const e of groupEvents.filter((x) => x !== 'typing.started'))
      assert.ok(bobAgain.seen(isEvent(e)).length > 0, `a member catches up on ${e}`);
    await bobAgain.close();

    // Revoking a token closes its socket with 4001 and it gets nothing afterwards.
    const carolTok = await call(t.app, w.o.owner.token, 'POST', '/v1/tokens', {
      name: 'c',
      scopes: [...Scope],
    });
    const carol = await connectStream(t.base, { token: carolTok.body.token });
    await carol.next((f) => f.type === 'ready');
    await call(t.app, w.o.owner.token, 'DELETE', `/v1/tokens/${carolTok.body.record.id}`);
    assert.equal((await carol.closed).code, 4001);
    const received = Object.fromEntries(Object.entries(streams).map(([k, s]) => [k, s.frames.length]));
    for (const s of Object.values(streams)) await s.close();
    process.stdout.write(
      `# authz stream: frames received ${JSON.stringify(received)}; ${replayed} replayed to outsiders, none of them the victim's\n`,
    );
  });
});
