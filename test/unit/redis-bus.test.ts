/**
 * The Redis event bus against a real Redis: what one turn of the event loop publishes goes out
 * as one message per org, in order, and a publish resolves once Redis took it; a Redis that is
 * gone is reported and never leaves a caller waiting. Needs TEST_REDIS_URL; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import type { DomainEvent } from '../../src/domain/events.ts';
import { createRedisBus } from '../../src/realtime/redis-bus.ts';

const redisUrl = process.env.TEST_REDIS_URL;
const skip = redisUrl ? false : 'TEST_REDIS_URL is needed: these tests talk to a real Redis';
const opened: Redis[] = [];
const open = () => {
  const r = new Redis(redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 0 });
  opened.push(r);
  return r;
};
after(() => {
  for (const r of opened) r.disconnect();
});

const event = (orgId: string, seq: number): DomainEvent => ({
  orgId,
  seq,
  type: 'message.created',
  conversationId: 'c1',
  recipients: [],
  payload: { n: seq },
  createdAt: 0,
});

test('one turn of publishes: one message per org, in order; each publish resolves', { skip }, async () => {
  const [a, b] = [`org-${randomUUID()}`, `org-${randomUUID()}`];
  const listener = open();
  await listener.connect();
  const got: { channel: string; seqs: number[] }[] = [];
  listener.on('message', (channel: string, message: string) =>
    got.push({ channel, seqs: (JSON.parse(message) as DomainEvent[]).map((e) => e.seq) }),
  );
  await listener.subscribe(`parley:events:${a}`, `parley:events:${b}`);

  const publisher = open();
  await publisher.connect();
  const errors: unknown[] = [];
  const bus = createRedisBus(publisher, open(), (err) => errors.push(err));
  // Five publishes in the same turn: three of org a, two of org b.
  await Promise.all([
    bus.publish(a, [event(a, 1)]),
    bus.publish(b, [event(b, 10)]),
    bus.publish(a, [event(a, 2), event(a, 3)]),
    bus.publish(b, [event(b, 11)]),
    bus.publish(a, [event(a, 4)]),
  ]);
  // A publish in a later turn is a message of its own.
  await bus.publish(a, [event(a, 5)]);
  for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(errors, []);
  assert.deepEqual(got, [
    { channel: `parley:events:${a}`, seqs: [1, 2, 3, 4] },
    { channel: `parley:events:${b}`, seqs: [10, 11] },
    { channel: `parley:events:${a}`, seqs: [5] },
  ]);
});

test('a publish to a Redis that is gone is reported and resolves', { skip }, async () => {
  const publisher = open();
  await publisher.connect();
  publisher.disconnect();
  const errors: unknown[] = [];
  const bus = createRedisBus(publisher, open(), (err) => errors.push(err));
  await Promise.all([bus.publish('x', [event('x', 1)]), bus.publish('y', [event('y', 1)])]);
  await bus.publish('x', [event('x', 2)]);
  assert.ok(errors.length >= 2, `errors reported: ${errors.length}`);
  // Nothing published: nothing to resolve, at once.
  await bus.publish('x', []);
});
