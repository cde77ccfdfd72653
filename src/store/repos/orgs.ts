import type { Db } from '../../context.ts';
import type { Org } from '../../domain/model.ts';
import { toOrg } from './rows.ts';

export async function insertOrg(db: Db, org: Org): Promise<void> {
  await db
    .insertInto('org')
    .values({ id: org.id, slug: org.slug, name: org.name, settings: '{}', created_at: org.createdAt })
    .execute();
}

export async function findOrgBySlug(db: Db, slug: string): Promise<Org | undefined> {
  const row = await db.selectFrom('org').selectAll().where('slug', '=', slug).executeTakeFirst();
  return row ? toOrg(row) : undefined;
}

export async function findOrgById(db: Db, id: string): Promise<Org | undefined> {
  const row = await db.selectFrom('org').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toOrg(row) : undefined;
}
