import type { Org } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
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

/** The org's settings JSON (rate-limit policies, retention, ...); `{}` when unset or unknown. */
export async function findOrgSettings(db: Db, orgId: string): Promise<Record<string, unknown>> {
  const row = await db.selectFrom('org').select('settings').where('id', '=', orgId).executeTakeFirst();
  if (!row) return {};
  try {
    const parsed = JSON.parse(row.settings) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * Replaces one top-level key of the org's settings. Read-modify-write in one transaction by
 * the caller's choice; concurrent writers of different keys should each use their own call.
 */
export async function updateOrgSetting(db: Db, orgId: string, key: string, value: unknown): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const settings = await findOrgSettings(tx, orgId);
    if (value === undefined) delete settings[key];
    else settings[key] = value;
    await tx
      .updateTable('org')
      .set({ settings: JSON.stringify(settings) })
      .where('id', '=', orgId)
      .execute();
  });
}
