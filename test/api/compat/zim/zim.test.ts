import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { zimSignature } from '../../../../src/auth/signature.ts';
import { createApp } from '../../../../src/services/apps.ts';
import { call } from '../../../support/app.ts';
import { makeOrg, type TestOrg } from '../../../support/factories.ts';
import { useTestApp } from '../../../support/fixtures.ts';

const t = useTestApp();

let nonceSeq = 0;
const nextNonce = () => (0x4fd24687296dd9f3n + BigInt(++nonceSeq)).toString(16).padStart(16, '0');

interface Signed {
  appId: number;
  secret: string;
}

/** A signed request as the vendor's docs describe it: public parameters in the query. */
function signedUrl(app: Signed, action: string, over: Record<string, string | undefined> = {}): string {
  const timestamp = over.Timestamp ?? String(Math.floor(t.clock.now() / 1000));
  const nonce = over.SignatureNonce ?? nextNonce();
  const params: Record<string, string | undefined> = {
    Action: action,
    AppId: String(app.appId),
    SignatureNonce: nonce,
    Timestamp: timestamp,
    SignatureVersion: '2.0',
    Signature: zimSignature(app.appId, nonce, app.secret, timestamp),
    ...over,
  };
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');
  return `/compat/zim/?${q}`;
}

async function world() {
  const o = await makeOrg(t.ctx);
  const made = await createApp(t.ctx, { orgId: o.org.id, system: true }, 'server');
  const app: Signed = { appId: made.appId, secret: made.serverSecret };
  const mk = async (externalId: string) => {
    const res = await call(t.app, o.owner.token, 'POST', '/v1/actors', {
      kind: 'user',
      role: 'member',
      name: externalId,
      external_id: externalId,
    });
    return {
      actor: res.body as { id: string },
      token: await o.token(res.body, [
        'conversations:read',
        'conversations:write',
        'messages:write',
        'messages:read',
      ]),
    };
  };
  const alice = await mk('alice');
  const bob = await mk('bob');
  const dm = await call(t.app, alice.token, 'POST', '/v1/conversations', {
    kind: 'direct',
    member_ids: [bob.actor.id],
  });
  const group = await call(t.app, alice.token, 'POST', '/v1/conversations', {
    kind: 'group',
    title: 'g',
    member_ids: [bob.actor.id],
  });
  await call(t.app, bob.token, 'POST', `/v1/conversations/${dm.body.id}/messages`, { text: 'hi alice' });
  return { o, app, alice, bob, dm: dm.body.id as string, group: group.body.id as string };
}

const listIds = async (token: string) =>
  (await call(t.app, token, 'GET', '/v1/conversations')).body.items.map(
    (c: { id: string }) => c.id,
  ) as string[];

test('the signature formula reproduces the vendor test vector', () => {
  assert.equal(
    zimSignature(12345, '4fd24687296dd9f3', '9193cc662a4c0ec135ec71fb57194b38', 1615186943),
    '43e5cfcca828314675f91b001390566a',
  );
});

describe('DeleteConv', () => {
  test('removes the one-on-one conversation from FromUserId only; it comes back on new activity', async () => {
    const w = await world();
    const res = await call(t.app, null, 'POST', signedUrl(w.app, 'DeleteConv'), {
      FromUserId: 'alice',
      ConvId: 'bob',
      ConvType: 0,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['Code', 'Message', 'RequestId']);
    assert.equal(res.body.Code, 0);
    assert.equal(typeof res.body.RequestId, 'string');
    assert.ok(!(await listIds(w.alice.token)).includes(w.dm));
    assert.ok((await listIds(w.bob.token)).includes(w.dm), 'the other member keeps it');
    await call(t.app, w.bob.token, 'POST', `/v1/conversations/${w.dm}/messages`, { text: 'still there?' });
    assert.ok((await listIds(w.alice.token)).includes(w.dm), 'back for alice on new activity');
  });

  test('a group conversation by its id (ConvType 2)', async () => {
    const w = await world();
    const res = await call(t.app, null, 'POST', signedUrl(w.app, 'DeleteConv'), {
      FromUserId: 'bob',
      ConvId: w.group,
      ConvType: 2,
    });
    assert.equal(res.body.Code, 0);
    assert.ok(!(await listIds(w.bob.token)).includes(w.group));
    assert.ok((await listIds(w.alice.token)).includes(w.group));
  });

  test('bad parameters answer 660000002 and change nothing', async () => {
    const w = await world();
    for (const body of [
      {},
      { FromUserId: 'alice', ConvId: 'bob' },
      { FromUserId: 'alice', ConvId: 'bob', ConvType: 1 },
      { FromUserId: 'alice', ConvId: 'bob', ConvType: '0x' },
      { FromUserId: 'a'.repeat(33), ConvId: 'bob', ConvType: 0 },
      { FromUserId: 'alice', ConvId: 'b'.repeat(33), ConvType: 0 },
      { FromUserId: 5, ConvId: 'bob', ConvType: 0 },
      { FromUserId: 'nobody', ConvId: 'bob', ConvType: 0 },
      { FromUserId: 'alice', ConvId: 'nobody', ConvType: 0 },
      { FromUserId: 'alice', ConvId: w.group, ConvType: 0 },
      { FromUserId: 'alice', ConvId: 'bob', ConvType: 2 },
      { FromUserId: 'alice', ConvId: '999999999', ConvType: 2 },
    ]) {
      const res = await call(t.app, null, 'POST', signedUrl(w.app, 'DeleteConv'), body);
      assert.equal(res.body.Code, 660000002, JSON.stringify(body));
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${JSON.stringify(body)}`);
    }
    const bad = await call(t.app, null, 'POST', signedUrl(w.app, 'DeleteConv'), '{nope', {
      'content-type': 'application/json',
    });
    assert.equal(bad.body.Code, 660000002);
    assert.ok((await listIds(w.alice.token)).includes(w.dm));
  });

  test("another org's users and conversations are out of reach", async () => {
    const w = await world();
    const other = await world();
    const res = await call(t.app, null, 'POST', signedUrl(other.app, 'DeleteConv'), {
      FromUserId: 'alice',
      ConvId: w.group,
      ConvType: 2,
    });
    assert.equal(res.body.Code, 660000002);
    assert.ok((await listIds(w.alice.token)).includes(w.group));
  });
});

describe('ClearConversationUnread', () => {
  test("clears FromUserId's unread count, by GET query or POST body", async () => {
    const w = await world();
    const unread = async () =>
      (await call(t.app, w.alice.token, 'GET', `/v1/conversations/${w.dm}`)).body.unread_count;
    assert.equal(await unread(), 1);
    const res = await call(
      t.app,
      null,
      'GET',
      `${signedUrl(w.app, 'ClearConversationUnread')}&FromUserId=alice&ConvId=bob&ConvType=0`,
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.Code, 0);
    assert.equal(await unread(), 0);
    await call(t.app, w.bob.token, 'POST', `/v1/conversations/${w.dm}/messages`, { text: 'again' });
    const post = await call(t.app, null, 'POST', signedUrl(w.app, 'ClearConversationUnread'), {
      FromUserId: 'alice',
      ConvId: 'bob',
      ConvType: 0,
    });
    assert.equal(post.body.Code, 0);
    assert.equal(await unread(), 0);
  });
});

describe('the public parameters and the signature', () => {
  const body = { FromUserId: 'alice', ConvId: 'bob', ConvType: 0 };

  test('each missing or malformed public parameter has its code', async () => {
    const w = await world();
    const cases: [Record<string, string | undefined>, number][] = [
      [{ Action: '' }, 100000006],
      [{ Action: 'DropDatabase' }, 100000007],
      [{ AppId: 'abc' }, 100000001],
      [{ AppId: '99999999999' }, 100000001],
      [{ Timestamp: '' }, 100000002],
      [{ Timestamp: 'soon' }, 100000003],
      [{ SignatureNonce: '' }, 100000008],
      [{ SignatureNonce: 'xyz' }, 660000002],
      [{ Signature: '' }, 100000009],
      [{ SignatureVersion: '' }, 100000013],
      [{ SignatureVersion: '1.0' }, 100000014],
      [{ AppId: '12345' }, 100000010],
      [{ Signature: '00000000000000000000000000000000' }, 100000005],
    ];
    for (const [over, code] of cases) {
      const url = signedUrl(w.app, over.Action ?? 'DeleteConv', over);
      const res = await call(t.app, null, 'POST', url, body);
      assert.equal(res.body.Code, code, JSON.stringify(over));
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} for ${JSON.stringify(over)}`);
      assert.equal(typeof res.body.Message, 'string');
    }
    assert.ok((await listIds(w.alice.token)).includes(w.dm), 'no refused request changed anything');
  });

  test('a timestamp more than 10 minutes away is expired (100000004), either way', async () => {
    const w = await world();
    const now = Math.floor(t.clock.now() / 1000);
    for (const ts of [now - 601, now + 601]) {
      const res = await call(
        t.app,
        null,
        'POST',
        signedUrl(w.app, 'DeleteConv', { Timestamp: String(ts) }),
        body,
      );
      assert.equal(res.body.Code, 100000004);
      assert.equal(res.status, 401);
    }
    for (const ts of [now - 599, now + 599]) {
      const res = await call(
        t.app,
        null,
        'POST',
        signedUrl(w.app, 'DeleteConv', { Timestamp: String(ts) }),
        body,
      );
      assert.equal(res.body.Code, 0);
    }
  });

  test('a nonce is accepted once (100000100 for a replay)', async () => {
    const w = await world();
    const url = signedUrl(w.app, 'DeleteConv');
    assert.equal((await call(t.app, null, 'POST', url, body)).body.Code, 0);
    const replay = await call(t.app, null, 'POST', url, body);
    assert.equal(replay.body.Code, 100000100);
    assert.equal(replay.status, 401);
    // a forged signature does not burn a nonce
    const nonce = nextNonce();
    const forged = await call(
      t.app,
      null,
      'POST',
      signedUrl(w.app, 'DeleteConv', { SignatureNonce: nonce, Signature: 'f'.repeat(32) }),
      body,
    );
    assert.equal(forged.body.Code, 100000005);
    assert.equal(
      (await call(t.app, null, 'POST', signedUrl(w.app, 'DeleteConv', { SignatureNonce: nonce }), body)).body
        .Code,
      0,
    );
  });

  test('a revoked app is refused', async () => {
    const w = await world();
    const apps = await call(t.app, w.o.owner.token, 'GET', '/v1/apps');
    const id = apps.body.items.find((a: { app_id: number }) => a.app_id === w.app.appId).id;
    assert.equal((await call(t.app, w.o.owner.token, 'DELETE', `/v1/apps/${id}`)).status, 200);
    assert.equal(
      (await call(t.app, null, 'POST', signedUrl(w.app, 'DeleteConv'), body)).body.Code,
      100000010,
    );
  });

  test('20 requests a second per app: the 21st answers QPS limit (7) with Retry-After', async () => {
    const w = await world();
    mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 21, 12, 0, 0) });
    try {
      for (let i = 0; i < 20; i++) {
        const res = await call(t.app, null, 'POST', signedUrl(w.app, 'ClearConversationUnread'), body);
        assert.equal(res.body.Code, 0, `call ${i + 1}`);
      }
      const over = await call(t.app, null, 'POST', signedUrl(w.app, 'ClearConversationUnread'), body);
      assert.equal(over.body.Code, 7);
      assert.equal(over.status, 429);
      assert.equal(over.headers['retry-after'], '1');
      mock.timers.tick(1001);
      assert.equal(
        (await call(t.app, null, 'POST', signedUrl(w.app, 'ClearConversationUnread'), body)).body.Code,
        0,
      );
    } finally {
      mock.timers.reset();
    }
  });
});

describe('apps through the native API', () => {
  test('admins create, list and revoke; members cannot; the secret is shown once', async () => {
    const o: TestOrg = await makeOrg(t.ctx);
    const made = await call(t.app, o.owner.token, 'POST', '/v1/apps', { name: 'backend' });
    assert.equal(made.status, 201);
    assert.match(made.body.server_secret, /^[0-9a-f]{32}$/);
    assert.ok(Number.isInteger(made.body.app_id) && made.body.app_id > 0 && made.body.app_id < 2 ** 32);
    const list = await call(t.app, o.owner.token, 'GET', '/v1/apps');
    assert.equal(list.body.items.length, 1);
    assert.ok(!JSON.stringify(list.body).includes(made.body.server_secret));
    const member = await o.user();
    assert.equal((await call(t.app, member.token, 'POST', '/v1/apps', { name: 'x' })).status, 403);
    assert.equal((await call(t.app, o.owner.token, 'POST', '/v1/apps', {})).status, 400);
    assert.equal((await call(t.app, o.owner.token, 'DELETE', '/v1/apps/12345')).status, 404);
  });
});
