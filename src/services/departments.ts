import type { AppContext } from '../context.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Department } from '../domain/model.ts';
import { authorize } from '../domain/policies/decision.ts';
import { canManageSupport, isStaffActor } from '../domain/policies/support.ts';
import type { Principal } from '../domain/principal.ts';
import {
  checkHours,
  type DepartmentHours,
  type HoursState,
  hoursStateAt,
  normalizeHours,
} from '../domain/support-hours.ts';
import { findActorsByIds } from '../store/repos/actors.ts';
import { findDepartmentHours, saveDepartmentHours } from '../store/repos/department-hours.ts';
import {
  findDepartment,
  findDepartmentOperators,
  insertDepartment,
  listDepartments as listDepartmentRows,
  replaceDepartmentOperators,
} from '../store/repos/support.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { announceAvailabilityChange } from './support-availability.ts';
import { inTransaction } from './tx.ts';

export interface DepartmentView {
  department: Department;
  /** The operators assigned to the department (operators without departments serve all). */
  operatorIds: string[];
  /** Opening hours; null: open whenever an operator is available. */
  hours: DepartmentHours | null;
}

/** A department of the caller's org, or `department_not_found` (404), also for other orgs' ids. */
export async function loadDepartment(ctx: AppContext, p: Principal, id: string): Promise<Department> {
  const d = await findDepartment(ctx.db, p.orgId, id);
  if (!d) throw new NotFoundError('department_not_found', `Department ${id} not found`);
  return d;
}

/** Creates a department (org owners and admins: `admin_role_required` 403; `department_name_taken` 409). */
export async function createDepartment(ctx: AppContext, p: Principal, name: string): Promise<DepartmentView> {
  authorize(canManageSupport(p));
  const department: Department = { id: ctx.ids.next(), orgId: p.orgId, name, createdAt: ctx.clock.now() };
  if (!(await insertDepartment(ctx.db, department)))
    throw new ConflictError('department_name_taken', `A department named "${name}" exists already`);
  return { department, operatorIds: [], hours: null };
}

/** The org's departments with their operators, by id; anyone in the org may list them (visitors pick one). */
export async function listDepartments(
  ctx: AppContext,
  p: Principal,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ items: DepartmentView[]; nextCursor: string | null }> {
  const after = input.cursor ? String(decodeCursor(input.cursor, 'departments', ['id'])[0]) : undefined;
  const rows = await listDepartmentRows(ctx.db, p.orgId, { afterId: after, limit: input.limit + 1 });
  const { items: page, nextCursor } = keysetPage(rows, input.limit, 'departments', (last) => [last.id]);
  const ids = page.map((d) => d.id);
  const operators = await findDepartmentOperators(ctx.db, ids);
  const hours = await findDepartmentHours(ctx.db, p.orgId, ids);
  return {
    items: page.map((department) => ({
      department,
      operatorIds: operators.get(department.id) ?? [],
      hours: hours.get(department.id) ?? null,
    })),
    nextCursor,
  };
}

/** One department with its operators (`department_not_found` 404, also for other orgs' ids). */
export async function getDepartment(ctx: AppContext, p: Principal, id: string): Promise<DepartmentView> {
  const department = await loadDepartment(ctx, p, id);
  const operators = await findDepartmentOperators(ctx.db, [department.id]);
  const hours = await findDepartmentHours(ctx.db, p.orgId, [department.id]);
  return {
    department,
    operatorIds: operators.get(department.id) ?? [],
    hours: hours.get(department.id) ?? null,
  };
}

/**
 * Replaces a department's operators (org owners and admins). Every id must be an active user of
 * the org (`operator_not_found` 404) with the role operator, admin or owner (`not_an_operator` 400).
 */
export async function setDepartmentOperators(
  ctx: AppContext,
  p: Principal,
  id: string,
  actorIds: readonly string[],
): Promise<DepartmentView> {
  authorize(canManageSupport(p));
  const department = await loadDepartment(ctx, p, id);
  const ids = [...new Set(actorIds)];
  const actors = new Map((await findActorsByIds(ctx.db, p.orgId, ids)).map((a) => [a.id, a]));
  for (const [i, actorId] of actorIds.entries()) {
    const a = actors.get(actorId);
    if (!a?.active) throw new NotFoundError('operator_not_found', `Actor ${actorId} not found`);
    if (!isStaffActor(a))
      throw ValidationError.field(
        `body.operator_ids.${i}`,
        'must be a user with the role operator, admin or owner',
        'not_an_operator',
      );
  }
  await inTransaction(ctx, (tx) => replaceDepartmentOperators(tx.db, p.orgId, department.id, ids));
  return getDepartment(ctx, p, department.id);
}

/* ------------------------------------------------------------------ opening hours */

/**
 * Sets a department's opening hours, or with null removes them (open whenever an operator is
 * available). Org owners and admins (`admin_role_required` 403). An unknown time zone, a time
 * that is not `HH:MM`, an interval that ends at or before its start, and intervals of a day
 * that overlap are `invalid_request` (400, one detail per problem, under `body.`) and change
 * nothing. Widgets that show the department are told (`support.availability`) when its
 * open/closed state changes by it.
 */
export async function setDepartmentHours(
  ctx: AppContext,
  p: Principal,
  id: string,
  hours: DepartmentHours | null,
): Promise<DepartmentView> {
  authorize(canManageSupport(p));
  const department = await loadDepartment(ctx, p, id);
  if (hours !== null) {
    const problems = checkHours(hours);
    if (problems.length > 0)
      throw new ValidationError(
        'invalid_request',
        `body.${problems[0]!.path} ${problems[0]!.message}`,
        problems.map((x) => ({ path: `body.${x.path}`, problem: x.message })),
      );
  }
  await announceAvailabilityChange(ctx, p.orgId, async () => {
    await saveDepartmentHours(
      ctx.db,
      p.orgId,
      department.id,
      hours && normalizeHours(hours),
      ctx.clock.now(),
    );
  });
  return getDepartment(ctx, p, department.id);
}

/** Open or closed now by the department's hours (always open without hours). */
export function hoursStateNow(ctx: AppContext, hours: DepartmentHours | null | undefined): HoursState {
  return hours ? hoursStateAt(hours, ctx.clock.now()) : { open: true, opensAt: null, closesAt: null };
}
