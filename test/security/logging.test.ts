import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { PROTOCOL_ERRORS_LOGGED_PER_MINUTE } from '../../src/realtime/stream-route.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { makeOrg, type TestOrg } from '../support/factories.ts';
import { connectStream } from '../support/stream.ts';

/**
 * What a client can make the server log: never a token it sent in the URL, and never an
 * error-level line (with a stack) for its own breach of the WebSocket protocol; those are
 * warnings, and only so many a minute.
 */

const lines: Record<string, any>[] = [];
let t: TestApp;
let o: TestOrg;
let base: string;

before(async () => {
  t = await buildTestApp(
    { LOG_LEVEL: 'info' },
    { logStream: { write: (line: string) => void lines.push(JSON.parse(line)) } },
  );
  o = await makeOrg(t.ctx);
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(() => t.close());

test('a token in the query string is not in the log: the URL shows [redacted]', async () => {
  const from = lines.length;
  const client = await connectStream(base, { token: o.owner.token, via: 'query', since: 0 });
  await client.next((f) => f.type === 'ready');
  await client.close();
  const res = await fetch(`${base}/v1/me?access_token=${o.owner.token}&token=abc123secret&limit=5`);
  await res.arrayBuffer();
  const logged = lines.slice(from);
  const text = JSON.stringify(logged);
  assert.ok(!text.includes(o.owner.token), 'the token is not in any log line');
  assert.ok(!text.includes('abc123secret'), 'nor another secret parameter');
  const urls = logged.map((l) => l.req?.url).filter(Boolean);
  assert.ok(
    urls.some((u: string) => u.startsWith('/v1/stream?') && u.includes('access_token=[redacted]')),
    `the stream's request is logged, redacted: ${urls.join(' ')}`,
  );
  assert.ok(
    urls.some((u: string) => u.includes('access_token=[redacted]&token=[redacted]&limit=5')),
    `other parameters are kept: ${urls.join(' ')}`,
  );
});

/** Opens a good socket, then sends a frame with the reserved opcode 13; resolves when the server closes it. */
async function badFrame(): Promise<void> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${o.owner.token}` },
  });
  ws.on('error', () => undefined);
  await once(ws, 'open');
  const closed = once(ws, 'close');
  // FIN + opcode 13 (reserved), masked, empty payload.
  (ws as unknown as { _socket: import('node:net').Socket })._socket.write(
    Buffer.from([0x8d, 0x80, 1, 2, 3, 4]),
  );
  await closed;
}

test('a malformed frame after a good upgrade is logged at warn without a stack, rate-limited', async () => {
  const from = lines.length;
  const n = PROTOCOL_ERRORS_LOGGED_PER_MINUTE + 5;
  for (let i = 0; i < n; i++) await badFrame();
  // The server's side of the last socket may log a moment after the client saw the close.
  await new Promise((r) => setTimeout(r, 100));
  const logged = lines.slice(from);
  const severe = logged.filter((l) => l.level >= 50);
  assert.deepEqual(severe, [], 'no error-level line');
  const warnings = logged.filter((l) => l.msg === 'stream client sent an invalid frame');
  assert.ok(warnings.length >= 1, 'the protocol error is logged');
  assert.ok(warnings.length <= PROTOCOL_ERRORS_LOGGED_PER_MINUTE, `at most the budget: ${warnings.length}`);
  for (const w of warnings) {
    assert.equal(w.level, 40);
    assert.equal(w.code, 'WS_ERR_INVALID_OPCODE');
    assert.ok(!JSON.stringify(w).includes('"stack"'), 'no stack trace');
  }
  // The server still serves the stream.
  const client = await connectStream(base, { token: o.owner.token });
  await client.next((f) => f.type === 'ready');
  await client.close();
});
