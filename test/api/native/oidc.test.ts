import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider from 'oidc-provider';
import WebSocket from 'ws';
import { SESSION_TTL_MS } from '../../../src/services/oidc.ts';
import { buildTestApp, call, type TestApp } from '../../support/app.ts';
import { makeOrg, type TestOrg } from '../../support/factories.ts';
import { connectStream } from '../../support/stream.ts';

/**
 * OpenID Connect sign-in against a real provider (oidc-provider on a local port): the code flow
 * with PKCE, state and nonce; the session cookie and its CSRF token; a wrong audience and a wrong
 * nonce in the ID token (re-signed with the provider's own key on its way to Parley); an
 * expired session; logout; the settings API.
 */

let t: TestApp;
let parley: string;
let o: TestOrg;
let idp: Server;
let issuer: string;
let privateKey: Parameters<SignJWT['sign']>[0];
const kid = 'test-key';
/** How the next token response is tampered with. */
let tamper: 'none' | 'audience' | 'nonce' = 'none';

/** Rewrites the id_token of a token response, signed again with the provider's key. */
async function tamperIdToken(body: string): Promise<string> {
  const json = JSON.parse(body) as { id_token?: string };
  if (!json.id_token || tamper === 'none') return body;
  const claims = decodeJwt(json.id_token);
  if (tamper === 'audience') claims.aud = 'someone-else';
  if (tamper === 'nonce') claims.nonce = 'not-the-nonce';
  json.id_token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  return JSON.stringify(json);
}

before(async () => {
  t = await buildTestApp();
  parley = await t.app.listen({ port: 0, host: '127.0.0.1' });
  o = await makeOrg(t.ctx);
  const keys = await generateKeyPair('RS256', { extractable: true });
  privateKey = keys.privateKey;
  const jwk = { ...(await exportJWK(keys.privateKey)), kid, use: 'sig', alg: 'RS256' };
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  idp = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/token') && tamper !== 'none') {
      const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
      (res as { end: unknown }).end = (chunk?: unknown) => {
        void tamperIdToken(String(chunk)).then((body) => {
          res.setHeader('content-length', Buffer.byteLength(body));
          end(body);
        });
        return res;
      };
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  const address = idp.address();
  assert.ok(address && typeof address === 'object');
  issuer = `http://127.0.0.1:${address.port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'parley-console',
        client_secret: 'a-long-enough-client-secret-for-tests',
        redirect_uris: [`${parley}/auth/oidc/${o.org.slug}/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk] },
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@idp.test`, name: `Person ${sub}` }),
    }),
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key'] },
  });
  handler = provider.callback();
  const res = await call(t.app, o.owner.token, 'PUT', '/v1/oidc', {
    issuer,
    client_id: 'parley-console',
    client_secret: 'a-long-enough-client-secret-for-tests',
    auto_provision: true,
    default_role: 'operator',
  });
  assert.equal(res.status, 200, res.raw);
});
after(async () => {
  await new Promise<void>((resolve) => idp.close(() => resolve()));
  idp.closeAllConnections();
  await t.close();
});

/** A browser: follows redirects by hand, keeps the provider's cookies, signs in as `login`. */
async function signIn(
  login: string,
  start = `${parley}/auth/oidc/${o.org.slug}/login?return_to=/conversations`,
) {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let res = await fetch(start, { redirect: 'manual' });
  for (let hop = 0; hop < 15; hop++) {
    const location = res.headers.get('location');
    if (res.status === 200 && res.url.includes('/interaction/')) {
      const html = await res.text();
      const body = html.includes('name="login"')
        ? new URLSearchParams({ prompt: 'login', login, password: 'x' })
        : new URLSearchParams({ prompt: 'consent' });
      res = await fetch(res.url, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      keep(res);
      continue;
    }
    if (!location) throw new Error(`no redirect at hop ${hop}: ${res.status} ${await res.text()}`);
    const next = new URL(location, res.url || start);
    if (next.href.startsWith(`${parley}/auth/oidc/`)) {
      return fetch(next, { redirect: 'manual' });
    }
    res = await fetch(next, { redirect: 'manual', headers: { cookie: cookie() } });
    keep(res);
  }
  throw new Error('too many redirects');
}

function sessionOf(res: Response): { cookie: string; csrf: string; raw: string[] } {
  const raw = res.headers.getSetCookie();
  const get = (name: string) => raw.find((c) => c.startsWith(`${name}=`))?.split(';')[0] ?? '';
  return {
    cookie: `${get('parley_session')}; ${get('parley_csrf')}`,
    csrf: decodeURIComponent(get('parley_csrf').split('=')[1] ?? ''),
    raw,
  };
}

describe('OpenID Connect sign-in', () => {
  test('a successful sign-in creates the user once, sets the cookies, and the session works on /v1', async () => {
    const res = await signIn('alice');
    assert.equal(res.status, 302, await res.clone().text());
    assert.equal(res.headers.get('location'), '/conversations');
    const s = sessionOf(res);
    const session = s.raw.find((c) => c.startsWith('parley_session='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Lax/);
    assert.doesNotMatch(session, /Secure/, 'not Secure over plain http');
    assert.doesNotMatch(s.raw.find((c) => c.startsWith('parley_csrf='))!, /HttpOnly/);
    const me = await call(t.app, null, 'GET', '/v1/me', undefined, { cookie: s.cookie });
    assert.equal(me.status, 200, me.raw);
    assert.equal(me.body.external_id ?? me.body.actor?.external_id, 'alice');
    assert.equal(me.body.role ?? me.body.actor?.role, 'operator');
    // Signing in again uses the same user.
    const again = sessionOf(await signIn('alice'));
    const me2 = await call(t.app, null, 'GET', '/v1/me', undefined, { cookie: again.cookie });
    assert.equal(me2.body.id, me.body.id);
    // The stream takes the cookie, from this server's own pages only.
    const upgrade = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${parley.replace(/^http/, 'ws')}/v1/stream`, { headers });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      });
    assert.equal(await upgrade({ cookie: s.cookie, origin: parley }), 101);
    assert.equal(await upgrade({ cookie: s.cookie, origin: 'https://evil.example' }), 403);
    assert.equal(await upgrade({ cookie: s.cookie }), 403);
    const ws = await connectStream(parley, {}).catch((e: Error) => e);
    assert.ok(ws instanceof Error, 'no cookie, no token: refused');
  });

  test('a write with the session cookie needs the CSRF token; bearer tokens need none', async () => {
    const s = sessionOf(await signIn('bob'));
    const body = { kind: 'group', title: 'from the console' };
    const without = await call(t.app, null, 'POST', '/v1/conversations', body, { cookie: s.cookie });
    assert.equal(without.status, 403);
    assert.equal(without.body.error.code, 'csrf_token_invalid');
    const wrong = await call(t.app, null, 'POST', '/v1/conversations', body, {
      cookie: s.cookie,
      'x-csrf-token': 'forged',
    });
    assert.equal(wrong.status, 403);
    const list = await call(t.app, null, 'GET', '/v1/conversations', undefined, { cookie: s.cookie });
    assert.equal(list.body.items.length, 0, 'the refused writes created nothing');
    const ok = await call(t.app, null, 'POST', '/v1/conversations', body, {
      cookie: s.cookie,
      'x-csrf-token': s.csrf,
    });
    assert.equal(ok.status, 201, ok.raw);
    const bearer = await call(t.app, o.owner.token, 'POST', '/v1/conversations', body);
    assert.equal(bearer.status, 201, bearer.raw);
  });

  test('an ID token for another audience is refused, and no session begins', async () => {
    tamper = 'audience';
    try {
      const res = await signIn('carol');
      assert.equal(res.status, 401, await res.clone().text());
      const err = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(err.error.code, 'oidc_sign_in_failed');
      assert.match(err.error.message, /"aud" \(audience\)/);
      assert.equal(res.headers.getSetCookie().length, 0);
    } finally {
      tamper = 'none';
    }
  });

  test('an ID token with the wrong nonce is refused', async () => {
    tamper = 'nonce';
    try {
      const res = await signIn('dave');
      assert.equal(res.status, 401);
      const err = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(err.error.code, 'oidc_sign_in_failed');
      assert.match(err.error.message, /"nonce" claim/);
    } finally {
      tamper = 'none';
    }
    // Nobody was provisioned by the refused sign-ins.
    const people = await call(t.app, o.owner.token, 'GET', '/v1/actors?limit=100');
    assert.ok(
      !people.body.items.some((a: { external_id: string }) => ['carol', 'dave'].includes(a.external_id)),
    );
  });

  test('a callback with an unknown state is refused', async () => {
    const res = await fetch(`${parley}/auth/oidc/${o.org.slug}/callback?code=x&state=forged`, {
      redirect: 'manual',
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'oidc_sign_in_failed');
  });

  test('an expired session is refused; logout ends a session', async () => {
    const s = sessionOf(await signIn('erin'));
    assert.equal((await call(t.app, null, 'GET', '/v1/me', undefined, { cookie: s.cookie })).status, 200);
    t.clock.advance(SESSION_TTL_MS + 1);
    const expired = await call(t.app, null, 'GET', '/v1/me', undefined, { cookie: s.cookie });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.code, 'invalid_session');

    const fresh = sessionOf(await signIn('erin'));
    const noCsrf = await call(t.app, null, 'POST', '/auth/logout', undefined, { cookie: fresh.cookie });
    assert.equal(noCsrf.status, 403, 'a cross-site form cannot sign out');
    const out = await call(t.app, null, 'POST', '/auth/logout', undefined, {
      cookie: fresh.cookie,
      'x-csrf-token': fresh.csrf,
    });
    assert.equal(out.status, 204);
    assert.match(String(out.headers['set-cookie']), /parley_session=; .*Max-Age=0/);
    assert.equal((await call(t.app, null, 'GET', '/v1/me', undefined, { cookie: fresh.cookie })).status, 401);
  });

  test('the settings API: admins only, the secret never answered, bad input refused', async () => {
    const got = await call(t.app, o.owner.token, 'GET', '/v1/oidc');
    assert.equal(got.status, 200, got.raw);
    assert.equal(got.body.client_secret_set, true);
    assert.doesNotMatch(got.raw, /a-long-enough-client-secret/);
    assert.equal(got.body.login_path, `/auth/oidc/${o.org.slug}/login`);
    const member = await o.user('member');
    assert.equal((await call(t.app, member.token, 'GET', '/v1/oidc')).status, 403);
    for (const [body, code] of [
      [{ issuer: 'ftp://idp.example', client_id: 'x' }, 'invalid_issuer'],
      [{ issuer: 'http://idp.example.com', client_id: 'x' }, 'invalid_issuer'],
      [{ issuer, client_id: 'x', default_role: 'owner' }, 'invalid_request'],
      [{ issuer, client_id: 'x', claims: { email: 'has space' } }, 'invalid_request'],
      [{ issuer, client_id: 'x', extra: true }, 'invalid_request'],
    ] as const) {
      const res = await call(t.app, o.owner.token, 'PUT', '/v1/oidc', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw}`);
      assert.equal(res.body.error.code, code);
    }
    const other = await makeOrg(t.ctx);
    const first = await call(t.app, other.owner.token, 'PUT', '/v1/oidc', { issuer, client_id: 'x' });
    assert.equal(first.status, 400, 'the secret is required the first time');
    assert.equal((await call(t.app, other.owner.token, 'GET', '/v1/oidc')).status, 404);
    const after = await call(t.app, o.owner.token, 'GET', '/v1/oidc');
    assert.deepEqual(after.body, got.body, 'refused updates changed nothing');
  });
});
