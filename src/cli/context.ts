import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import { systemClock } from '../domain/clock.ts';
import { createIdGenerator } from '../domain/ids.ts';
import { createMemoryBus } from '../realtime/bus.ts';
import { RateLimits } from '../services/rate-limits.ts';
import { PrincipalCache } from '../services/tokens.ts';
import { webhookSink } from '../services/webhook-delivery.ts';
import { createBlobStore } from '../store/blobs/index.ts';
import { withStore } from './store.ts';

/**
 * The services' context for an admin command: the store (migrated) and in-process parts only,
 * no HTTP app, no Redis, no job runner. Events the command records go to the event log as
 * always (clients of a running server get them on catch-up); a token it revokes stops working
 * on running servers when their principal cache entry expires (a few seconds).
 */
export async function withContext<T>(
  config: Readonly<Config>,
  fn: (ctx: AppContext) => Promise<T>,
): Promise<T> {
  return withStore(
    config,
    async (store) => {
      const ctx: AppContext = {
        db: store.db,
        caps: store.caps,
        clock: systemClock,
        ids: createIdGenerator(config.nodeId),
        config,
        rateLimits: new RateLimits(),
        bus: createMemoryBus(),
        eventSinks: [webhookSink],
        principals: new PrincipalCache(),
        sendPaths: { oneStatement: 0, transaction: 0 },
        sendBatcher: null,
        groupCommit: null,
        blobs: createBlobStore(config.storageUrl, config.sqlitePath),
      };
      try {
        return await fn(ctx);
      } finally {
        ctx.blobs.close();
      }
    },
    { migrate: true },
  );
}
