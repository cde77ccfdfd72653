import { Redis } from 'ioredis';

/**
 * A Redis connection for shared state between nodes (rate limits; later the event bus).
 * Offline commands fail fast instead of queueing, so callers can fall back (rate limits use
 * an in-process insurance limiter while Redis is away) and recover when it comes back.
 */
export function createRedis(url: string, opts: { offlineQueue?: boolean } = {}): Redis {
  const redis = new Redis(url, {
    // Off for commands that must fail fast (rate limits); on for the pub/sub subscriber, whose
    // SUBSCRIBE calls wait for the connection (and are replayed after a reconnect).
    enableOfflineQueue: opts.offlineQueue ?? false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // While Redis is away ioredis reports every failed reconnect; one warning per outage is
  // enough (without a listener it prints "Unhandled error event" each time).
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    process.emitWarning(`Redis: ${err.message} (reconnecting)`);
  });
  redis.on('ready', () => {
    down = false;
  });
  return redis;
}
