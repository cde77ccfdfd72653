import type { Db } from '../schema.ts';

export interface TokenRow {
  id: string;
  orgId: string;
  actorId: string;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

function toToken(r: {
  id: unknown;
  org_id: unknown;
  actor_id: unknown;
  name: string;
  scopes: string;
  created_at: unknown;
  expires_at: unknown;
  revoked_at: unknown;
  last_used_at: unknown;
}): TokenRow {
  const opt = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: String(r.id),
    orgId: String(r.org_id),
    actorId: String(r.actor_id),
    name: r.name,
    scopes: r.scopes.split(' ').filter(Boolean),
    createdAt: Number(r.created_at),
    expiresAt: opt(r.expires_at),
    revokedAt: opt(r.revoked_at),
    lastUsedAt: opt(r.last_used_at),
  };
}

export async function insertToken(db: Db, t: TokenRow & { hash: string }): Promise<void> {
  await db
    .insertInto('access_token')
    .values({
      id: t.id,
      org_id: t.orgId,
      actor_id: t.actorId,
      name: t.name,
      token_hash: t.hash,
      scopes: t.scopes.join(' '),
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      revoked_at: null,
      last_used_at: null,
    })
    .execute();
}

export async function findTokenByHash(db: Db, hash: string): Promise<TokenRow | undefined> {
  const row = await db
    .selectFrom('access_token')
    .selectAll()
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  return row ? toToken(row) : undefined;
}

export async function listTokens(db: Db, orgId: string, actorId?: string): Promise<TokenRow[]> {
  let q = db.selectFrom('access_token').selectAll().where('org_id', '=', orgId);
  if (actorId) q = q.where('actor_id', '=', actorId);
  return (await q.orderBy('id').execute()).map(toToken);
}

export async function revokeToken(
  db: Db,
  orgId: string,
  id: string,
  now: number,
): Promise<TokenRow | undefined> {
  const row = await db
    .updateTable('access_token')
    .set({ revoked_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? toToken(row) : undefined;
}

export async function revokeTokensNamed(
  db: Db,
  orgId: string,
  actorId: string,
  name: string,
  now: number,
): Promise<void> {
  await db
    .updateTable('access_token')
    .set({ revoked_at: now })
    .where('org_id', '=', orgId)
    .where('actor_id', '=', actorId)
    .where('name', '=', name)
    .where('revoked_at', 'is', null)
    .execute();
}
