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
 *
 * Publishing is coalesced: the events published during one turn of the event loop go out at
 * its end (setImmediate) as one PUBLISH per org, all in one write to Redis (a pipeline). Under
 * load many sends finish in the same turn (their database answers arrive together), and a
 * socket write is one of the costliest things a send does on a VM (docs/performance.md,
 * "Fewer writes per send"): one write for the turn instead of one per send, and on every node
 * one message to parse instead of one per send. Order within an org is kept (one connection,
 * queued in order). ioredis's own auto-pipelining batches per process.nextTick, which under
 * load is one command per batch (each database answer runs in its own callback), so the bus
 * batches by turn itself.
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
  /** Events published in this turn of the event loop, by org, in order; and their callers. */
  let queued = new Map<string, DomainEvent[]>();
  let waiting: (() => void)[] = [];
  let scheduled = false;
  const flush = async () => {
    const batch = queued;
    const done = waiting;
    queued = new Map();
    waiting = [];
    scheduled = false;
    try {
      if (batch.size === 0) return;
      if (batch.size === 1) {
        const [[orgId, events]] = [...batch] as [[string, DomainEvent[]]];
        await publisher.publish(channelOf(orgId), JSON.stringify(events));
      } else {
        const pipeline = publisher.pipeline();
        for (const [orgId, events] of batch) pipeline.publish(channelOf(orgId), JSON.stringify(events));
        // exec answers [error, result] per command; a failed command is reported like a failed publish.
        for (const [err] of (await pipeline.exec()) ?? []) if (err) onError(err);
      }
    } catch (err) {
      onError(err);
    } finally {
      for (const resolve of done) resolve();
    }
  };
  return {
    publish(orgId, events) {
      if (events.length === 0) return Promise.resolve();
      const list = queued.get(orgId);
      if (list) list.push(...events);
      else queued.set(orgId, [...events]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
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
      // What this turn published still goes out (the connections close after the bus).
      if (scheduled) await flush();
      handlers.clear();
      watchers.clear();
    },
  };
}
