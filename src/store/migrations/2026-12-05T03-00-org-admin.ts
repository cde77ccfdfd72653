import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Org administration over HTTP (docs/operations.md#instance-administration):
 * - `org.state`: `active`, `suspended` (its tokens are refused, its sockets closed) or `deleting`
 *   (a deletion job is erasing it; refused like a suspended org), and when it last changed;
 * - `instance_admin_token`: the instance administrators' credentials, issued by
 *   `parley admin token`, stored as SHA-256 like access tokens. They belong to no org.
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
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('instance_admin_token').execute();
  await db.schema.alterTable('org').dropColumn('state_changed_at').execute();
  await db.schema.alterTable('org').dropColumn('state').execute();
}
