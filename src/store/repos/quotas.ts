import { sql } from 'kysely';
import type { Db } from '../schema.ts';

/**
 * What the org's quotas count (services/quotas.ts checks them): each count runs in the write's
 * own transaction, after `lockOrgRow` where writers run in parallel.
 */

/**
 * Locks the org's row until the transaction ends (PostgreSQL `FOR NO KEY UPDATE`: it does not
 * block writes that only reference the org), so the quota-checked writes of one org run one
 * after another, each counting what the ones before it committed.
 */
export async function lockOrgRow(tx: Db, orgId: string): Promise<void> {
  await sql`select id from org where id = ${orgId} for no key update`.execute(tx);
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
