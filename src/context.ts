import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { DomainEvent } from './domain/events.ts';
import type { IdGenerator } from './domain/ids.ts';
import type { EventBus } from './realtime/bus.ts';
import type { EventSink } from './services/events.ts';
import { collectEventsOf, publishEvents } from './services/events.ts';
import type { RateLimits } from './services/rate-limits.ts';
import type { PrincipalCache } from './services/tokens.ts';
import type { Capabilities } from './store/db.ts';
import type { GroupCommitter } from './store/group-commit.ts';
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
  /** Resolved tokens, reused for a few seconds. */
  principals: PrincipalCache;
  /** Batches the write transactions of one tick into one commit (embedded SQLite only). */
  groupCommit: GroupCommitter | null;
}

export type Db = Kysely<Database>;

/**
 * Runs `fn` in one transaction; services use it for every write that touches several rows.
 * It resolves only after the commit, and events recorded in it are published only then. On
 * the embedded database the transactions of one tick share one commit (store/group-commit.ts).
 * `fn` must use `tx` for every query (a query on ctx.db inside it would wait for the commit).
 */
export async function inTransaction<T>(ctx: AppContext, fn: (tx: Db) => Promise<T>): Promise<T> {
  const pending: DomainEvent[] = [];
  const body = (tx: Db) => {
    collectEventsOf(tx, pending);
    return fn(tx);
  };
  const result = ctx.groupCommit ? await ctx.groupCommit.run(body) : await ctx.db.transaction().execute(body);
  if (pending.length > 0) await publishEvents(ctx, pending);
  return result;
}
