import type { Actor, ActorKind } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
import { toActor } from './rows.ts';

export async function insertActor(db: Db, a: Actor): Promise<void> {
  await db
    .insertInto('actor')
    .values({
      id: a.id,
      org_id: a.orgId,
      kind: a.kind,
      role: a.role,
      name: a.name,
      email: a.email,
      external_id: a.externalId,
      phone: a.phone,
      ip: a.ip,
      country: a.country,
      channel: a.channel,
      active: a.active ? 1 : 0,
      created_at: a.createdAt,
      updated_at: a.updatedAt,
    })
    .execute();
}

export async function findActor(db: Db, orgId: string, id: string): Promise<Actor | undefined> {
  const row = await db
    .selectFrom('actor')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toActor(row) : undefined;
}

export async function findActorsByIds(db: Db, orgId: string, ids: readonly string[]): Promise<Actor[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('actor')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', 'in', ids)
    .execute();
  return rows.map(toActor);
}

export async function findActorByEmailOrExternalId(
  db: Db,
  orgId: string,
  ref: string,
): Promise<Actor | undefined> {
  const row = await db
    .selectFrom('actor')
    .selectAll()
    .where('org_id', '=', orgId)
    .where((eb) => eb.or([eb('email', '=', ref), eb('external_id', '=', ref)]))
    .orderBy('id')
    .executeTakeFirst();
  return row ? toActor(row) : undefined;
}

export async function listActors(
  db: Db,
  orgId: string,
  opts: {
    kind?: ActorKind | undefined;
    afterId?: string | undefined;
    limit: number;
    includeInactive: boolean;
  },
): Promise<Actor[]> {
  let q = db.selectFrom('actor').selectAll().where('org_id', '=', orgId);
  if (opts.kind) q = q.where('kind', '=', opts.kind);
  if (!opts.includeInactive) q = q.where('active', '=', 1);
  if (opts.afterId) q = q.where('id', '>', opts.afterId);
  const rows = await q.orderBy('id').limit(opts.limit).execute();
  return rows.map(toActor);
}

export async function updateActor(
  db: Db,
  orgId: string,
  id: string,
  patch: Partial<
    Pick<Actor, 'name' | 'email' | 'role' | 'externalId' | 'phone' | 'ip' | 'country' | 'channel' | 'active'>
  >,
  now: number,
): Promise<Actor | undefined> {
  const values: Record<string, unknown> = { updated_at: now };
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.email !== undefined) values.email = patch.email;
  if (patch.role !== undefined) values.role = patch.role;
  if (patch.externalId !== undefined) values.external_id = patch.externalId;
  if (patch.phone !== undefined) values.phone = patch.phone;
  if (patch.ip !== undefined) values.ip = patch.ip;
  if (patch.country !== undefined) values.country = patch.country;
  if (patch.channel !== undefined) values.channel = patch.channel;
  if (patch.active !== undefined) values.active = patch.active ? 1 : 0;
  const row = await db
    .updateTable('actor')
    .set(values)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? toActor(row) : undefined;
}

export async function findActorByExternalId(
  db: Db,
  orgId: string,
  externalId: string,
): Promise<Actor | undefined> {
  const row = await db
    .selectFrom('actor')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row ? toActor(row) : undefined;
}
