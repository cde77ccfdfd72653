// Seed 000_dfc3c976cb58e514.txt ("Delete Chat"): the page's example replayed literally through
// /compat/salesiq (ids as JSON numbers above 2^53, the X-SIQ-Channel header), errors, cross-surface.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Principal } from '../../../../src/domain/principal.ts';
import { Scope } from '../../../../src/domain/scopes.ts';
import { createActor } from '../../../../src/services/actors.ts';
import { createDepartment } from '../../../../src/services/departments.ts';
import { createOrg } from '../../../../src/services/orgs.ts';
import { issueToken } from '../../../../src/services/tokens.ts';
import { call } from '../../../support/app.ts';
import {
  closeAfterConcurrency,
  makeDepartment,
  makeOrg,
  type Person,
  principalFor,
  startWaitingChat,
} from '../../../support/factories.ts';
import { useTestApp } from '../../../support/fixtures.ts';
import { withIds, ZYLKER } from './ids.ts';

const t = useTestApp({}, { close: closeAfterConcurrency });

/** The page's example payload, byte for byte. */
const PAGE_PAYLOAD = `{
"ids" : [32289000000646055, 32289000000646045]
}`;

const url = (slug: string) => `/compat/salesiq/api/v2/${slug}/conversations`;
const json = { 'content-type': 'application/json' };
const zoho = (token: string) => ({ authorization: `Zoho-oauthtoken ${token}` });
const remove = (slug: string, token: string | null, body: unknown, headers: Record<string, string> = {}) =>
  call(t.app, null, 'DELETE', url(slug), typeof body === 'string' ? body : JSON.stringify(body), {
    ...json,
    ...(token ? zoho(token) : {}),
    ...headers,
  });

function assertVendorError(
  res: { status: number; body: any },
  status: number,
  code: number,
  reason?: string,
) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.object, 'error');
  assert.equal(res.body.error.code, code);
  if (reason) assert.equal(res.body.error.reason, reason);
}

let n = 0;

/** An ended chat of `admin`'s org (picked up and ended by `op`), optionally with a given id and channel. */
async function endedChat(
  admin: Principal,
  op: Person,
  opts: { id?: string; channel?: 'android' | 'website' } = {},
) {
  const visitor = await createActor(t.ctx, admin, { kind: 'visitor', name: `V${n}`, channel: 'website' });
  const { department } = await createDepartment(t.ctx, admin, `D${n++}`);
  const res = await withIds(t.ctx, opts.id ? [opts.id] : [], () =>
    call(t.app, op.token, 'POST', '/v1/support/chats', {
      department_id: department.id,
      question: 'q',
      visitor_id: visitor.id,
      channel: opts.channel ?? 'website',
    }),
  );
  assert.equal(res.status, 201, res.raw);
  await call(t.app, op.token, 'POST', `/v1/support/chats/${res.body.id}/pickup`);
  await call(t.app, op.token, 'POST', `/v1/support/chats/${res.body.id}/end`);
  return res.body.id as string;
}

describe('Delete Chat: the page example', () => {
  test('the literal payload deletes exactly the two chats it names', async () => {
    const { org, owner } = await withIds(t.ctx, [ZYLKER.orgId, ZYLKER.ownerId], () =>
      createOrg(t.ctx, {
        slug: 'zylker',
        name: 'Zylker',
        ownerName: 'Owner',
        ownerEmail: 'owner@zylker.com',
      }),
    );
    const admin = { orgId: org.id, actor: owner, scopes: new Set(Scope), tokenId: null };
    const patricia = await createActor(t.ctx, admin, {
      kind: 'user',
      role: 'operator',
      name: 'Patricia',
      email: 'patricia@zylker.com',
    });
    const token = async (actorId: string, scopes: Scope[]) =>
      (await issueToken(t.ctx, { orgId: org.id, actorId, name: 't', scopes })).token;
    const pat: Person = { actor: patricia, token: await token(patricia.id, [...Scope]) };
    const deleteOnly = await token(patricia.id, ['conversations:write']);
    const ownerToken = await token(owner.id, [...Scope]);

    // The two chats of the example, and the two ids a double would turn them into.
    const a = await endedChat(admin, pat, { id: '32289000000646055' });
    const b = await endedChat(admin, pat, { id: '32289000000646045' });
    const decoyA = await endedChat(admin, pat, { id: '32289000000646056' });
    const decoyB = await endedChat(admin, pat, { id: '32289000000646044' });
    assert.deepEqual([a, b], ['32289000000646055', '32289000000646045']);

    const res = await call(t.app, null, 'DELETE', url('zylker'), PAGE_PAYLOAD, {
      ...json,
      ...zoho(deleteOnly),
      'X-SIQ-Channel': 'website',
    });
    assert.equal(res.status, 200, res.raw);
    assert.deepEqual(res.body, {
      url: '/api/v2/zylker/conversations',
      object: 'conversations',
      data: { deleted: ['32289000000646055', '32289000000646045'], failed: [] },
    });
    // Observed through /v1: exactly those two are in the bin; the decoys are untouched.
    const bin = await call(t.app, ownerToken, 'GET', '/v1/recycle-bin');
    assert.deepEqual(bin.body.items.map((i: any) => i.id).sort(), [b, a]);
    for (const decoy of [decoyA, decoyB]) {
      const got = await call(t.app, pat.token, 'GET', `/v1/support/chats/${decoy}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.state, 'ended');
    }
    assert.equal((await call(t.app, pat.token, 'GET', `/v1/conversations/${a}`)).status, 404);
    // Deleting them again: they are no longer there.
    const again = await call(t.app, null, 'DELETE', url('zylker'), PAGE_PAYLOAD, {
      ...json,
      ...zoho(deleteOnly),
    });
    assert.deepEqual(
      again.body.data.failed.map((f: any) => [f.id, f.code, f.reason]),
      [
        [a, 1404, 'conversation_not_found'],
        [b, 1404, 'conversation_not_found'],
      ],
    );
    // Restored through /v1, deletable through the dialect again.
    await call(t.app, ownerToken, 'POST', '/v1/recycle-bin/restore', { ids: [a] });
    const third = await remove('zylker', deleteOnly, { ids: [a] });
    assert.deepEqual(third.body.data.deleted, [a]);
    assert.equal(ZYLKER.orgId, org.id);
  });
});

describe('Delete Chat: refusals and errors', () => {
  async function setup() {
    const o = await makeOrg(t.ctx);
    const op = await o.user('operator', 'Olga');
    return { o, op, admin: principalFor(o, o.owner.actor) };
  }

  test('open chats, other channels and unknown ids are refused per id; closed ones go', async () => {
    const { o, op, admin } = await setup();
    const ended = await endedChat(admin, op);
    const android = await endedChat(admin, op, { channel: 'android' });
    const waiting = await startWaitingChat(
      t.ctx,
      o,
      (await o.visitor()).actor,
      await makeDepartment(t.ctx, o, 'W'),
    );
    const other = await makeOrg(t.ctx);
    const otherOp = await other.user('operator');
    const foreign = await endedChat(principalFor(other, other.owner.actor), otherOp);
    const res = await remove(
      o.org.slug,
      op.token,
      { ids: [ended, android, waiting.id, foreign, '777'] },
      {
        'X-SIQ-Channel': 'website',
      },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.deleted, [ended]);
    assert.deepEqual(
      res.body.data.failed.map((f: any) => [f.id, f.code, f.reason]),
      [
        [android, 1409, 'channel_mismatch'],
        [waiting.id, 1409, 'chat_not_closed'],
        [foreign, 1404, 'conversation_not_found'],
        ['777', 1404, 'conversation_not_found'],
      ],
    );
    for (const f of res.body.data.failed) assert.equal(typeof f.message, 'string');
    // Without the header every channel is accepted.
    assert.deepEqual((await remove(o.org.slug, op.token, { ids: [android] })).body.data.deleted, [android]);
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${waiting.id}`)).body.state,
      'waiting',
    );
    assert.equal((await call(t.app, otherOp.token, 'GET', `/v1/support/chats/${foreign}`)).status, 200);
  });

  test('bad requests answer the vendor error and delete nothing', async () => {
    const { o, op, admin } = await setup();
    const ended = await endedChat(admin, op);
    const slug = o.org.slug;
    const header = await remove(slug, op.token, { ids: [ended] }, { 'X-SIQ-Channel': 'fax' });
    assertVendorError(header, 400, 1400, 'invalid_channel');
    assert.equal(header.body.error.header, 'X-SIQ-Channel');
    for (const [body, key] of [
      [{}, 'ids'],
      [{ ids: [] }, 'ids'],
      [{ ids: 'all' }, 'ids'],
      [{ ids: [ended, 'abc'] }, 'ids'],
      [{ ids: [ended, 1.5] }, 'ids'],
      [{ ids: [-4] }, 'ids'],
      [{ ids: Array.from({ length: 101 }, (_, i) => i + 1) }, 'ids'],
      [{ ids: [ended], force: true }, 'force'],
    ] as const) {
      const res = await remove(slug, op.token, body);
      assertVendorError(res, 400, 1400);
      assert.equal(res.body.error.json_key, key, JSON.stringify(body).slice(0, 60));
    }
    assertVendorError(await remove(slug, op.token, '{"ids": [1,'), 400, 1400, 'invalid_json');
    assertVendorError(
      await remove(slug, op.token, '{"ids": [1]}', { 'content-type': 'text/plain' }),
      415,
      1415,
    );
    const big = JSON.stringify({ ids: [ended], pad: 'x'.repeat(70_000) });
    assertVendorError(await remove(slug, op.token, big), 413, 1413, 'body_too_large');
    assertVendorError(await remove(slug, null, { ids: [ended] }), 401, 1002);
    const lacking = await o.token(
      op.actor,
      Scope.filter((s) => s !== 'conversations:write'),
    );
    const scoped = await remove(slug, lacking, { ids: [ended] });
    assertVendorError(scoped, 403, 1403, 'insufficient_scope');
    assert.match(scoped.body.error.message, /Salesiq\.conversations\.Delete/);
    assertVendorError(await remove('nope-nope', op.token, { ids: [ended] }), 404, 1005, 'portal_not_found');
    const wrong = await call(t.app, op.token, 'POST', url(slug), { ids: [ended] });
    assertVendorError(wrong, 405, 1004);
    assert.equal(wrong.headers.allow, 'DELETE');
    assert.equal((await call(t.app, o.owner.token, 'GET', '/v1/recycle-bin')).body.items.length, 0);
  });

  test('deleted through /v1, gone for the dialect too', async () => {
    const { o, op, admin } = await setup();
    const ended = await endedChat(admin, op);
    await call(t.app, op.token, 'POST', '/v1/conversations/delete', { ids: [ended] });
    const res = await remove(o.org.slug, op.token, { ids: [ended] });
    assert.deepEqual(res.body.data, {
      deleted: [],
      failed: [
        {
          id: ended,
          code: 1404,
          reason: 'conversation_not_found',
          message: `Conversation ${ended} not found`,
        },
      ],
    });
  });
});
