import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { RateGroup, RateState } from '../domain/rate-limits.ts';
import { RateLimitedExceeded } from '../services/rate-limits.ts';

/**
 * RateLimit headers (IETF httpapi ratelimit-headers draft) on every limited response, plus
 * Retry-After when the request was refused.
 */
export function setRateLimitHeaders(reply: FastifyReply, state: RateState): void {
  const resetSec = Math.ceil(state.resetMs / 1000);
  reply.header('ratelimit-limit', String(state.policy.points));
  reply.header('ratelimit-remaining', String(state.remaining));
  reply.header('ratelimit-reset', String(resetSec));
  reply.header('ratelimit-policy', `${state.policy.points};w=${state.policy.durationSec}`);
  if (state.limited) reply.header('retry-after', String(Math.max(1, resetSec)));
}

/** Sets the headers for a refused request, whatever surface renders its body. */
export function setRateLimitErrorHeaders(err: unknown, reply: FastifyReply): void {
  if (err instanceof RateLimitedExceeded) setRateLimitHeaders(reply, err.state);
}

/**
 * A hook that spends one request of the key `keyOf(request)` in `group` (under the org's
 * policy) and sets the headers; over the limit it throws `RateLimitedExceeded` for the
 * surface's error handler. Requests with no key (not authenticated) are not counted here.
 */
export function rateLimitHook(
  ctx: AppContext,
  group: RateGroup,
  keyOf: (request: FastifyRequest) => { orgId: string; key: string } | null,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const k = keyOf(request);
    if (!k) return;
    const state = await ctx.rateLimits.consume(ctx, k.orgId, group, k.key);
    setRateLimitHeaders(reply, state);
  };
}
