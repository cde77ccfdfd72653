import type { Redis } from 'ioredis';
import {
  type IRateLimiterStoreOptions,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { RateLimitedError } from '../domain/errors.ts';
import { WIDGET_LIMITS } from '../domain/widget.ts';
import { createRedis } from '../store/redis.ts';

/**
 * The widget's public endpoints are limited per client address (per widget), per widget, and
 * new visitor sessions per address: in memory on one node, shared through Redis when
 * `REDIS_URL` is set (then every node counts together; while Redis is away each node falls
 * back to its own memory, as the /v1 limits do).
 */
export class WidgetLimits {
  readonly #redis: Redis | undefined;
  readonly #limiters = new Map<string, RateLimiterAbstract>();

  constructor(redisUrl: string | undefined) {
    this.#redis = redisUrl ? createRedis(redisUrl) : undefined;
  }

  #limiter(name: string, points: number): RateLimiterAbstract {
    let l = this.#limiters.get(name);
    if (!l) {
      const opts = { points, duration: 60, keyPrefix: `parley:wl:${name}` };
      l = this.#redis
        ? new RateLimiterRedis({
            ...opts,
            storeClient: this.#redis,
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(opts),
          } as IRateLimiterStoreOptions)
        : new RateLimiterMemory(opts);
      this.#limiters.set(name, l);
    }
    return l;
  }

  async #take(name: string, points: number, key: string): Promise<void> {
    try {
      await this.#limiter(name, points).consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes)
        throw new RateLimitedError(
          Math.max(1, err.msBeforeNext),
          'Too many requests to this widget: try again later',
        );
      throw err;
    }
  }

  /** One request of `ip` to `widgetId`'s endpoints (`rate_limited` 429 over the limits). */
  async request(widgetId: string, ip: string): Promise<void> {
    await this.#take('ip', WIDGET_LIMITS.perIpPerMinute, `${widgetId}:${ip}`);
    await this.#take('widget', WIDGET_LIMITS.perWidgetPerMinute, widgetId);
  }

  /** One new visitor session from `ip`. */
  async session(widgetId: string, ip: string): Promise<void> {
    await this.#take('session', WIDGET_LIMITS.sessionsPerIpPerMinute, `${widgetId}:${ip}`);
  }

  close(): void {
    this.#redis?.disconnect();
  }
}
