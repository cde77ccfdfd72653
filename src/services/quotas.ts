import { sql } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import { ConflictError } from '../domain/errors.ts';
import { inTransaction, type Tx } from './tx.ts';

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
  if (!ctx.caps.singleWriter) await sql`select id from org where id = ${orgId} for no key update`.execute(tx);
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

const n = (row: { n: unknown } | undefined) => Number(row?.n ?? 0);

/** A conversation's current member count (0 when it is gone). */
export async function currentMemberCount(db: Db, conversationId: string): Promise<number> {
  const row = await db
    .selectFrom('conversation')
    .select('member_count as n')
    .where('id', '=', conversationId)
    .executeTakeFirst();
  return n(row);
}

/** Active actors of an org. */
export async function countActiveActors(db: Db, orgId: string): Promise<number> {
  return n(
    await db
      .selectFrom('actor')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('org_id', '=', orgId)
      .where('active', '=', 1)
      .executeTakeFirst(),
  );
}

/** Apps of an org that are not revoked. */
export async function countActiveApps(db: Db, orgId: string): Promise<number> {
  return n(
    await db
      .selectFrom('app')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('org_id', '=', orgId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst(),
  );
}

/** Tokens of an actor that still authenticate (not revoked, not expired at `now`). */
export async function countLiveTokens(db: Db, orgId: string, actorId: string, now: number): Promise<number> {
  return n(
    await db
      .selectFrom('access_token')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('actor_id', '=', actorId)
      .where('org_id', '=', orgId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst(),
  );
}

/** Deletion jobs of an org that are queued or running. */
export async function countPendingDeletionJobs(db: Db, orgId: string): Promise<number> {
  return n(
    await db
      .selectFrom('deletion_job')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('org_id', '=', orgId)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst(),
  );
}
