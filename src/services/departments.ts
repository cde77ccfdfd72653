import type { AppContext } from '../context.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Department } from '../domain/model.ts';
import { authorize } from '../domain/policies/decision.ts';
import { canManageSupport, isStaffActor } from '../domain/policies/support.ts';
import type { Principal } from '../domain/principal.ts';
import { findActorsByIds } from '../store/repos/actors.ts';
import {
  findDepartment,
  findDepartmentOperators,
  insertDepartment,
  listDepartments as listDepartmentRows,
  replaceDepartmentOperators,
} from '../store/repos/support.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { inTransaction } from './tx.ts';

export interface DepartmentView {
  department: Department;
  /** The operators assigned to the department (operators without departments serve all). */
  operatorIds: string[];
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
  return { department, operatorIds: [] };
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
  const operators = await findDepartmentOperators(
    ctx.db,
    page.map((d) => d.id),
  );
  return {
    items: page.map((department) => ({ department, operatorIds: operators.get(department.id) ?? [] })),
    nextCursor,
  };
}

/** One department with its operators (`department_not_found` 404, also for other orgs' ids). */
export async function getDepartment(ctx: AppContext, p: Principal, id: string): Promise<DepartmentView> {
  const department = await loadDepartment(ctx, p, id);
  const operators = await findDepartmentOperators(ctx.db, [department.id]);
  return { department, operatorIds: operators.get(department.id) ?? [] };
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
