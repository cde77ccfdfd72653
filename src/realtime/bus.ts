import type { DomainEvent } from '../domain/events.ts';

/**
 * The event bus: committed events go out to every node's realtime gateway. In process by
 * default; through Redis pub/sub when REDIS_URL is set (realtime/redis-bus.ts), so a socket on
 * one node receives what was written through another.
 */
export interface EventBus {
  /** Publishes committed (or ephemeral, seq 0) events of one org, in their order. */
  publish(orgId: string, events: readonly DomainEvent[]): Promise<void>;
  /** Receives the events of the orgs this node watches; returns an unsubscribe function. */
  subscribe(handler: (event: DomainEvent) => void): () => void;
  /** Starts receiving an org's events on this node (one subscription per org, counted). */
  watch(orgId: string): Promise<void>;
  /** Stops receiving an org's events once nobody on this node watches it. */
  unwatch(orgId: string): Promise<void>;
  close(): Promise<void>;
}

/** The in-process bus: what one node publishes, the same node receives. */
export function createMemoryBus(): EventBus {
  const handlers = new Set<(event: DomainEvent) => void>();
  return {
    async publish(_orgId, events) {
      for (const e of events) for (const h of handlers) h(e);
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async watch() {},
    async unwatch() {},
    async close() {
      handlers.clear();
    },
  };
}
