import type { Db } from '../schema.ts';

export interface IdempotencyRecord {
  requestHash: string;
  status: number | null;
  body: string | null;
}

/** Claims a key for a request; false when the key exists already (then read it with findIdempotencyKey). */
export async function claimIdempotencyKey(
  db: Db,
  k: { orgId: string; actorId: string; key: string; requestHash: string; now: number },
): Promise<boolean> {
  const res = await db
    .insertInto('idempotency_key')
    .values({
      org_id: k.orgId,
      actor_id: k.actorId,
      key: k.key,
      request_hash: k.requestHash,
      status: null,
      body: null,
      created_at: k.now,
    })
    .onConflict((oc) => oc.columns(['org_id', 'actor_id', 'key']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function findIdempotencyKey(
  db: Db,
  orgId: string,
  actorId: string,
  key: string,
): Promise<IdempotencyRecord | undefined> {
  const row = await db
    .selectFrom('idempotency_key')
    .select(['request_hash', 'status', 'body'])
    .where('org_id', '=', orgId)
    .where('actor_id', '=', actorId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row
    ? {
        requestHash: row.request_hash,
        status: row.status === null ? null : Number(row.status),
        body: row.body,
      }
    : undefined;
}

export async function completeIdempotencyKey(
  db: Db,
  orgId: string,
  actorId: string,
  key: string,
  status: number,
  body: string,
): Promise<void> {
  await db
    .updateTable('idempotency_key')
    .set({ status, body })
    .where('org_id', '=', orgId)
    .where('actor_id', '=', actorId)
    .where('key', '=', key)
    .execute();
}

export async function releaseIdempotencyKey(
  db: Db,
  orgId: string,
  actorId: string,
  key: string,
): Promise<void> {
  await db
    .deleteFrom('idempotency_key')
    .where('org_id', '=', orgId)
    .where('actor_id', '=', actorId)
    .where('key', '=', key)
    .execute();
}

export async function deleteIdempotencyKeysBefore(db: Db, before: number): Promise<number> {
  const res = await db.deleteFrom('idempotency_key').where('created_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Removes the stored answers (of the orgs `orgIds`) that quote any of `ids` (a message's or a
 * conversation's JSON carries its id as a quoted string): a replay of such a request runs it
 * again instead of answering text that was erased. In the caller's transaction.
 */
export async function deleteAnswersQuoting(
  db: Db,
  orgIds: readonly string[],
  ids: readonly string[],
): Promise<number> {
  if (orgIds.length === 0 || ids.length === 0) return 0;
  const res = await db
    .deleteFrom('idempotency_key')
    .where('org_id', 'in', [...new Set(orgIds)])
    .where((eb) => eb.or(ids.map((id) => eb('body', 'like', `%"${id}"%`))))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
