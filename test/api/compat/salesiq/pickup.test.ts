// Seed 001_959c4c532cfae43c.txt ("Pick up Chat"): the page's example replayed through
// /compat/salesiq, every field of its response checked, plus errors and cross-surface checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Actor } from '../../../../src/domain/model.ts';
import { Scope } from '../../../../src/domain/scopes.ts';
import { createActor } from '../../../../src/services/actors.ts';
import { createDepartment } from '../../../../src/services/departments.ts';
import { createOrg } from '../../../../src/services/orgs.ts';
import { startSupportChat } from '../../../../src/services/support.ts';
import { issueToken } from '../../../../src/services/tokens.ts';
import { call } from '../../../support/app.ts';
import {
  closeAfterConcurrency,
  makeDepartment,
  makeOrg,
  type Person,
  startWaitingChat,
} from '../../../support/factories.ts';
import { useTestApp } from '../../../support/fixtures.ts';
import { withIds, ZYLKER } from './ids.ts';

const t = useTestApp({}, { close: closeAfterConcurrency });

/** The page's sample response, verbatim. */
const PAGE_SAMPLE = {
  url: '/api/v2/zylker/conversations/19000000033103/pickup',
  object: 'conversations',
  data: {
    reference_id: '151',
    owner: {
      image_key: '0_466756000000002001',
      email: 'patricia@zylker.com',
      name: 'Patricia',
      is_bot: false,
      id: '466756000000002001',
    },
    chat_id: 'LD_2242278138463036757_1690029162',
    attender: {
      image_key: '0_466756000000002001',
      email: 'patricia@zylker.com',
      name: 'Patricia',
      is_bot: false,
      id: '466756000000002001',
    },
    type: 'chat',
    participants: [
      {
        image_key: '0_466756000000002001',
        email: 'patricia@zylker.com',
        name: 'Patricia',
        is_bot: false,
        id: '466756000000002001',
      },
    ],
    unread_chats: false,
    chat_status: { status_code: 0, state: 2, label: 'Connected' },
    uvid: 'c9db3d6f-c77a-463b-bfd3-01c771b2a96b-1',
    question: 'Can you help me with the payment process?',
    notes: false,
    attended_time: '1612943681060',
    start_time: '1612943653720',
    id: '19000000033103',
    last_modified_time: '1612943681060',
    status: 'Connected',
    app_id: '466756000000002043',
    department: { name: 'Zylker', id: '466756000000002013' },
    visitor: {
      name: 'James',
      id: '466756000000969001',
      country_code: 'IN',
      supported_operations: [
        'bot_chat',
        'file_share',
        'audio_call',
        'video_call',
        'screen_share',
        'remote_share',
        'edit_message',
        'delete_message',
        'reply_message',
        'block_ip',
        'article_share',
      ],
      ip: '121.244.91.20',
      phone: '9123337778',
      email: 'james@zyker.com',
      type: 'contact',
      channel_name: 'website',
      user_id: '$3403221679883552585',
    },
  },
};

const base = (slug: string) => `/compat/salesiq/api/v2/${slug}/conversations`;
const zoho = (token: string) => ({ authorization: `Zoho-oauthtoken ${token}` });
const pickup = (slug: string, id: string, token: string | null, headers: Record<string, string> = {}) =>
  call(t.app, null, 'POST', `${base(slug)}/${id}/pickup`, undefined, {
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
  assert.equal(typeof res.body.url, 'string');
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  if (reason) assert.equal(res.body.error.reason, reason);
}

describe('Pick up Chat: the page example', () => {
  test('replays field for field', async () => {
    const { org, owner } = await withIds(t.ctx, [ZYLKER.orgId, ZYLKER.ownerId], () =>
      createOrg(t.ctx, {
        slug: 'zylker',
        name: 'Zylker',
        ownerName: 'Owner',
        ownerEmail: 'owner@zylker.com',
      }),
    );
    const admin = { orgId: org.id, actor: owner, scopes: new Set(Scope), tokenId: null };
    const patricia = await withIds(t.ctx, [ZYLKER.patriciaId], () =>
      createActor(t.ctx, admin, {
        kind: 'user',
        role: 'operator',
        name: 'Patricia',
        email: 'patricia@zylker.com',
      }),
    );
    const james = await withIds(t.ctx, [ZYLKER.jamesId], () =>
      createActor(t.ctx, admin, {
        kind: 'visitor',
        name: 'James',
        email: 'james@zyker.com',
        phone: '9123337778',
        ip: '121.244.91.20',
        country: 'IN',
        channel: 'website',
        externalId: '$3403221679883552585',
      }),
    );
    const { department } = await withIds(t.ctx, [ZYLKER.departmentId], () =>
      createDepartment(t.ctx, admin, 'Zylker'),
    );
    // The page's chat is its org's 151st.
    await t.ctx.db.insertInto('org_support_seq').values({ org_id: org.id, last_reference: 150 }).execute();
    t.clock.set(1612943653720);
    await withIds(t.ctx, ['19000000033103'], () =>
      startSupportChat(
        t.ctx,
        { orgId: org.id, actor: james, scopes: new Set(Scope), tokenId: null },
        {
          departmentId: department.id,
          question: 'Can you help me with the payment process?',
          uvid: 'c9db3d6f-c77a-463b-bfd3-01c771b2a96b-1',
        },
      ),
    );
    const { token } = await issueToken(t.ctx, {
      orgId: org.id,
      actorId: patricia.id,
      name: 'salesiq',
      scopes: ['support:write'],
    });

    t.clock.set(1612943681060);
    const res = await pickup('zylker', '19000000033103', token);
    assert.equal(res.status, 200, res.raw);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    // chat_id is the one value Parley makes itself: LD_<conversation id>_<start time in seconds>.
    assert.equal(res.body.data.chat_id, 'LD_19000000033103_1612943653');
    assert.deepEqual(
      { ...res.body, data: { ...res.body.data, chat_id: PAGE_SAMPLE.data.chat_id } },
      PAGE_SAMPLE,
    );

    // Observed through /v1: the same chat, connected, Patricia its owner and a member.
    const pat: Person = {
      actor: patricia,
      token: (
        await issueToken(t.ctx, { orgId: org.id, actorId: patricia.id, name: 'all', scopes: [...Scope] })
      ).token,
    };
    const native = await call(t.app, pat.token, 'GET', '/v1/support/chats/19000000033103');
    assert.equal(native.body.state, 'connected');
    assert.equal(native.body.owner.id, ZYLKER.patriciaId);
    assert.equal(native.body.reference_id, '151');
    assert.equal(native.body.attended_at, new Date(1612943681060).toISOString());
    const conv = await call(t.app, pat.token, 'GET', '/v1/conversations/19000000033103');
    assert.equal(conv.status, 200);
    assert.equal(conv.body.me.role, 'owner');
    // And a second pickup, through either surface, names her.
    const again = await pickup('zylker', '19000000033103', token);
    assertVendorError(again, 409, 1409, 'chat_not_waiting');
    assert.deepEqual(again.body.error.details.owner, { id: ZYLKER.patriciaId, name: 'Patricia' });
    assert.match(again.body.error.message, /Patricia/);
    assert.equal(again.body.url, '/api/v2/zylker/conversations/19000000033103/pickup');
    t.clock.set(Date.UTC(2026, 10, 21, 9, 0, 0));
  });
});

describe('Pick up Chat: errors in the vendor shape', () => {
  async function setup() {
    const o = await makeOrg(t.ctx);
    const op = await o.user('operator', 'Olga');
    const sales = await makeDepartment(t.ctx, o, 'Sales');
    const visitor = await o.visitor('Vic');
    const chat = await startWaitingChat(t.ctx, o, visitor.actor, sales);
    return { o, op, sales, visitor, chat };
  }

  test('authentication and scope', async () => {
    const { o, op, chat } = await setup();
    const slug = o.org.slug;
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Basic dXNlcjpw' },
      { authorization: 'Zoho-oauthtoken pk_nope' },
    ];
    for (const headers of attempts) {
      const res = await pickup(slug, chat.id, null, headers);
      assertVendorError(res, 401, 1002);
      assert.equal(res.body.error.message, 'Invalid authorization header.');
      assert.match(String(res.headers['www-authenticate']), /Zoho-oauthtoken/);
    }
    const bearer = await call(t.app, op.token, 'POST', `${base(slug)}/${chat.id}/pickup`);
    assert.equal(bearer.status, 200, 'Bearer works as well as Zoho-oauthtoken');
    const chat2 = await startWaitingChat(
      t.ctx,
      o,
      (await o.visitor()).actor,
      await makeDepartment(t.ctx, o, 'B'),
    );
    const lacking = await o.token(
      op.actor,
      Scope.filter((s) => s !== 'support:write'),
    );
    const res = await pickup(slug, chat2.id, lacking);
    assertVendorError(res, 403, 1403, 'insufficient_scope');
    assert.match(res.body.error.message, /SalesIQ\.conversations\.UPDATE/);
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${chat2.id}`)).body.state,
      'waiting',
    );
  });

  test('portal, ids, paths and methods', async () => {
    const { o, op, chat } = await setup();
    const other = await makeOrg(t.ctx);
    assertVendorError(await pickup('no-such-portal', chat.id, op.token), 404, 1005, 'portal_not_found');
    const foreign = await pickup(other.org.slug, chat.id, op.token);
    assertVendorError(foreign, 404, 1005, 'portal_not_found');
    assert.equal(foreign.body.error.message, 'Invalid portal or wrong screen name.');
    assertVendorError(await pickup(o.org.slug, '123456', op.token), 404, 1404, 'conversation_not_found');
    const bad = await pickup(o.org.slug, 'abc', op.token);
    assertVendorError(bad, 400, 1400, 'invalid_request');
    assert.equal(bad.body.error.param, 'conversation_id');
    const otherChat = await startWaitingChat(
      t.ctx,
      other,
      (await other.visitor()).actor,
      await makeDepartment(t.ctx, other, 'X'),
    );
    assertVendorError(await pickup(o.org.slug, otherChat.id, op.token), 404, 1404, 'conversation_not_found');
    const wrongMethod = await call(t.app, op.token, 'GET', `${base(o.org.slug)}/${chat.id}/pickup`);
    assertVendorError(wrongMethod, 405, 1004, 'method_not_allowed');
    assert.equal(wrongMethod.headers.allow, 'POST');
    assertVendorError(
      await call(t.app, op.token, 'GET', '/compat/salesiq/api/v2/x/nothing'),
      404,
      1006,
      'route_not_found',
    );
    const html = await pickup(o.org.slug, chat.id, op.token, { accept: 'text/html' });
    assertVendorError(html, 406, 1406, 'not_acceptable');
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/support/chats/${chat.id}`)).body.state,
      'waiting',
    );
  });

  test('who may pick up, and binned chats', async () => {
    const { o, op, chat } = await setup();
    const member = await o.user('member');
    const visitor = await o.visitor();
    assertVendorError(await pickup(o.org.slug, chat.id, member.token), 404, 1404, 'conversation_not_found');
    assertVendorError(await pickup(o.org.slug, chat.id, visitor.token), 404, 1404, 'conversation_not_found');
    // Through /v1 the chat is picked up, ended and deleted: the dialect no longer sees it.
    await call(t.app, op.token, 'POST', `/v1/support/chats/${chat.id}/pickup`);
    const second = await o.user('operator', 'Sam');
    const taken = await pickup(o.org.slug, chat.id, second.token);
    assertVendorError(taken, 409, 1409, 'chat_not_waiting');
    assert.deepEqual(taken.body.error.details.owner, { id: op.actor.id, name: 'Olga' });
    await call(t.app, op.token, 'POST', `/v1/support/chats/${chat.id}/end`);
    await call(t.app, op.token, 'POST', '/v1/conversations/delete', { ids: [chat.id] });
    assertVendorError(await pickup(o.org.slug, chat.id, second.token), 404, 1404, 'conversation_not_found');
  });

  test('race through the dialect: one winner, the rest 409 naming it', async () => {
    const { o, chat } = await setup();
    const ops: Actor[] = [];
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++) {
      const p = await o.user('operator', `Op${i}`);
      ops.push(p.actor);
      tokens.push(p.token);
    }
    const results = await Promise.all(tokens.map((tk) => pickup(o.org.slug, chat.id, tk)));
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1);
    const owner = winners[0]!.body.data.owner;
    for (const r of results.filter((x) => x.status !== 200)) {
      assertVendorError(r, 409, 1409, 'chat_not_waiting');
      assert.equal(r.body.error.details.owner.id, owner.id);
    }
  });
});
