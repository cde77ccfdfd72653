/**
 * End to end: `parley seed demo` and `parley serve` as real processes on a real port, driven
 * over HTTP by the generated typed client. Every call below is type-checked against
 * src/client/schema.d.ts, so `npm run typecheck` also proves the generated types fit the API.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import createClient from 'openapi-fetch';
import { createParleyClient, type ParleyClient, type paths } from '../../src/client/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const run = promisify(execFile);

let dir: string;
let server: ChildProcess | undefined;
let serverLog = '';
let baseUrl: string;
let token: string;
let client: ParleyClient;

/** The environment of the child processes: ours, with the database in the temp directory. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: '', SQLITE_PATH: join(dir, 'parley.db'), ...extra };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const address = srv.address();
  assert.ok(address && typeof address === 'object');
  srv.close();
  await once(srv, 'close');
  return address.port;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `server exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${serverLog}`,
      );
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${serverLog}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-e2e-'));

  const seeded = await run(process.execPath, [MAIN, 'seed', 'demo'], {
    cwd: ROOT,
    env: env(),
    timeout: 30_000,
  });
  const match = /^\s*token:\s+(pk_\S+)\s*$/m.exec(seeded.stdout);
  assert.ok(match, `no token in the output of parley seed demo:\n${seeded.stdout}${seeded.stderr}`);
  token = match[1]!;

  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [MAIN, 'serve'], {
    cwd: ROOT,
    env: env({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    serverLog += chunk;
  });
  server.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    serverLog += chunk;
  });
  await waitForHealth(baseUrl, server);
  client = createParleyClient({ baseUrl, token });
});

after(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    const timer = setTimeout(() => server?.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
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
    assert.equal(got.data.me.role, 'owner');
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
