import { iso } from '../../domain/presenters.ts';
import type { RateState } from '../../domain/rate-limits.ts';

/** A caller's state in a rate-limit group as the API shows it (http/schemas/rate-limits.ts). */
export function presentRateState(s: RateState, now: number) {
  return {
    group: s.group,
    policy: { points: s.policy.points, duration_s: s.policy.durationSec, block_s: s.policy.blockSec },
    remaining: s.remaining,
    reset_at: s.resetMs > 0 ? iso(now + s.resetMs) : null,
    limited: s.limited,
  };
}
