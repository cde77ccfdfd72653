import type { Db } from '../context.ts';
import { ConflictError } from '../domain/errors.ts';

/** The quotas of an org (config `QUOTA_*`; docs/security.md). */
export type QuotaName =
  | 'actors'
  | 'members_per_conversation'
  | 'webhooks'
  | 'apps'
  | 'tokens_per_actor'
  | 'deletion_jobs';

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
 * Throws `quota_exceeded` when `current + adding` would pass `limit`. Counts are read before the
 * write, so requests racing each other may overshoot by how many are in flight at once.
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

const n = (row: { n: unknown } | undefined) => Number(row?.n ?? 0);

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
