import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call } from '../../support/app.ts';
import { makeOrg } from '../../support/factories.ts';
import { useTestApp } from '../../support/fixtures.ts';

const t = useTestApp({ BODY_LIMIT: '4096' });

function assertErrorShape(body: any) {
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  assert.ok('details' in body.error);
}

describe('HTTP protocol errors answer JSON in the native shape', () => {
  test('unknown route 404, wrong method 405 with Allow', async () => {
    const o = await makeOrg(t.ctx);
    const nf = await call(t.app, o.owner.token, 'GET', '/v1/nothing-here');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.code, 'route_not_found');
    assertErrorShape(nf.body);
    const wrong = await call(t.app, o.owner.token, 'PUT', '/v1/conversations');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.body.error.code, 'method_not_allowed');
    assert.match(String(wrong.headers.allow), /GET/);
    assert.match(String(wrong.headers.allow), /POST/);
    const wrong2 = await call(t.app, o.owner.token, 'DELETE', '/v1/conversations/123/messages');
    assert.equal(wrong2.status, 405);
  });

  test('406 when the client does not accept JSON', async () => {
    const o = await makeOrg(t.ctx);
    const res = await call(t.app, o.owner.token, 'GET', '/v1/conversations', undefined, {
      accept: 'text/html',
    });
    assert.equal(res.status, 406);
    assert.equal(res.body.error.code, 'not_acceptable');
    for (const accept of ['application/json', '*/*', 'application/*', 'text/html, application/json;q=0.5']) {
      assert.equal(
        (await call(t.app, o.owner.token, 'GET', '/v1/conversations', undefined, { accept })).status,
        200,
        accept,
      );
    }
  });

  test('415 for a non-JSON body, 413 over the limit, 400 for broken or poisoned JSON', async () => {
    const o = await makeOrg(t.ctx);
    const url = '/v1/conversations';
    const xml = await call(t.app, o.owner.token, 'POST', url, '<kind>group</kind>', {
      'content-type': 'application/xml',
    });
    assert.equal(xml.status, 415);
    assert.equal(xml.body.error.code, 'unsupported_media_type');
    const big = await call(
      t.app,
      o.owner.token,
      'POST',
      url,
      JSON.stringify({ kind: 'group', title: 'x'.repeat(5000) }),
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'body_too_large');
    for (const raw of [
      '{"kind": "group"',
      '{"kind":"group","__proto__":{"admin":true}}',
      '[1,2',
      '{"a":1}{',
      '\u0000',
    ]) {
      const res = await call(t.app, o.owner.token, 'POST', url, raw, { 'content-type': 'application/json' });
      assert.equal(res.status, 400, raw);
      assert.equal(res.body.error.code, 'invalid_json', raw);
    }
    const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`;
    const deepRes = await call(t.app, o.owner.token, 'POST', url, deep, {
      'content-type': 'application/json',
    });
    assert.ok(deepRes.status === 400 || deepRes.status === 413, String(deepRes.status));
    assert.equal((await call(t.app, o.owner.token, 'GET', url)).body.items.length, 0);
  });

  test('401 for missing, malformed and unknown tokens, with WWW-Authenticate', async () => {
    for (const [auth, code] of [
      [undefined, 'missing_token'],
      ['Basic dXNlcjpwYXNz', 'invalid_token'],
      ['Bearer', 'invalid_token'],
      ['Bearer pk_nope', 'invalid_token'],
    ] as const) {
      const res = await call(
        t.app,
        null,
        'GET',
        '/v1/conversations',
        undefined,
        auth ? { authorization: auth } : {},
      );
      assert.equal(res.status, 401, String(auth));
      assert.equal(res.body.error.code, code);
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    }
  });

  test('the vendor scheme Zoho-oauthtoken is accepted as a bearer token', async () => {
    const o = await makeOrg(t.ctx);
    const res = await call(t.app, null, 'GET', '/v1/me', undefined, {
      authorization: `Zoho-oauthtoken ${o.owner.token}`,
    });
    assert.equal(res.status, 200);
  });

  test('health, readiness and OpenAPI need no token', async () => {
    assert.equal((await call(t.app, null, 'GET', '/healthz')).status, 200);
    assert.equal((await call(t.app, null, 'GET', '/readyz')).status, 200);
    const spec = await call(t.app, null, 'GET', '/openapi.json');
    assert.equal(spec.status, 200);
    assert.equal(spec.body.openapi, '3.1.0');
    assert.ok(spec.body.paths['/v1/conversations/{id}/messages'].post);
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
  });
});

describe('more refusals', () => {
  test('text/plain bodies are 415, not a validation error', async () => {
    const o = await makeOrg(t.ctx);
    const res = await call(t.app, o.owner.token, 'POST', '/v1/conversations', 'kind=group', {
      'content-type': 'text/plain',
    });
    assert.equal(res.status, 415);
  });

  test('every problem of a body is reported, each once', async () => {
    const o = await makeOrg(t.ctx);
    const res = await call(t.app, o.owner.token, 'POST', '/v1/actors', {
      kind: 'user',
      txt: 1,
      email: 'nope',
    });
    assert.equal(res.status, 400);
    const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
    assert.deepEqual(paths, ['body.email', 'body.name', 'body.txt']);
  });

  test('GET /v1/me works for a token of any scope', async () => {
    const o = await makeOrg(t.ctx);
    const narrow = await o.token(o.owner.actor, ['messages:read']);
    const res = await call(t.app, narrow, 'GET', '/v1/me');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.scopes, ['messages:read']);
  });

  test('times past year 9999 are refused before anything is stored', async () => {
    const o = await makeOrg(t.ctx);
    const res = await call(t.app, o.owner.token, 'POST', '/v1/tokens', {
      name: 'far',
      scopes: ['messages:read'],
      expires_at: 9007199254740991,
    });
    assert.equal(res.status, 400);
    const list = await call(t.app, o.owner.token, 'GET', '/v1/tokens');
    assert.equal(list.status, 200);
    assert.ok(!list.body.items.some((x: { name: string }) => x.name === 'far'));
  });
});
