import type { Kysely } from 'kysely';
import type { PrincipalCache } from './auth/principal-cache.ts';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { DomainEvent } from './domain/events.ts';
import type { IdGenerator } from './domain/ids.ts';
import type { RateGroup, RateState } from './domain/rate-limits.ts';
import type { EventBus } from './realtime/bus.ts';
import type { BlobStore } from './store/blobs/types.ts';
import type { Capabilities } from './store/db.ts';
import type { GroupCommitter } from './store/group-commit.ts';
import type { Database, Db } from './store/schema.ts';
import type { SendBatcher } from './store/send-batch.ts';

export type { Db };

/**
 * Something that must happen in the same transaction as the events it sees (e.g. webhook
 * deliveries are written with the change that caused them, so a crash loses none).
 */
export interface EventSink {
  (ctx: AppContext, tx: Db, events: readonly DomainEvent[]): Promise<void>;
  /**
   * True when a plain send's `message.created` needs nothing from this sink, or the
   * one-statement send (services/messages.ts) checks the sink's condition itself (the webhook
   * sink: it writes nothing, and the general path runs, when a webhook subscribes). A sink
   * that does not say so keeps every send on the general path, which runs all sinks.
   */
  coversPlainSend?: boolean;
}

/** Rate limiting (services/rate-limits.ts), in memory or shared through Redis. */
export interface RateLimiter {
  /** Takes one point of `key`'s budget in `group`; throws rate_limited when it is spent. */
  consume(ctx: AppContext, orgId: string, group: RateGroup, key: string): Promise<RateState>;
  /** `key`'s budget in `group` without taking from it. */
  peek(ctx: AppContext, orgId: string, group: RateGroup, key: string): Promise<RateState>;
  /** Forgets this node's copy of an org's policies (after a change). */
  forgetOrg(orgId: string): void;
}

/** Everything a service needs, built once per process by buildApp and passed explicitly. */
export interface AppContext {
  db: Kysely<Database>;
  caps: Capabilities;
  clock: Clock;
  ids: IdGenerator;
  config: Config;
  /** Rate limiting, in memory or shared through Redis. */
  rateLimits: RateLimiter;
  /** Where committed events go (the realtime gateways of every node). */
  bus: EventBus;
  /** Run inside the transaction that records events (webhook deliveries). */
  eventSinks: EventSink[];
  /** Resolved tokens, reused for a few seconds. */
  principals: PrincipalCache;
  /** Batches the write transactions of one tick into one commit (embedded SQLite only). */
  groupCommit: GroupCommitter | null;
  /** Where attachment bytes live: files under the data directory, or S3 (STORAGE_URL). */
  blobs: BlobStore;
  /** Sends by the path they took (services/messages.ts; `parley_message_sends_total` in /metrics). */
  sendPaths: { oneStatement: number; transaction: number };
  /** Batches the plain sends of PostgreSQL into one statement each (store/send-batch.ts); null elsewhere. */
  sendBatcher: SendBatcher | null;
}
