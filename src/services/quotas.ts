import type { AppContext, Db } from '../context.ts';
import { ConflictError } from '../domain/errors.ts';
import { lockOrgRow } from '../store/repos/quotas.ts';
import { inTransaction, type Tx } from './tx.ts';

export {
  countActiveActors,
  countActiveApps,
  countLiveTokens,
  countPendingDeletionJobs,
  currentMemberCount,
} from '../store/repos/quotas.ts';

/** The quotas of an org (config `QUOTA_*`; docs/security.md). */
export type QuotaName =
  | 'actors'
  | 'members_per_conversation'
  | 'webhooks'
  | 'apps'
  | 'tokens_per_actor'
  | 'deletion_jobs'
  | 'storage_bytes';

/**
 * The refusal of a write that would take the org past a quota: `quota_exceeded` (409), with
 * the quota's name and limit in `details`. It is thrown before anything is written.
 */
export function quotaExceeded(quota: QuotaName, limit: number, what: string): ConflictError {
  return new ConflictError('quota_exceeded', `${what} (quota ${quota}: ${limit}); remove some first`, {
    quota,
    limit,
  });
}

/**
 * Throws `quota_exceeded` when `current + adding` would pass `limit`. `current` must be counted
 * in the write's own transaction after `lockOrgForQuota` (or through `withinQuota`), or racing
 * requests could each count the same room.
 */
export function checkQuota(
  quota: QuotaName,
  limit: number,
  current: number,
  adding: number,
  what: string,
): void {
  if (current + adding > limit) throw quotaExceeded(quota, limit, what);
}

/**
 * In a write's transaction, before counting for a quota: on PostgreSQL, locks the org's row so
 * the quota-checked writes of one org run one after another, each counting what the ones
 * before it committed. On the embedded database writes already run one at a time, and a count
 * in the transaction sees the writes before it (of its group-commit batch too).
 */
export async function lockOrgForQuota(ctx: AppContext, tx: Db, orgId: string): Promise<void> {
  if (!ctx.caps.singleWriter) await lockOrgRow(tx, orgId);
}

/**
 * Writes within a quota: in one transaction, locks the org (lockOrgForQuota), counts, throws
 * `quota_exceeded` when `count + adding` would pass `limit` (nothing written), else runs `write`.
 */
export function withinQuota<T>(
  ctx: AppContext,
  orgId: string,
  q: { quota: QuotaName; limit: number; adding: number; what: string; count: (tx: Tx) => Promise<number> },
  write: (tx: Tx) => Promise<T>,
): Promise<T> {
  return inTransaction(ctx, async (tx) => {
    await lockOrgForQuota(ctx, tx.db, orgId);
    checkQuota(q.quota, q.limit, await q.count(tx), q.adding, q.what);
    return write(tx);
  });
}
