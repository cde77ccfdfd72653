import { sql } from 'kysely';
import type { Actor } from '../../domain/model.ts';
import type { Db, InstanceAdminTokenTable, OrgTable } from '../schema.ts';
import { deleteOrgEvents } from './events.ts';
import { toActor } from './rows.ts';

/** Instance administration: instance-admin tokens, org states, and erasing a whole org. */

export type OrgState = 'active' | 'suspended' | 'deleting';

export interface InstanceTokenRecord {
  id: string;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

const opt = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toInstanceToken(r: InstanceAdminTokenTable): InstanceTokenRecord {
  return {
    id: String(r.id),
    name: r.name,
    createdAt: Number(r.created_at),
    expiresAt: opt(r.expires_at),
    revokedAt: opt(r.revoked_at),
    lastUsedAt: opt(r.last_used_at),
  };
}

export async function insertInstanceToken(db: Db, t: InstanceTokenRecord & { hash: string }): Promise<void> {
  await db
    .insertInto('instance_admin_token')
    .values({
      id: t.id,
      name: t.name,
      token_hash: t.hash,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      revoked_at: null,
      last_used_at: null,
    })
    .execute();
}

export async function findInstanceTokenByHash(
  db: Db,
  hash: string,
): Promise<InstanceTokenRecord | undefined> {
  const row = await db
    .selectFrom('instance_admin_token')
    .selectAll()
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  return row ? toInstanceToken(row) : undefined;
}

export async function listInstanceTokens(db: Db): Promise<InstanceTokenRecord[]> {
  const rows = await db.selectFrom('instance_admin_token').selectAll().orderBy('id').execute();
  return rows.map(toInstanceToken);
}

/** Revokes a live instance token; false when there is none with that id (or it was revoked). */
export async function revokeInstanceToken(db: Db, id: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable('instance_admin_token')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export interface OrgRecord {
  id: string;
  slug: string;
  name: string;
  createdAt: number;
  state: OrgState;
  stateChangedAt: number | null;
}

function toOrgRecord(r: OrgTable): OrgRecord {
  return {
    id: String(r.id),
    slug: r.slug,
    name: r.name,
    createdAt: Number(r.created_at),
    state: (r.state ?? 'active') as OrgState,
    stateChangedAt: opt(r.state_changed_at),
  };
}

export async function findOrgRecord(db: Db, id: string): Promise<OrgRecord | undefined> {
  const row = await db.selectFrom('org').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toOrgRecord(row) : undefined;
}

/** Orgs in id order after `afterId`, optionally of one state. */
export async function listOrgRecords(
  db: Db,
  opts: { afterId?: string | undefined; state?: OrgState | undefined; limit: number },
): Promise<OrgRecord[]> {
  let q = db.selectFrom('org').selectAll();
  if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
  if (opts.state !== undefined) q = q.where('state', '=', opts.state);
  const rows = await q.orderBy('id').limit(opts.limit).execute();
  return rows.map(toOrgRecord);
}

/** The org's state, for the auth check (`active` for an org that predates states). */
export async function findOrgState(db: Db, id: string): Promise<OrgState | undefined> {
  const row = await db.selectFrom('org').select('state').where('id', '=', id).executeTakeFirst();
  return row ? ((row.state ?? 'active') as OrgState) : undefined;
}

/** Moves an org from one of `from` to `to`; answers the org as it is now, or undefined when it did not move. */
export async function setOrgState(
  db: Db,
  id: string,
  from: readonly OrgState[],
  to: OrgState,
  now: number,
): Promise<boolean> {
  const res = await db
    .updateTable('org')
    .set({ state: to, state_changed_at: now })
    .where('id', '=', id)
    .where('state', 'in', from)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/**
 * Deletes the org row; every table that holds org data references it with ON DELETE CASCADE
 * (actors, tokens, conversations and everything under them, events, apps, departments, audit,
 * deletion jobs, mail, webhooks and deliveries), so nothing of the org is left. The event log
 * and the nonces of its apps have no foreign key to the org and are deleted first.
 */
export async function deleteOrgRow(db: Db, id: string): Promise<void> {
  await db
    .deleteFrom('used_nonce')
    .where('app_id', 'in', db.selectFrom('app').select('app_id').where('org_id', '=', id))
    .execute();
  // The event log has no foreign key (positions are store-wide): its rows go explicitly.
  await deleteOrgEvents(db, id);
  await db.deleteFrom('org').where('id', '=', id).execute();
}

/** PostgreSQL: VACUUM every table, so the dead tuples of an erased org are freed (off the request path). */
export async function vacuumAll(db: Db): Promise<void> {
  await sql`VACUUM`.execute(db);
}

/** The org's active owners, oldest first. */
export async function findOrgOwners(db: Db, orgId: string): Promise<Actor[]> {
  const rows = await db
    .selectFrom('actor')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('kind', '=', 'user')
    .where('role', '=', 'owner')
    .where('active', '=', 1)
    .orderBy('id')
    .execute();
  return rows.map(toActor);
}
