/**
 * End to end: `parley seed demo` and `parley serve` as real processes on a real port, driven
 * over HTTP by the generated typed client. Every call below is type-checked against
 * packages/client/src/schema.d.ts, so `npm run typecheck` also proves the generated types fit the API.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import createClient from 'openapi-fetch';
import { createParleyClient, type ParleyClient, type paths } from '../../src/client/index.ts';
import { type RunningServer, seedDemo, startServer } from '../support/server.ts';

let dir: string;
let server: RunningServer | undefined;
let baseUrl: string;
let token: string;
let client: ParleyClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
  const env = { ...process.env, DATABASE_URL: '', REDIS_URL: '', SQLITE_PATH: join(dir, 'parley.db') };
  token = await seedDemo(env);
  server = await startServer(env);
  baseUrl = server.url;
  client = createParleyClient({ baseUrl, token });
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the demo owner talks to a running server through the typed client', async (t) => {
  let conversationId = '';
  let messageId = '';

  await t.test('GET /v1/me names the demo owner', async () => {
    const { data, error } = await client.GET('/v1/me');
    assert.equal(error, undefined);
    assert.ok(data);
    assert.equal(data.actor.email, 'ada@demo.parley.local');
    assert.ok(data.scopes.includes('conversations:write'));
  });

  await t.test('GET /v1/conversations lists the three demo conversations', async () => {
    const { data } = await client.GET('/v1/conversations', { params: { query: { limit: 10 } } });
    assert.ok(data);
    assert.equal(data.items.length, 3);
    assert.deepEqual(data.items.map((c) => c.kind).sort(), ['channel', 'direct', 'group']);
    assert.equal(data.next_cursor, null);
  });

  await t.test('POST /v1/conversations creates a group with a demo member', async () => {
    const actors = await client.GET('/v1/actors', { params: { query: { kind: 'user' } } });
    assert.ok(actors.data);
    const bob = actors.data.items.find((a) => a.email === 'bob@demo.parley.local');
    assert.ok(bob, 'Bob is a demo member');

    const { data, response } = await client.POST('/v1/conversations', {
      body: { kind: 'group', title: 'E2E', member_ids: [bob.id] },
    });
    assert.equal(response.status, 201);
    assert.ok(data);
    assert.equal(data.kind, 'group');
    assert.equal(data.title, 'E2E');
    assert.equal(data.participant_count, 2);
    conversationId = data.id;

    const got = await client.GET('/v1/conversations/{id}', { params: { path: { id: conversationId } } });
    assert.ok(got.data);
    assert.equal(got.data.id, conversationId);
    assert.equal(got.data.me?.role, 'owner');
  });

  await t.test('a message sent twice with one Idempotency-Key is stored once', async () => {
    const send = () =>
      client.POST('/v1/conversations/{id}/messages', {
        params: { path: { id: conversationId }, header: { 'idempotency-key': 'e2e-message-1' } },
        body: { text: 'Hello from the end-to-end test' },
      });
    const first = await send();
    assert.equal(first.response.status, 201);
    assert.ok(first.data);
    messageId = first.data.id;
    assert.equal(first.data.client_id, 'e2e-message-1');

    const second = await send();
    assert.equal(second.response.status, 200);
    assert.ok(second.data);
    assert.equal(second.data.id, messageId);

    const history = await client.GET('/v1/conversations/{id}/messages', {
      params: { path: { id: conversationId } },
    });
    assert.ok(history.data);
    const sent = history.data.items.filter((m) => m.id === messageId);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.text, 'Hello from the end-to-end test');
    assert.equal(history.data.items.filter((m) => m.client_id === 'e2e-message-1').length, 1);
  });

  await t.test('PUT then GET /v1/conversations/{id}/pin', async () => {
    const put = await client.PUT('/v1/conversations/{id}/pin', {
      params: { path: { id: conversationId } },
      body: { message_id: messageId },
    });
    assert.equal(put.error, undefined);
    assert.ok(put.data);
    assert.equal(put.data.message.id, messageId);
    assert.equal(put.data.expiry_time, -1);

    const got = await client.GET('/v1/conversations/{id}/pin', { params: { path: { id: conversationId } } });
    assert.ok(got.data);
    assert.equal(got.data.conversation_id, conversationId);
    assert.equal(got.data.message.id, messageId);
    assert.equal(got.data.creator.name, 'Ada Owner');
  });

  await t.test('POST /v1/conversations/{id}/mute mutes it until unmuted', async () => {
    const { data } = await client.POST('/v1/conversations/{id}/mute', {
      params: { path: { id: conversationId } },
      body: {},
    });
    assert.ok(data);
    assert.equal(data.muted, true);
    assert.equal(data.muted_until, -1);
  });

  await t.test('a request without a token is refused with 401 missing_token', async () => {
    const anonymous = createClient<paths>({ baseUrl });
    const { data, error, response } = await anonymous.GET('/v1/me');
    assert.equal(response.status, 401);
    assert.equal(data, undefined);
    assert.ok(error);
    assert.equal(error.error.code, 'missing_token');
  });
});
