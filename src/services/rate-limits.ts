import type { Redis } from 'ioredis';
import {
  type IRateLimiterStoreOptions,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { AppContext, RateLimiter } from '../context.ts';
import { RateLimitedError, ValidationError } from '../domain/errors.ts';
import { canManageRateLimits } from '../domain/policies/admin.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import {
  DEFAULT_POLICIES,
  POLICY_BOUNDS,
  type RateGroup,
  RateGroup as RateGroups,
  type RatePolicy,
  type RateState,
} from '../domain/rate-limits.ts';
import { findOrgSettings, updateOrgSetting } from '../store/repos/orgs.ts';

const SETTINGS_KEY = 'rate_limits';
/** How long a node trusts its copy of an org's policies; other nodes see a change within this. */
const POLICY_CACHE_MS = 5_000;

/**
 * Rate limits on rate-limiter-flexible: in process memory by default, in Redis when one is
 * given (every node then shares the same counters and lock-outs). While Redis is unreachable
 * each node falls back to its own memory limiter (rate-limiter-flexible's insurance limiter),
 * so an outage degrades to per-node limits instead of refusing or allowing everything.
 */
export class RateLimits implements RateLimiter {
  readonly #redis: Redis | undefined;
  readonly #limiters = new Map<string, RateLimiterAbstract>();
  readonly #policyCache = new Map<string, { at: number; policies: Partial<Record<RateGroup, RatePolicy>> }>();

  constructor(redis?: Redis) {
    this.#redis = redis;
  }

  get shared(): boolean {
    return this.#redis !== undefined;
  }

  #limiter(group: RateGroup, policy: RatePolicy): RateLimiterAbstract {
    const id = `${group}:${policy.points}:${policy.durationSec}:${policy.blockSec}`;
    let limiter = this.#limiters.get(id);
    if (!limiter) {
      const opts = {
        points: policy.points,
        duration: policy.durationSec,
        blockDuration: policy.blockSec,
        keyPrefix: `parley:rl:${id}`,
      };
      limiter = this.#redis
        ? new RateLimiterRedis({
            ...opts,
            storeClient: this.#redis,
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(opts),
          } as IRateLimiterStoreOptions)
        : new RateLimiterMemory(opts);
      this.#limiters.set(id, limiter);
    }
    return limiter;
  }

  /** The org's policy for a group: its override, or the default. */
  async policyFor(ctx: AppContext, orgId: string, group: RateGroup): Promise<RatePolicy> {
    const now = Date.now();
    let cached = this.#policyCache.get(orgId);
    if (!cached || now - cached.at > POLICY_CACHE_MS) {
      const settings = await findOrgSettings(ctx.db, orgId);
      cached = { at: now, policies: parsePolicies(settings[SETTINGS_KEY]) };
      this.#policyCache.set(orgId, cached);
    }
    return cached.policies[group] ?? DEFAULT_POLICIES[group];
  }

  forgetOrg(orgId: string): void {
    this.#policyCache.delete(orgId);
  }

  /**
   * Spends one request of `key` in `group`; throws `RateLimitedError` (with the state for the
   * headers) when the key is over its limit or locked out.
   */
  async consume(ctx: AppContext, orgId: string, group: RateGroup, key: string): Promise<RateState> {
    const policy = await this.policyFor(ctx, orgId, group);
    const limiter = this.#limiter(group, policy);
    try {
      const res = await limiter.consume(`${orgId}:${key}`);
      return stateOf(group, policy, res);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        const state = stateOf(group, policy, err);
        throw new RateLimitedExceeded(state);
      }
      throw err;
    }
  }

  /** The state of `key` in `group` without spending anything. */
  async peek(ctx: AppContext, orgId: string, group: RateGroup, key: string): Promise<RateState> {
    const policy = await this.policyFor(ctx, orgId, group);
    const res = await this.#limiter(group, policy).get(`${orgId}:${key}`);
    if (!res) return { group, policy, remaining: policy.points, resetMs: 0, limited: false };
    return stateOf(group, policy, res);
  }
}

/** A RateLimitedError that carries the state, so every surface can set its headers. */
export class RateLimitedExceeded extends RateLimitedError {
  readonly state: RateState;
  constructor(state: RateState) {
    super(Math.max(state.resetMs, 1), 'Too many requests: try again after the Retry-After seconds');
    this.state = state;
  }
}

function stateOf(group: RateGroup, policy: RatePolicy, res: RateLimiterRes): RateState {
  const limited = res.consumedPoints > policy.points;
  return {
    group,
    policy,
    remaining: limited ? 0 : Math.max(0, res.remainingPoints),
    resetMs: Math.max(0, res.msBeforeNext),
    limited,
  };
}

function isPolicy(v: unknown): v is RatePolicy {
  const p = v as RatePolicy;
  return (
    !!p &&
    Number.isInteger(p.points) &&
    Number.isInteger(p.durationSec) &&
    Number.isInteger(p.blockSec) &&
    p.points >= POLICY_BOUNDS.points.min &&
    p.durationSec >= POLICY_BOUNDS.durationSec.min &&
    p.blockSec >= POLICY_BOUNDS.blockSec.min
  );
}

function parsePolicies(raw: unknown): Partial<Record<RateGroup, RatePolicy>> {
  const out: Partial<Record<RateGroup, RatePolicy>> = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const group of RateGroups) {
    const p = (raw as Record<string, unknown>)[group];
    if (isPolicy(p)) out[group] = { points: p.points, durationSec: p.durationSec, blockSec: p.blockSec };
  }
  return out;
}

/** Every group's policy and the caller's state in the groups limited per user. */
export async function rateLimitStatus(
  ctx: AppContext,
  limits: RateLimiter,
  p: Principal,
): Promise<RateState[]> {
  const perUser: RateGroup[] = ['native', 'cliq', 'salesiq', 'kore'];
  return Promise.all(perUser.map((g) => limits.peek(ctx, p.orgId, g, p.actor.id)));
}

/**
 * Sets (or with `null`, resets to the default) the org's policy for a group. Org admins only
 * (`admin_role_required` 403); out-of-bounds values are `invalid_policy` (400).
 */
export async function setRatePolicy(
  ctx: AppContext,
  limits: RateLimiter,
  p: Principal,
  group: RateGroup,
  policy: RatePolicy | null,
): Promise<RatePolicy> {
  authorize(canManageRateLimits(p));
  if (policy) {
    for (const [field, bounds] of Object.entries(POLICY_BOUNDS) as [
      keyof RatePolicy,
      { min: number; max: number },
    ][]) {
      const v = policy[field];
      if (!Number.isInteger(v) || v < bounds.min || v > bounds.max) {
        throw ValidationError.field(
          `body.${field}`,
          `must be an integer from ${bounds.min} to ${bounds.max}`,
          'invalid_policy',
        );
      }
    }
  }
  const settings = await findOrgSettings(ctx.db, p.orgId);
  const current = parsePolicies(settings[SETTINGS_KEY]);
  if (policy) current[group] = policy;
  else delete current[group];
  await updateOrgSetting(ctx.db, p.orgId, SETTINGS_KEY, current);
  limits.forgetOrg(p.orgId);
  return policy ?? DEFAULT_POLICIES[group];
}
