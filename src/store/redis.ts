import { Redis } from 'ioredis';

/**
 * A Redis connection for shared state between nodes (rate limits; later the event bus).
 * Offline commands fail fast instead of queueing, so callers can fall back (rate limits use
 * an in-process insurance limiter while Redis is away) and recover when it comes back.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
