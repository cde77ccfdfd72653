import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { nativeScopeOf, VENDOR_SCOPES, type VendorScope } from '../../../../src/auth/scopes.ts';
import { Scope } from '../../../../src/domain/scopes.ts';
import { issueToken } from '../../../../src/services/tokens.ts';
import { buildTestApp, call, type TestApp } from '../../../support/app.ts';
import { makeOrg } from '../../../support/factories.ts';
import { useTestApp } from '../../../support/fixtures.ts';
import { seedConversationWithId, seedMessageWithId, seedToken } from '../../../support/seeded.ts';
import { assertSameShape } from '../../../support/shape.ts';

// The page's own example token, chat id and message (seed 003).
const PAGE_TOKEN = '1000.41d9xxxxxxxxxxxxxxxxxxxxxxxxc2d1.8fccxxxxxxxxxxxxxxxxxxxxxxxx125f';
const PAGE_CHAT = '987000000654321';
const PAGE_MSG_TIME = 1573708648341;
const PAGE_MSG_ID = '375412769224';
const BASE = '/compat/cliq/api/v2';

// Response examples from the page, for their shape.
const SAMPLE_CHATS = {
  chats: [
    {
      name: 'Ryan West',
      creation_time: '2019-10-15T03:37:28-07:00',
      creator_id: '631830848',
      last_modified_time: '2019-10-15T03:37:28-07:00',
      removed: false,
      recipients_summary: [{ user_id: '631830848', name: 'Ryan West' }],
      chat_type: 'dm',
      chat_id: '2230748224630350194',
      last_message_info: {
        sender_id: '631830849',
        message_type: 'text',
        styles: { highlight: true },
        time: '2019-09-12T00:35:18-07:00',
        text: 'https://cliq.zoho.com/channels/marketing',
        bot: { name: 'Zia', image_url: 'https://img.zohostatic.com/x.png' },
        sender_name: 'Scott Fisher',
      },
      pinned: false,
      participant_count: 2,
    },
  ],
};
const SAMPLE_MEMBERS = {
  members: [{ user_id: '431930546', email_id: 'olivia.palmer@zylcal.com', name: 'Olivia - Content Writer' }],
};
const SAMPLE_PIN = {
  data: {
    expiry_time: -1,
    creator: { name: 'Scott Fisher', id: '690440148' },
    message: {
      msg: 'meeting at 4',
      sender: '690440148',
      lmsgtime: '1573708493055',
      msguid: '1573708648341%20375412769224',
      time: '1573708648341',
      dname: 'Scott Fisher',
    },
    created_time: 1573708712431,
    last_modified_time: 1573708712431,
    chat_id: 'CT_2243173626687865223_P87610291-C4',
  },
};
const SAMPLE_GET_PIN = { type: 'stickymessage', ...SAMPLE_PIN };
// Message styles and bot details are not kept by Parley, so they are omitted (docs/compat.md).
const OMITTED = ['$.chats[0].last_message_info.styles', '$.chats[0].last_message_info.bot'];
const CATALOGUE_400 =
  'The request cannot be performed. Usually because of malformed parameter or missing parameter.';

const t = useTestApp();

/**
 * The page's world, in an app of its own (the example ids and token are fixed): the example
 * token's user in the example group chat, with the example message, and a direct chat.
 */
async function pageWorld() {
  const tw = await buildTestApp();
  const o = await makeOrg(tw.ctx);
  const scott = await o.user('member', 'Scott Fisher');
  const ryan = await o.user('member', 'Ryan West');
  await seedToken(tw.ctx, scott.actor, PAGE_TOKEN);
  tw.clock.set(PAGE_MSG_TIME - 60_000);
  await seedConversationWithId(tw.ctx, {
    id: PAGE_CHAT,
    orgId: o.org.id,
    kind: 'group',
    title: 'Feature review',
    members: [scott.actor, ryan.actor],
    now: tw.clock.now(),
  });
  await seedMessageWithId(tw.ctx, {
    id: PAGE_MSG_ID,
    orgId: o.org.id,
    conversationId: PAGE_CHAT,
    senderId: scott.actor.id,
    text: 'meeting at 4',
    createdAt: PAGE_MSG_TIME,
  });
  tw.clock.set(PAGE_MSG_TIME + 60_000);
  const dm = await call(tw.app, scott.token, 'POST', '/v1/conversations', {
    kind: 'direct',
    member_ids: [ryan.actor.id],
  });
  await call(tw.app, ryan.token, 'POST', `/v1/conversations/${dm.body.id}/messages`, {
    text: 'https://cliq.zoho.com/channels/marketing',
  });
  const page = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => call(tw.app, null, method, url, body, { authorization: `Bearer ${PAGE_TOKEN}`, ...headers });
  return { tw, o, scott, ryan, dm: dm.body.id as string, page };
}

type PageWorld = Awaited<ReturnType<typeof pageWorld>>;

/** Runs `fn` in a fresh page world and closes it however `fn` ends. */
async function withPageWorld(fn: (w: PageWorld) => Promise<void>): Promise<void> {
  const w = await pageWorld();
  try {
    await fn(w);
  } finally {
    await w.tw.close();
  }
}

describe('the page examples, replayed', () => {
  test('every request example answers as the page documents', async () => {
    await withPageWorld(async ({ scott, ryan, dm, page }) => {
      const chats = await page('GET', `${BASE}/chats`);
      assert.equal(chats.status, 200);
      assert.match(String(chats.headers['content-type']), /^application\/json/);
      assertSameShape(chats.body, SAMPLE_CHATS, OMITTED);
      const c = chats.body.chats[0];
      assert.equal(c.chat_id, dm);
      assert.equal(c.chat_type, 'dm');
      assert.equal(c.name, 'Ryan West');
      assert.deepEqual(c.recipients_summary, [{ user_id: ryan.actor.id, name: 'Ryan West' }]);
      assert.match(c.creation_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
      assert.equal(c.last_message_info.sender_name, 'Ryan West');
      assert.equal(c.participant_count, 2);
      assert.equal(chats.headers['ratelimit-limit'], '20');

      const members = await page('GET', `${BASE}/chats/${PAGE_CHAT}/members`);
      assert.equal(members.status, 200);
      assertSameShape(members.body, SAMPLE_MEMBERS);
      assert.deepEqual(
        members.body.members.map((m: { user_id: string }) => m.user_id).sort(),
        [scott.actor.id, ryan.actor.id].sort(),
      );

      for (const action of ['mute', 'unmute']) {
        const res = await page('POST', `${BASE}/chats/${PAGE_CHAT}/${action}`);
        assert.equal(res.status, 204, action);
        assert.equal(res.raw, '');
      }

      // The request example's placeholder body lacks the required id.
      const placeholder = await page('POST', `${BASE}/chats/${PAGE_CHAT}/stickymessage`, {
        field1: 'value1',
        field2: 'value2',
      });
      assert.equal(placeholder.status, 400);
      assert.deepEqual(placeholder.body, { message: CATALOGUE_400 });
      // The Body Parameters example.
      const pin = await page('POST', `${BASE}/chats/${PAGE_CHAT}/stickymessage`, {
        id: '1573708648341_375412769224',
        expiry_time: 1748946453794,
        notify: false,
      });
      assert.equal(pin.status, 200);
      assertSameShape(pin.body, SAMPLE_PIN);
      assert.equal(pin.body.data.message.msguid, '1573708648341%20375412769224');
      assert.equal(pin.body.data.message.time, '1573708648341');
      assert.equal(pin.body.data.message.msg, 'meeting at 4');
      assert.equal(pin.body.data.message.dname, 'Scott Fisher');
      assert.equal(pin.body.data.expiry_time, 1748946453794);
      assert.equal(pin.body.data.chat_id, PAGE_CHAT);

      const got = await page('GET', `${BASE}/chats/${PAGE_CHAT}/stickymessage`);
      assert.equal(got.status, 200);
      assertSameShape(got.body, SAMPLE_GET_PIN);
      assert.equal(got.body.type, 'stickymessage');

      const unpin = await page('DELETE', `${BASE}/chats/${PAGE_CHAT}/stickymessage`);
      assert.equal(unpin.status, 204);

      const leave = await page('POST', `${BASE}/chats/${PAGE_CHAT}/leave`);
      assert.equal(leave.status, 204);
      assert.equal((await page('GET', `${BASE}/chats/${PAGE_CHAT}/members`)).status, 404);
    });
  });

  test('the Zoho-oauthtoken scheme works like Bearer', async () => {
    await withPageWorld(async ({ tw }) => {
      const res = await call(tw.app, null, 'GET', `${BASE}/chats`, undefined, {
        authorization: `Zoho-oauthtoken ${PAGE_TOKEN}`,
      });
      assert.equal(res.status, 200);
    });
  });
});

describe('the catalogue of errors', () => {
  test('401, 403, 404, 405, 406 and 400 in the page shape', async () => {
    await withPageWorld(async ({ tw, o, dm, page }) => {
      const cases: [number, Promise<{ status: number; body: any }>][] = [
        [401, call(tw.app, null, 'GET', `${BASE}/chats`)],
        [401, call(tw.app, 'pk_wrong', 'GET', `${BASE}/chats`)],
        [404, page('GET', `${BASE}/nothing`)],
        [404, page('GET', `${BASE}/chats/123456789/members`)],
        [404, call(tw.app, (await o.user()).token, 'GET', `${BASE}/chats/${dm}/members`)],
        [405, page('PUT' as 'GET', `${BASE}/chats`)],
        [406, page('GET', `${BASE}/chats`, undefined, { accept: 'text/html' })],
        [400, page('GET', `${BASE}/chats?limit=101`)],
        [400, page('GET', `${BASE}/chats?limit=abc`)],
        [400, page('GET', `${BASE}/chats?modified_before=yesterday`)],
        [400, page('GET', `${BASE}/chats?drafts=maybe`)],
        [400, page('GET', `${BASE}/chats/${dm}/members?fields=password`)],
        [400, page('GET', `${BASE}/chats/CT_2243173626687865223_P87610291-C4/members`)],
        [400, page('POST', `${BASE}/chats/${dm}/stickymessage`, { id: 'not-a-msguid!' })],
        [
          400,
          page('POST', `${BASE}/chats/${dm}/stickymessage`, '{bad json', {
            'content-type': 'application/json',
          }),
        ],
        [
          404,
          page('POST', `${BASE}/chats/${dm}/stickymessage`, { id: `${PAGE_MSG_TIME + 1}_${PAGE_MSG_ID}` }),
        ],
        [404, page('GET', `${BASE}/chats/${dm}/stickymessage`)],
        [403, page('POST', `${BASE}/chats/${dm}/leave`)],
      ];
      for (const [status, pending] of cases) {
        const res = await pending;
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.deepEqual(Object.keys(res.body), ['message']);
        assert.equal(typeof res.body.message, 'string');
      }
    });
  });

  test('every endpoint refuses a token without its documented scope', async () => {
    await withPageWorld(async ({ tw, scott, page }) => {
      const endpoints: [VendorScope, 'GET' | 'POST' | 'DELETE', string, unknown?][] = [
        ['ZohoCliq.Chats.READ', 'GET', `${BASE}/chats`],
        ['ZohoCliq.Chats.READ', 'GET', `${BASE}/chats/${PAGE_CHAT}/members`],
        ['ZohoCliq.Chats.UPDATE', 'POST', `${BASE}/chats/${PAGE_CHAT}/mute`],
        ['ZohoCliq.Chats.UPDATE', 'POST', `${BASE}/chats/${PAGE_CHAT}/unmute`],
        [
          'ZohoCliq.Chats.CREATE',
          'POST',
          `${BASE}/chats/${PAGE_CHAT}/stickymessage`,
          { id: `${PAGE_MSG_TIME}_${PAGE_MSG_ID}` },
        ],
        ['ZohoCliq.Chats.READ', 'GET', `${BASE}/chats/${PAGE_CHAT}/stickymessage`],
        ['ZohoCliq.Chats.DELETE', 'DELETE', `${BASE}/chats/${PAGE_CHAT}/stickymessage`],
        ['ZohoCliq.Chats.UPDATE', 'POST', `${BASE}/chats/${PAGE_CHAT}/leave`],
      ];
      const o = { token: async (scopes: Scope[]) => await makeOrgToken(tw, scott.actor, scopes) };
      for (const [vendor, method, url, body] of endpoints) {
        const lacking = await o.token(Scope.filter((s) => s !== nativeScopeOf(vendor)));
        const res = await call(tw.app, lacking, method, url, body);
        assert.equal(res.status, 403, `${method} ${url} without ${vendor}`);
        assert.equal(res.headers['x-parley-error-code'], 'insufficient_scope');
      }
      // A token issued with just the vendor scope's native mapping is enough.
      const onlyRead = await o.token([VENDOR_SCOPES['ZohoCliq.Chats.READ']]);
      assert.equal((await call(tw.app, onlyRead, 'GET', `${BASE}/chats`)).status, 200);
      // Nothing changed: still a member, nothing pinned.
      const members = await page('GET', `${BASE}/chats/${PAGE_CHAT}/members`);
      assert.equal(members.body.members.length, 2);
    });
  });
});

async function makeOrgToken(tw: TestApp, actor: { id: string; orgId: string }, scopes: Scope[]) {
  return (await issueToken(tw.ctx, { orgId: actor.orgId, actorId: actor.id, name: 'scoped', scopes })).token;
}

describe('cross-surface', () => {
  test('what the dialect does, /v1 sees, and the reverse', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user('member', 'Bob');
    const g = await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'g',
      member_ids: [bob.actor.id],
    });
    const m = await call(t.app, bob.token, 'POST', `/v1/conversations/${g.body.id}/messages`, {
      text: 'pin me',
    });
    assert.equal((await call(t.app, bob.token, 'POST', `${BASE}/chats/${g.body.id}/mute`)).status, 204);
    assert.equal((await call(t.app, bob.token, 'GET', `/v1/conversations/${g.body.id}`)).body.muted, true);
    await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${g.body.id}/pin`, { message_id: m.body.id });
    const viaCliq = await call(t.app, bob.token, 'GET', `${BASE}/chats/${g.body.id}/stickymessage`);
    assert.equal(viaCliq.body.data.message.msguid, `${Date.parse(m.body.created_at)}%20${m.body.id}`);
    // the msguid as the responses show it pins too, and so does a bare id
    for (const id of [viaCliq.body.data.message.msguid, m.body.id]) {
      assert.equal(
        (await call(t.app, bob.token, 'POST', `${BASE}/chats/${g.body.id}/stickymessage`, { id })).status,
        200,
      );
    }
    assert.equal((await call(t.app, bob.token, 'POST', `${BASE}/chats/${g.body.id}/leave`)).status, 204);
    assert.equal(
      (await call(t.app, o.owner.token, 'GET', `/v1/conversations/${g.body.id}`)).body.participant_count,
      1,
    );
  });

  test('list filters: drafts, modified_before/after, limit', async () => {
    const o = await makeOrg(t.ctx);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      const u = await o.user();
      ids.push(
        (
          await call(t.app, o.owner.token, 'POST', '/v1/conversations', {
            kind: 'direct',
            member_ids: [u.actor.id],
          })
        ).body.id,
      );
    }
    const mid = t.clock.now() - 1500;
    await call(t.app, o.owner.token, 'PUT', `/v1/conversations/${ids[0]}/draft`, { text: 'later' });
    const chatIds = async (q: string) =>
      (await call(t.app, o.owner.token, 'GET', `${BASE}/chats${q}`)).body.chats.map(
        (c: { chat_id: string }) => c.chat_id,
      );
    assert.deepEqual(await chatIds(''), [...ids].reverse());
    assert.deepEqual(await chatIds('?limit=1'), [ids[2]]);
    assert.deepEqual(await chatIds('?drafts=true'), [ids[0]]);
    assert.deepEqual(await chatIds(`?modified_before=${mid}`), [ids[0]]);
    assert.deepEqual(await chatIds(`?modified_after=${new Date(mid).toISOString()}`), [ids[2], ids[1]]);
    // groups are not direct chats
    await call(t.app, o.owner.token, 'POST', '/v1/conversations', { kind: 'group', title: 'not a dm' });
    assert.equal((await chatIds('')).length, 3);
  });
});

describe('the documented rate limit: 20 a minute per user, then a 10-minute lock', () => {
  test('the 21st call answers 429, and so does a call after the minute, until the lock ends', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const carol = await o.user();
    mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 21, 10, 0, 0) });
    try {
      for (let i = 1; i <= 20; i++) {
        const res = await call(t.app, bob.token, 'GET', `${BASE}/chats`);
        assert.equal(res.status, 200, `call ${i}`);
        assert.equal(res.headers['ratelimit-remaining'], String(20 - i));
        assert.equal(res.headers['ratelimit-limit'], '20');
        assert.equal(res.headers['ratelimit-policy'], '20;w=60');
      }
      const over = await call(t.app, bob.token, 'GET', `${BASE}/chats`);
      assert.equal(over.status, 429);
      assert.deepEqual(over.body, { message: 'Too many requests within a certain time frame.' });
      assert.equal(over.headers['retry-after'], '600');
      assert.equal(over.headers['ratelimit-remaining'], '0');
      // another user is not affected
      assert.equal((await call(t.app, carol.token, 'GET', `${BASE}/chats`)).status, 200);
      // a minute later: still locked
      mock.timers.tick(61_000);
      const later = await call(t.app, bob.token, 'GET', `${BASE}/chats/${'1'}/members`);
      assert.equal(later.status, 429);
      assert.equal(later.headers['retry-after'], String(600 - 61));
      // the native API has its own budget
      const state = await call(t.app, bob.token, 'GET', '/v1/rate-limits');
      assert.equal(state.status, 200);
      const cliq = state.body.items.find((s: { group: string }) => s.group === 'cliq');
      assert.equal(cliq.limited, true);
      assert.deepEqual(cliq.policy, { points: 20, duration_s: 60, block_s: 600 });
      // the lock ends after 10 minutes
      mock.timers.tick(600_000 - 61_000 + 1000);
      assert.equal((await call(t.app, bob.token, 'GET', `${BASE}/chats`)).status, 200);
    } finally {
      mock.timers.reset();
    }
  });

  test('an org can set its own policy for a group, and reset it', async () => {
    const o = await makeOrg(t.ctx);
    const bob = await o.user();
    const set = await call(t.app, o.owner.token, 'PUT', '/v1/rate-limits/cliq', {
      points: 3,
      duration_s: 60,
      block_s: 0,
    });
    assert.equal(set.status, 200);
    mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 21, 11, 0, 0) });
    try {
      for (let i = 0; i < 3; i++)
        assert.equal((await call(t.app, bob.token, 'GET', `${BASE}/chats`)).status, 200);
      const over = await call(t.app, bob.token, 'GET', `${BASE}/chats`);
      assert.equal(over.status, 429);
      assert.ok(Number(over.headers['retry-after']) <= 60);
      mock.timers.tick(60_001);
      assert.equal((await call(t.app, bob.token, 'GET', `${BASE}/chats`)).status, 200);
    } finally {
      mock.timers.reset();
    }
    const reset = await call(t.app, o.owner.token, 'DELETE', '/v1/rate-limits/cliq');
    assert.deepEqual(reset.body, { points: 20, duration_s: 60, block_s: 600 });
    for (const body of [
      { points: 0, duration_s: 60, block_s: 0 },
      { points: 5, duration_s: 0, block_s: 0 },
      { points: 5 },
    ]) {
      assert.equal(
        (await call(t.app, o.owner.token, 'PUT', '/v1/rate-limits/cliq', body)).status,
        400,
        JSON.stringify(body),
      );
    }
    assert.equal(
      (
        await call(t.app, o.owner.token, 'PUT', '/v1/rate-limits/nope', {
          points: 5,
          duration_s: 5,
          block_s: 0,
        })
      ).status,
      400,
    );
    assert.equal(
      (await call(t.app, bob.token, 'PUT', '/v1/rate-limits/cliq', { points: 5, duration_s: 5, block_s: 0 }))
        .status,
      403,
    );
  });
});
