import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Org administration over HTTP (docs/operations.md#instance-administration):
 * - `org.state`: `active`, `suspended` (its tokens are refused, its sockets closed) or `deleting`
 *   (a deletion job is erasing it; refused like a suspended org), and when it last changed;
 * - `instance_admin_token`: the instance administrators' credentials, issued by
 *   `parley admin token`, stored as SHA-256 like access tokens. They belong to no org.
 * - OpenID Connect sign-in for the console (services/oidc.ts): `org_oidc`, an org's identity
 *   provider and how its claims map to people; `oidc_login`, a sign-in in progress (state, nonce
 *   and PKCE verifier, for minutes); `console_session`, a signed-in browser (the cookie's SHA-256
 *   and its CSRF token).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'bigint' : 'integer';
  await db.schema
    .alterTable('org')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
    .execute();
  await db.schema.alterTable('org').addColumn('state_changed_at', 'bigint').execute();

  await db.schema
    .createTable('instance_admin_token')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .execute();

  await db.schema
    .createTable('org_oidc')
    .addColumn('org_id', id, (c) => c.primaryKey().references('org.id').onDelete('cascade'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_secret', 'text', (c) => c.notNull())
    .addColumn('external_id_claim', 'text', (c) => c.notNull())
    .addColumn('email_claim', 'text', (c) => c.notNull())
    .addColumn('name_claim', 'text', (c) => c.notNull())
    .addColumn('auto_provision', 'integer', (c) => c.notNull())
    .addColumn('default_role', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('oidc_login')
    .addColumn('state', 'text', (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('console_session')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('org_id', id, (c) => c.notNull().references('org.id').onDelete('cascade'))
    .addColumn('actor_id', id, (c) => c.notNull().references('actor.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('console_session_expires').on('console_session').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['console_session', 'oidc_login', 'org_oidc']) await db.schema.dropTable(t).execute();
  await db.schema.dropTable('instance_admin_token').execute();
  await db.schema.alterTable('org').dropColumn('state_changed_at').execute();
  await db.schema.alterTable('org').dropColumn('state').execute();
}
