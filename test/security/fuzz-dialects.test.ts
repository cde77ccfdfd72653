import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { zimSignature } from '../../src/auth/signature.ts';
import { CLIQ_MESSAGES } from '../../src/compat/cliq/errors.ts';
import { RateGroup } from '../../src/domain/rate-limits.ts';
import { setRatePolicy } from '../../src/services/rate-limits.ts';
import { buildTestApp, call, type TestApp } from '../support/app.ts';
import {
  makeDepartment,
  makeOrg,
  principalFor,
  startWaitingChat,
  type TestOrg,
} from '../support/factories.ts';
import {
  type AuthChoice,
  assertEveryRouteDocumented,
  cliqShape,
  contentTypes,
  enc,
  Fuzzer,
  type FuzzRequest,
  koreShape,
  loadOperations,
  nastySegment,
  nastyString,
  nativeShape,
  type Operation,
  out,
  type Pools,
  rawBodies,
  requestsFor,
  type ShapeCheck,
  salesiqShape,
  scale,
  strayRequests,
  type TableDiff,
  zimShape,
} from '../support/fuzz.ts';

/**
 * Fuzz of the compatibility dialects: every operation of /openapi.json under /compat, plus the
 * signed zim requests (which carry their parameters in the query) and the kore JWTs, with real
 * credentials and signatures for part of the runs. Invariants: no 5xx, every 4xx in the
 * dialect's own documented error body (docs/compat.md), no change in the database from a
 * refused request (except the one spent zim nonce, see `explain`).
 */

type Auth = AuthChoice;

const BODY_LIMIT = 65536;
const SHAPES: Record<string, ShapeCheck> = {
  '/compat/cliq': cliqShape(CLIQ_MESSAGES),
  '/compat/zim': zimShape,
  '/compat/salesiq': salesiqShape,
  '/compat/kore': koreShape,
};
function shapeOf(url: string) {
  const prefix = Object.keys(SHAPES).find(
    (p) => url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`),
  );
  return prefix
    ? { name: prefix.slice('/compat/'.length), check: SHAPES[prefix]! }
    : { name: 'native', check: nativeShape };
}

let t: TestApp;
let o: TestOrg;
let other: TestOrg;
let ops: Operation[];
let pools: Pools;
let tokens: { ada: string; op: string; bob: string; readOnly: string; otherOwner: string };
let app: { id: string; appId: number; secret: string };
let otherApp: { appId: number; secret: string };
const externalIds = ['alice', 'bob-ext', 'vera-ext'];
let groupId: string;

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
  ops = (await loadOperations(t.app)).filter((op) => op.path.startsWith('/compat/'));
  o = await makeOrg(t.ctx);
  other = await makeOrg(t.ctx);
  const ada = await o.user('admin', 'Ada');
  const bob = await o.user('member', 'Bob');
  const op = await o.user('operator', 'Oscar');
  const vera = await o.visitor('Vera');
  for (const [person, ext] of [
    [ada, 'alice'],
    [bob, 'bob-ext'],
    [vera, 'vera-ext'],
  ] as const) {
    const r = await call(t.app, o.owner.token, 'PATCH', `/v1/actors/${person.actor.id}`, {
      external_id: ext,
    });
    assert.equal(r.status, 200, r.raw);
  }
  const direct = await call(t.app, ada.token, 'POST', '/v1/conversations', {
    kind: 'direct',
    member_ids: [bob.actor.id],
  });
  const group = await call(t.app, ada.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'g',
    member_ids: [bob.actor.id],
  });
  groupId = group.body.id;
  const msguids: string[] = [];
  const messages: string[] = [];
  for (const conv of [direct.body.id, groupId]) {
    const m = await call(t.app, ada.token, 'POST', `/v1/conversations/${conv}/messages`, { text: 'hi' });
    assert.equal(m.status, 201, m.raw);
    messages.push(m.body.id);
    const ms = Date.parse(m.body.created_at);
    msguids.push(`${ms}_${m.body.id}`, `${ms} ${m.body.id}`, m.body.id);
  }
  const dept = await makeDepartment(t.ctx, o, 'Billing', [op.actor]);
  const chats: string[] = [];
  for (let i = 0; i < 4; i++) {
    const visitor = i === 0 ? vera : await o.visitor(`Visitor ${i}`);
    chats.push((await startWaitingChat(t.ctx, o, visitor.actor, dept)).id);
  }
  for (const id of chats.slice(0, 2)) {
    assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${id}/pickup`, {})).status, 200);
    assert.equal((await call(t.app, op.token, 'POST', `/v1/support/chats/${id}/end`, {})).status, 200);
  }
  const made = await call(t.app, o.owner.token, 'POST', '/v1/apps', { name: 'fuzz' });
  assert.equal(made.status, 201, made.raw);
  app = { id: made.body.id, appId: made.body.app_id, secret: made.body.server_secret };
  const otherMade = await call(t.app, other.owner.token, 'POST', '/v1/apps', { name: 'other' });
  otherApp = { appId: otherMade.body.app_id, secret: otherMade.body.server_secret };
  const otherConv = await call(t.app, other.owner.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'x',
  });
  await liftRateLimits(o);
  await liftRateLimits(other);
  const job = await t.app.inject({
    method: 'POST',
    url: `/compat/kore/api/public/bot/${o.org.slug}/conversations/delete`,
    headers: { auth: await jwt({ appId: String(app.appId) }), 'content-type': 'application/json' },
    payload: JSON.stringify({ conversationIds: [groupId], dryRun: true }),
  });
  assert.equal(job.statusCode, 200, job.body);

  tokens = {
    ada: ada.token,
    op: op.token,
    bob: bob.token,
    readOnly: await o.token(ada.actor, ['conversations:read']),
    otherOwner: other.owner.token,
  };
  const conversations = [direct.body.id, groupId, otherConv.body.id];
  pools = {
    params: {
      CHAT_ID: conversations,
      screen_name: [o.org.slug, o.org.slug, other.org.slug],
      conversation_id: [...chats, groupId],
      botId: [o.org.slug, o.org.slug, other.org.slug],
      jobId: [job.json().jobId],
    },
    ids: [...conversations, ...chats, ...messages],
    fields: {
      id: msguids,
      ids: [chats, [chats[0]], [chats[1], chats[2]], [groupId], [chats[0], '32289000000646055']],
      conversationIds: [[groupId], [direct.body.id], [chats[0]], [chats[2]], [otherConv.body.id]],
      cId: externalIds,
      expiry_time: [-1, 1_900_000_000_000, 1],
      fields: ['name', 'name,email_id', 'user_id|name', 'bogus'],
      startDate: ['2026-11-01', '2026-02-30', '2020-01-01'],
      endDate: ['2026-11-21', '2027-01-01'],
    },
  };
});
after(async () => t.close());

// ---------------------------------------------------------------------------------------------
// Credentials

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function jwt(
  claims: Record<string, unknown>,
  opts: { key?: string; alg?: string; exp?: number; nbf?: number } = {},
): Promise<string> {
  let s = new SignJWT({ sub: 'ops', ...claims }).setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' });
  if (opts.exp !== undefined) s = s.setExpirationTime(opts.exp);
  if (opts.nbf !== undefined) s = s.setNotBefore(opts.nbf);
  return s.sign(new TextEncoder().encode(opts.key ?? app.secret));
}

/** `Authorization` for the token dialects (cliq, salesiq): both schemes, real and bad tokens. */
function tokenAuth(): fc.Arbitrary<Auth> {
  const h = (authorization: string, note: string): Auth => ({ headers: { authorization }, note });
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(h(`Zoho-oauthtoken ${tokens.ada}`, 'admin, vendor scheme')) },
    { weight: 3, arbitrary: fc.constant(h(`Bearer ${tokens.ada}`, 'admin, bearer')) },
    { weight: 2, arbitrary: fc.constant(h(`Zoho-oauthtoken ${tokens.op}`, 'operator')) },
    { weight: 1, arbitrary: fc.constant(h(`Bearer ${tokens.bob}`, 'member')) },
    { weight: 1, arbitrary: fc.constant(h(`Zoho-oauthtoken ${tokens.readOnly}`, 'read-only token')) },
    { weight: 1, arbitrary: fc.constant(h(`Zoho-oauthtoken ${tokens.otherOwner}`, "another org's owner")) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constant<Auth>({ headers: {}, note: 'no credentials' }),
        fc.constant(h('Zoho-oauthtoken', 'scheme only')),
        fc.constant(h(`zoho-oauthtoken ${tokens.ada}`, 'lowercase vendor scheme')),
        fc.constant(h(`Zoho-oauthtoken ${tokens.ada}x`, 'altered token')),
        fc.constant(h(`Zoho-oauthtoken 1000.${'a'.repeat(32)}.${'b'.repeat(32)}`, 'vendor-looking token')),
        fc.constant(h(`OAuth ${tokens.ada}`, 'other scheme')),
        fc.constant(h(`Zoho-oauthtoken ${'t'.repeat(9000)}`, 'huge token')),
        fc
          .string({ unit: 'grapheme-ascii', maxLength: 60 })
          .map((s) => h(`Zoho-oauthtoken ${s.replace(/[^\x20-\x7e]/g, '')}`, 'random token')),
      ),
    },
  );
}

/** The `auth` header of kore: a good JWT, or one wrong in each way docs/compat.md lists. */
function koreAuth(): fc.Arbitrary<Auth> {
  const now = Math.floor(t.clock.now() / 1000);
  const id = String(app.appId);
  const variants: [number, () => Promise<string> | string, string][] = [
    [8, () => jwt({ appId: id }), 'valid JWT'],
    [2, () => jwt({ appId: app.appId }), 'valid JWT, numeric appId'],
    [1, () => jwt({ appId: id }, { exp: now + 3600 }), 'valid JWT with exp'],
    [1, () => jwt({ appId: String(otherApp.appId) }, { key: otherApp.secret }), "another org's app"],
    [1, () => jwt({ appId: id }, { key: 'not-the-secret' }), 'wrong key'],
    [1, () => jwt({ appId: id }, { alg: 'HS512' }), 'HS512'],
    [1, () => jwt({ appId: id }, { exp: now - 60 }), 'expired'],
    [1, () => jwt({ appId: id }, { nbf: now + 3600 }), 'not yet valid'],
    [1, () => jwt({}), 'no appId'],
    [1, () => jwt({ appId: '4294967295' }), 'unknown appId'],
    [1, () => jwt({ appId: 1e21 }), 'huge numeric appId'],
    [1, () => jwt({ appId: -1 }), 'negative appId'],
    [1, () => jwt({ appId: [id] }), 'appId array'],
    [1, () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', appId: id })}.`, 'alg none'],
    [1, () => `${b64({ alg: 'HS256' })}.${b64('not json')}.${b64('sig')}`, 'payload not JSON'],
    [1, () => `${b64('{')}.${b64({ appId: id })}.x`, 'header not JSON'],
    [
      1,
      async () => {
        const [h, p, s] = (await jwt({ appId: id })).split('.');
        return `${h}.${b64({ sub: 'ops', appId: id, admin: true })}.${s ?? ''}${p ? '' : ''}`;
      },
      'payload swapped after signing',
    ],
    [1, () => `${b64({ alg: 'HS256', crit: ['b64'], b64: false })}.${b64({ appId: id })}.x`, 'crit header'],
    [1, () => 'a.b.c', 'three garbage parts'],
    [1, () => 'x'.repeat(9000), 'too long'],
    [1, () => '', 'empty'],
  ];
  const arbs = variants.map(([weight, make, note]) => ({
    weight,
    arbitrary: fc.constant(null).map(() => ({ make, note })),
  }));
  return fc
    .oneof(...arbs, {
      weight: 1,
      arbitrary: nastyString.map((s) => ({ make: () => s.replace(/[^\x20-\x7e]/g, ''), note: 'random' })),
    })
    .map(({ make, note }): Auth => ({ headers: {}, note, late: async () => ({ auth: await make() }) }));
}

// ---------------------------------------------------------------------------------------------
// zim: signed query parameters

function zimRequests(): fc.Arbitrary<FuzzRequest> {
  const now = Math.floor(t.clock.now() / 1000);
  const hex16 = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex'));
  const maybe = <T>(a: fc.Arbitrary<T>, weight = 8) =>
    fc.oneof(
      { weight, arbitrary: a },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: nastyString },
    );
  const body = fc.record(
    {
      FromUserId: fc.oneof(fc.constantFrom(...externalIds), nastyString, fc.integer()),
      ConvId: fc.oneof(
        fc.constantFrom(...externalIds, groupId),
        nastyString,
        fc.string({ minLength: 33, maxLength: 40 }),
      ),
      ConvType: fc.oneof(fc.constantFrom(0, 2), fc.constantFrom(1, '0', '2', -1, 2.5, null, '02')),
    },
    { requiredKeys: [] },
  );
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST'),
      action: maybe(fc.constantFrom('DeleteConv', 'ClearConversationUnread')),
      app: fc.oneof(
        { weight: 8, arbitrary: fc.constant({ appId: String(app.appId), secret: app.secret }) },
        { weight: 1, arbitrary: fc.constant({ appId: String(otherApp.appId), secret: otherApp.secret }) },
        {
          weight: 2,
          arbitrary: fc
            .oneof(nastySegment, fc.constantFrom('4294967296', '1', '0', '-1', ''))
            .map((appId) => ({ appId, secret: 'x' })),
        },
      ),
      nonce: maybe(
        fc.oneof({ weight: 6, arbitrary: hex16 }, { weight: 1, arbitrary: fc.constant('0123456789abcdef') }),
      ),
      timestamp: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -300, max: 300 }).map((d) => String(now + d)) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            String(now - 601),
            String(now + 601),
            'abc',
            '',
            '-5',
            '1e3',
            '9'.repeat(30),
            `${now}.5`,
          ),
        },
      ),
      version: maybe(fc.constant('2.0')),
      signature: fc.constantFrom(
        'good',
        'good',
        'good',
        'good',
        'upper',
        'wrong',
        'missing',
        'empty',
        'long',
      ),
      where: fc.constantFrom('body', 'body', 'query', 'both'),
      params: body,
      raw: fc.option(rawBodies(BODY_LIMIT), { freq: 6 }),
      contentType: fc.option(contentTypes, { freq: 8 }),
      extra: fc.option(
        fc.constantFrom('&Action=DeleteConv', '&AppId=1', '&Signature=x', '&x=%ZZ', '&Timestamp='),
        {
          freq: 6,
        },
      ),
    })
    .map((r) => {
      const q: [string, string][] = [];
      if (r.action !== undefined) q.push(['Action', r.action]);
      q.push(['AppId', r.app.appId]);
      if (r.nonce !== undefined) q.push(['SignatureNonce', r.nonce]);
      q.push(['Timestamp', r.timestamp]);
      if (r.version !== undefined) q.push(['SignatureVersion', r.version]);
      const good = zimSignature(r.app.appId, r.nonce ?? '', r.app.secret, r.timestamp);
      const sig =
        r.signature === 'good'
          ? good
          : r.signature === 'upper'
            ? good.toUpperCase()
            : r.signature === 'wrong'
              ? good.replace(/^./, (c) => (c === '0' ? '1' : '0'))
              : r.signature === 'long'
                ? good.repeat(50)
                : r.signature === 'empty'
                  ? ''
                  : undefined;
      if (sig !== undefined) q.push(['Signature', sig]);
      if (r.where !== 'body')
        for (const [k, v] of Object.entries(r.params))
          q.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
      const url = `/compat/zim/?${q.map(([k, v]) => `${k}=${enc(String(v))}`).join('&')}${r.extra ?? ''}`;
      const headers: Record<string, string> = {};
      const req: FuzzRequest = {
        method: r.method,
        url,
        headers,
        note: `zim ${r.signature} signature, ${r.where}`,
      };
      if (r.raw !== null) {
        req.payload = r.raw;
        headers['content-type'] = r.contentType ?? 'application/json';
        req.note += ', raw body';
      } else if (r.where !== 'query') {
        req.payload = JSON.stringify(r.params);
        headers['content-type'] = r.contentType ?? 'application/json';
      }
      return req;
    });
}

/**
 * The one change a refused zim request may make: a correctly signed request spends its nonce
 * before its body is read (so it cannot be replayed, docs/compat.md), and a body refused after
 * that leaves the nonce spent. Anything else is a violation.
 */
function explainZim(diffs: TableDiff[], req: FuzzRequest): TableDiff[] {
  if (!req.url.startsWith('/compat/zim')) return diffs;
  const q = new URLSearchParams(req.url.split('?')[1] ?? '');
  const nonce = (q.get('SignatureNonce') ?? '').toLowerCase();
  return diffs.filter(
    (d) =>
      !(
        d.table === 'used_nonce' &&
        d.removed.length === 0 &&
        d.added.length === 1 &&
        d.added[0]!.includes(`"nonce":"${nonce}"`) &&
        d.added[0]!.includes(`"app_id":${Number(q.get('AppId'))},`)
      ),
  );
}

// ---------------------------------------------------------------------------------------------

describe('fuzz: compatibility dialects', () => {
  test('every dialect route the app serves is in /openapi.json and has a known error shape', () => {
    assertEveryRouteDocumented(
      t.routes.filter((r) => r.url.startsWith('/compat/')),
      ops,
    );
    for (const op of ops)
      assert.notEqual(shapeOf(op.path).name, 'native', `${op.path}: no dialect error shape`);
  });

  test('generated and mutated requests: no 5xx, each dialect its own error body, no change from refused requests', async () => {
    let nonces = 0;
    const fuzzer = new Fuzzer({
      app: t.app,
      db: t.ctx.db,
      shapeOf,
      explain(diffs, req) {
        const left = explainZim(diffs, req);
        if (left.length < diffs.length) nonces += 1;
        return left;
      },
      async afterSuccess() {
        await liftRateLimits(o);
      },
    });
    const perDialect = new Map<string, number>();
    const count = (url: string) => {
      const name = shapeOf(url).name;
      perDialect.set(name, (perDialect.get(name) ?? 0) + 1);
    };
    const run = async (arb: fc.Arbitrary<FuzzRequest>, n: number, seed: number) =>
      fuzzer.runAll(
        arb.map((r) => {
          count(r.url);
          return r;
        }),
        n,
        seed,
      );
    let i = 0;
    for (const op of ops) {
      const auth = op.path.startsWith('/compat/kore') ? koreAuth() : tokenAuth();
      const arb = requestsFor(op, pools, auth, { bodyLimit: BODY_LIMIT });
      await fuzzer.runAll(
        arb.map((r) => {
          count(r.url);
          return r;
        }),
        scale(op.path.startsWith('/compat/zim') ? 20 : 90),
        100 + i++,
      );
    }
    await run(zimRequests(), scale(500), 200);
    for (const prefix of Object.keys(SHAPES)) {
      const known = ops.filter((op) => op.path.startsWith(prefix)).map((op) => op.path);
      const auth = prefix === '/compat/kore' ? koreAuth() : tokenAuth();
      await fuzzer.runAll(strayRequests(prefix, known, auth), scale(40), 300 + i++);
    }
    fuzzer.report('dialects');
    for (const [name, n] of [...perDialect].sort()) out(`fuzz ${name}: ${n} requests generated`);
    out(`fuzz zim: ${nonces} refused signed requests spent their nonce (the one change allowed, by design)`);
    fuzzer.assertClean();
    assert.ok(
      [...fuzzer.stats.byStatus.keys()].some((s) => s < 300),
      'part of the fuzz gets through to a successful answer',
    );
  });
});
