import type { Db } from '../schema.ts';

export interface AppRecord {
  id: string;
  orgId: string;
  appId: number;
  name: string;
  serverSecret: string;
  createdAt: number;
  revokedAt: number | null;
}

function toApp(r: {
  id: unknown;
  org_id: unknown;
  app_id: unknown;
  name: string;
  server_secret: string;
  created_at: unknown;
  revoked_at: unknown;
}): AppRecord {
  return {
    id: String(r.id),
    orgId: String(r.org_id),
    appId: Number(r.app_id),
    name: r.name,
    serverSecret: r.server_secret,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

/** Inserts an app unless its public AppId is taken; returns false then. */
export async function insertApp(db: Db, a: AppRecord): Promise<boolean> {
  const res = await db
    .insertInto('app')
    .values({
      id: a.id,
      org_id: a.orgId,
      app_id: a.appId,
      name: a.name,
      server_secret: a.serverSecret,
      created_at: a.createdAt,
      revoked_at: null,
    })
    .onConflict((oc) => oc.column('app_id').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function findAppByAppId(db: Db, appId: number): Promise<AppRecord | undefined> {
  const row = await db.selectFrom('app').selectAll().where('app_id', '=', appId).executeTakeFirst();
  return row ? toApp(row) : undefined;
}

export async function listApps(db: Db, orgId: string): Promise<AppRecord[]> {
  return (await db.selectFrom('app').selectAll().where('org_id', '=', orgId).orderBy('id').execute()).map(
    toApp,
  );
}

export async function revokeApp(
  db: Db,
  orgId: string,
  id: string,
  now: number,
): Promise<AppRecord | undefined> {
  const row = await db
    .updateTable('app')
    .set({ revoked_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? toApp(row) : undefined;
}

/** Records a nonce as used until `expiresAt`; false when it was used already (a replay). */
export async function useNonce(db: Db, appId: number, nonce: string, expiresAt: number): Promise<boolean> {
  const res = await db
    .insertInto('used_nonce')
    .values({ app_id: appId, nonce, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['app_id', 'nonce']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function deleteExpiredNonces(db: Db, now: number): Promise<number> {
  const res = await db.deleteFrom('used_nonce').where('expires_at', '<', now).executeTakeFirst();
  return Number(res.numDeletedRows);
}
