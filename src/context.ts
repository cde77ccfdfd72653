import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { IdGenerator } from './domain/ids.ts';
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
}

export type Db = Kysely<Database>;

/** Runs `fn` in one transaction; services use it for every write that touches several rows. */
export function inTransaction<T>(ctx: AppContext, fn: (tx: Db) => Promise<T>): Promise<T> {
  return ctx.db.transaction().execute(fn);
}
