import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { IdGenerator } from './domain/ids.ts';
import type { EventBus } from './realtime/bus.ts';
import type { EventSink } from './services/events.ts';
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
