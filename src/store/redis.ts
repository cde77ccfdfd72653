import { Redis } from 'ioredis';

/**
 * A Redis connection for shared state between nodes (rate limits; later the event bus).
 * Offline commands fail fast instead of queueing, so callers can fall back (rate limits use
 * an in-process insurance limiter while Redis is away) and recover when it comes back.
 */
export function createRedis(url: string, opts: { offlineQueue?: boolean } = {}): Redis {
  return new Redis(url, {
    // Off for commands that must fail fast (rate limits); on for the pub/sub subscriber, whose
    // SUBSCRIBE calls wait for the connection (and are replayed after a reconnect).
    enableOfflineQueue: opts.offlineQueue ?? false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
