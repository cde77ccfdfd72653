import type { Db } from '../schema.ts';

/** OpenID Connect sign-in: org settings, sign-ins in progress, console sessions (services/oidc.ts). */

export interface OidcConfigRecord {
  orgId: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  externalIdClaim: string;
  emailClaim: string;
  nameClaim: string;
  autoProvision: boolean;
  defaultRole: string;
  updatedAt: number;
}

export async function findOidcConfig(db: Db, orgId: string): Promise<OidcConfigRecord | undefined> {
  const r = await db.selectFrom('org_oidc').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  if (!r) return undefined;
  return {
    orgId: String(r.org_id),
    issuer: r.issuer,
    clientId: r.client_id,
    clientSecret: r.client_secret,
    externalIdClaim: r.external_id_claim,
    emailClaim: r.email_claim,
    nameClaim: r.name_claim,
    autoProvision: Number(r.auto_provision) === 1,
    defaultRole: r.default_role,
    updatedAt: Number(r.updated_at),
  };
}

export async function upsertOidcConfig(db: Db, c: OidcConfigRecord): Promise<void> {
  const values = {
    issuer: c.issuer,
    client_id: c.clientId,
    client_secret: c.clientSecret,
    external_id_claim: c.externalIdClaim,
    email_claim: c.emailClaim,
    name_claim: c.nameClaim,
    auto_provision: c.autoProvision ? 1 : 0,
    default_role: c.defaultRole,
    updated_at: c.updatedAt,
  };
  await db
    .insertInto('org_oidc')
    .values({ org_id: c.orgId, ...values })
    .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
    .execute();
}

export async function deleteOidcConfig(db: Db, orgId: string): Promise<boolean> {
  const res = await db.deleteFrom('org_oidc').where('org_id', '=', orgId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export interface LoginRecord {
  state: string;
  orgId: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: number;
}

export async function insertLogin(db: Db, l: LoginRecord): Promise<void> {
  await db
    .insertInto('oidc_login')
    .values({
      state: l.state,
      org_id: l.orgId,
      nonce: l.nonce,
      code_verifier: l.codeVerifier,
      return_to: l.returnTo,
      expires_at: l.expiresAt,
    })
    .execute();
}

/** Reads and deletes a sign-in in one go: a state is used once. */
export async function takeLogin(db: Db, state: string): Promise<LoginRecord | undefined> {
  return db.transaction().execute(async (tx) => {
    const r = await tx.selectFrom('oidc_login').selectAll().where('state', '=', state).executeTakeFirst();
    if (!r) return undefined;
    const gone = await tx.deleteFrom('oidc_login').where('state', '=', state).executeTakeFirst();
    if (Number(gone.numDeletedRows) !== 1) return undefined;
    return {
      state: r.state,
      orgId: String(r.org_id),
      nonce: r.nonce,
      codeVerifier: r.code_verifier,
      returnTo: r.return_to,
      expiresAt: Number(r.expires_at),
    };
  });
}

export interface SessionRecord {
  idHash: string;
  orgId: string;
  actorId: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

export async function insertSession(db: Db, s: SessionRecord): Promise<void> {
  await db
    .insertInto('console_session')
    .values({
      id_hash: s.idHash,
      org_id: s.orgId,
      actor_id: s.actorId,
      csrf_token: s.csrfToken,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
    })
    .execute();
}

export async function findSession(db: Db, idHash: string): Promise<SessionRecord | undefined> {
  const r = await db
    .selectFrom('console_session')
    .selectAll()
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  if (!r) return undefined;
  return {
    idHash: r.id_hash,
    orgId: String(r.org_id),
    actorId: String(r.actor_id),
    csrfToken: r.csrf_token,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('console_session').where('id_hash', '=', idHash).execute();
}

/** Periodic: forgets expired sessions and abandoned sign-ins. */
export async function deleteExpiredSessions(db: Db, now: number): Promise<number> {
  const a = await db.deleteFrom('console_session').where('expires_at', '<=', now).executeTakeFirst();
  const b = await db.deleteFrom('oidc_login').where('expires_at', '<=', now).executeTakeFirst();
  return Number(a.numDeletedRows) + Number(b.numDeletedRows);
}
