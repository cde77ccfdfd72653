import type { Kysely } from 'kysely';
import type { DepartmentHours } from '../../domain/support-hours.ts';
import type { Database, Db } from '../schema.ts';

/** Departments' opening hours (migration 2026-12-06T01-00-support-server). */

interface DepartmentHoursTable {
  department_id: string;
  org_id: string;
  time_zone: string;
  weekly: string;
  updated_at: number;
}
type HDb = Kysely<Database & { department_hours: DepartmentHoursTable }>;
const hdb = (db: Db): HDb => db as unknown as HDb;

/** The hours of these departments, by department id (departments without hours are left out). */
export async function findDepartmentHours(
  db: Db,
  orgId: string,
  departmentIds: readonly string[],
): Promise<Map<string, DepartmentHours>> {
  const out = new Map<string, DepartmentHours>();
  if (departmentIds.length === 0) return out;
  const rows = await hdb(db)
    .selectFrom('department_hours')
    .select(['department_id', 'time_zone', 'weekly'])
    .where('org_id', '=', orgId)
    .where('department_id', 'in', [...departmentIds])
    .execute();
  for (const r of rows)
    out.set(String(r.department_id), { timeZone: r.time_zone, weekly: JSON.parse(r.weekly) });
  return out;
}

/** Sets (or with null, removes) a department's hours. */
export async function saveDepartmentHours(
  db: Db,
  orgId: string,
  departmentId: string,
  hours: DepartmentHours | null,
  now: number,
): Promise<void> {
  if (hours === null) {
    await hdb(db).deleteFrom('department_hours').where('department_id', '=', departmentId).execute();
    return;
  }
  const values = { time_zone: hours.timeZone, weekly: JSON.stringify(hours.weekly), updated_at: now };
  await hdb(db)
    .insertInto('department_hours')
    .values({ department_id: departmentId, org_id: orgId, ...values })
    .onConflict((oc) => oc.column('department_id').doUpdateSet(values))
    .execute();
}
