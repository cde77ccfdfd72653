/**
 * Rate limits shared by two Parley processes through Redis: the vendor's 20-a-minute budget
 * is one budget whichever node a user's requests reach. Needs TEST_REDIS_URL (CI sets it
 * when a Redis server answers); skipped otherwise, saying why.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningServer, seedDemo, startServer } from '../../../support/server.ts';

const redisUrl = process.env.TEST_REDIS_URL;
const skip = !redisUrl
  ? 'TEST_REDIS_URL is not set: the Redis-shared rate-limit test needs a Redis server'
  : process.env.TEST_DB === 'postgres'
    ? 'runs once, in the SQLite pass (the nodes share Redis, not the database under test)'
    : false;

let dir: string;
const nodes: RunningServer[] = [];
let token: string;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'parley-shared-rl-'));
  // Both nodes use one database file and one Redis; a fresh database means fresh org ids,
  // so the keys in Redis are new for every run.
  const env = { ...process.env, DATABASE_URL: '', SQLITE_PATH: join(dir, 'parley.db'), REDIS_URL: redisUrl };
  token = await seedDemo(env);
  nodes.push(await startServer(env), await startServer(env));
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('two nodes share one budget and one lock-out through Redis', { skip }, async () => {
  const get = (node: RunningServer) =>
    fetch(`${node.url}/compat/cliq/api/v2/chats`, { headers: { authorization: `Bearer ${token}` } });
  for (let i = 0; i < 20; i++) {
    const res = await get(nodes[i % 2]!);
    assert.equal(res.status, 200, `call ${i + 1} on node ${i % 2}`);
    assert.equal(res.headers.get('ratelimit-remaining'), String(19 - i));
  }
  for (const node of nodes) {
    const res = await get(node);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 590);
    assert.deepEqual(await res.json(), { message: 'Too many requests within a certain time frame.' });
  }
  // The native API's own budget is untouched.
  const me = await fetch(`${nodes[1]!.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200);
});
