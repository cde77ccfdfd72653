import type { Redis } from 'ioredis';
import type { DomainEvent } from '../domain/events.ts';
import type { EventBus } from './bus.ts';

const channelOf = (orgId: string) => `parley:events:${orgId}`;

/**
 * The event bus over Redis pub/sub: one channel per org, one subscription per org per node
 * (counted, so many sockets of one org cost one subscription), and local fan-out by the
 * gateway. A batch of events is one message. Pub/sub delivers at most once; a message lost
 * while Redis is away shows as a gap in the org's sequence, which the gateway fills from the
 * database, so no committed event is lost to a client.
 */
export function createRedisBus(
  publisher: Redis,
  subscriber: Redis,
  onError: (err: unknown) => void,
): EventBus {
  const handlers = new Set<(event: DomainEvent) => void>();
  const watchers = new Map<string, number>();
  subscriber.on('message', (_channel: string, message: string) => {
    let events: DomainEvent[];
    try {
      events = JSON.parse(message) as DomainEvent[];
    } catch (err) {
      onError(err);
      return;
    }
    for (const e of events) for (const h of handlers) h(e);
  });
  return {
    async publish(orgId, events) {
      try {
        await publisher.publish(channelOf(orgId), JSON.stringify(events));
      } catch (err) {
        onError(err);
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async watch(orgId) {
      const n = watchers.get(orgId) ?? 0;
      watchers.set(orgId, n + 1);
      if (n === 0) await subscriber.subscribe(channelOf(orgId)).catch(onError);
    },
    async unwatch(orgId) {
      const n = watchers.get(orgId) ?? 0;
      if (n <= 1) {
        watchers.delete(orgId);
        await subscriber.unsubscribe(channelOf(orgId)).catch(onError);
      } else watchers.set(orgId, n - 1);
    },
    async close() {
      handlers.clear();
      watchers.clear();
    },
  };
}
