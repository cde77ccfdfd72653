import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { DomainEvent } from './domain/events.ts';
import type { IdGenerator } from './domain/ids.ts';
import type { EventBus } from './realtime/bus.ts';
import type { EventSink } from './services/events.ts';
import { collectEventsOf, publishEvents } from './services/events.ts';
import type { RateLimits } from './services/rate-limits.ts';
import type { Capabilities } from './store/db.ts';
import type { Database } from './store/schema.ts';

/** Everything a service needs, built once per process by buildApp and passed explicitly. */
export interface AppContext {
  db: Kysely<Database>;
  caps: Capabilities;
  clock: Clock;
  ids: IdGenerator;
  config: Config;
  /** Rate limiting, in memory or shared through Redis. */
  rateLimits: RateLimits;
  /** Where committed events go (the realtime gateways of every node). */
  bus: EventBus;
  /** Run inside the transaction that records events (webhook deliveries). */
  eventSinks: EventSink[];
}

export type Db = Kysely<Database>;

/**
 * Runs `fn` in one transaction; services use it for every write that touches several rows.
 * Events recorded in it are published only after it commits.
 */
export async function inTransaction<T>(ctx: AppContext, fn: (tx: Db) => Promise<T>): Promise<T> {
  const pending: DomainEvent[] = [];
  const result = await ctx.db.transaction().execute((tx) => {
    collectEventsOf(tx, pending);
    return fn(tx);
  });
  if (pending.length > 0) await publishEvents(ctx, pending);
  return result;
}
