/**
 * Rate-limit policies per route group. A policy allows `points` requests per `durationSec`
 * per key (a user, or an app); once exceeded, the key is locked out for `blockSec` (0: only
 * until the window ends). Orgs may override any group's policy in their settings.
 */
export const RateGroup = ['native', 'cliq', 'zim', 'salesiq', 'kore'] as const;
export type RateGroup = (typeof RateGroup)[number];

export interface RatePolicy {
  points: number;
  durationSec: number;
  blockSec: number;
}

export const DEFAULT_POLICIES: Readonly<Record<RateGroup, RatePolicy>> = Object.freeze({
  // Generous for our own API: 600 requests a minute per user, no lock-out.
  native: { points: 600, durationSec: 60, blockSec: 0 },
  // The team-chat vendor's documented policy: 20 a minute per user, then a 10-minute lock.
  cliq: { points: 20, durationSec: 60, blockSec: 600 },
  // The in-app chat vendor's documented QPS limit: 20 a second per app.
  zim: { points: 20, durationSec: 1, blockSec: 0 },
  // The live-chat and bot vendors' pages name no limit; a per-user minute budget like ours.
  salesiq: { points: 120, durationSec: 60, blockSec: 0 },
  kore: { points: 120, durationSec: 60, blockSec: 0 },
});

/** Bounds an admin may set: a policy outside them is refused (400). */
export const POLICY_BOUNDS = {
  points: { min: 1, max: 1_000_000 },
  durationSec: { min: 1, max: 86_400 },
  blockSec: { min: 0, max: 86_400 },
} as const;

export function isRateGroup(value: string): value is RateGroup {
  return (RateGroup as readonly string[]).includes(value);
}

/** The state of one key under one policy, as the RateLimit headers and GET /v1/rate-limits show it. */
export interface RateState {
  group: RateGroup;
  policy: RatePolicy;
  /** Requests left in the current window (0 while locked out). */
  remaining: number;
  /** Milliseconds until the window resets, or until the lock-out ends. */
  resetMs: number;
  /** True while the key is locked out (or over the limit in this window). */
  limited: boolean;
}
