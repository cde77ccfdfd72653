import type { AppContext } from '../context.ts';
import type { Department } from '../domain/model.ts';
import type { DepartmentHours, HoursState } from '../domain/support-hours.ts';
import { hoursStateAt } from '../domain/support-hours.ts';
import { findDepartmentHours } from '../store/repos/department-hours.ts';
import { findDepartmentsByIds, listDepartments } from '../store/repos/support.ts';
import {
  findAvailableStaff,
  findVisitorsOfDepartments,
  listStaffAvailability,
} from '../store/repos/widgets.ts';
import { publishEphemeral } from './events.ts';

/**
 * Whether a department can take a live chat now: it is open by its opening hours (always, without
 * hours) and an operator who serves it is available. Changes are announced live
 * (`support.availability`), so widgets switch between live chat and the leave-a-message form and
 * operators' consoles follow, on every node (the event bus).
 */

export interface DepartmentAvailability {
  department: Department;
  /** Open by the opening hours now, and when that changes. */
  hours: HoursState;
  /** The hours themselves (null: none set). */
  schedule: DepartmentHours | null;
  availableOperators: number;
  /** Open and an operator is available: the widget offers live chat. */
  online: boolean;
}

/** The availability of these departments of the org, in the order given (unknown ids left out). */
export async function departmentAvailability(
  ctx: AppContext,
  orgId: string,
  departmentIds: readonly string[],
): Promise<DepartmentAvailability[]> {
  const found = new Map((await findDepartmentsByIds(ctx.db, orgId, departmentIds)).map((d) => [d.id, d]));
  const hours = await findDepartmentHours(ctx.db, orgId, [...found.keys()]);
  const now = ctx.clock.now();
  const out: DepartmentAvailability[] = [];
  for (const id of departmentIds) {
    const department = found.get(id);
    if (!department) continue;
    const schedule = hours.get(id) ?? null;
    const state = schedule ? hoursStateAt(schedule, now) : { open: true, opensAt: null, closesAt: null };
    const availableOperators = (await findAvailableStaff(ctx.db, orgId, id)).length;
    out.push({
      department,
      hours: state,
      schedule,
      availableOperators,
      online: state.open && availableOperators > 0,
    });
  }
  return out;
}

async function onlineByDepartment(ctx: AppContext, orgId: string): Promise<Map<string, boolean>> {
  const all = await listDepartments(ctx.db, orgId, { limit: 1000 });
  const states = await departmentAvailability(
    ctx,
    orgId,
    all.map((d) => d.id),
  );
  return new Map(states.map((s) => [s.department.id, s.online]));
}

/**
 * Runs `change` (an operator's availability, a department's hours) and announces the result:
 * `support.availability` (ephemeral, through the bus to every node) with the departments whose
 * online state changed, to the org's staff and, when some changed, to the visitors holding a
 * credential for a widget that shows them. `who` names the operator whose availability changed.
 */
export async function announceAvailabilityChange(
  ctx: AppContext,
  orgId: string,
  change: () => Promise<void>,
  who?: { actorId: string; status: string },
): Promise<void> {
  const before = await onlineByDepartment(ctx, orgId);
  await change();
  const after = await onlineByDepartment(ctx, orgId);
  const changed = [...after.entries()].filter(([id, online]) => before.get(id) !== online);
  const staff = (await listStaffAvailability(ctx.db, orgId)).map((s) => s.actorId);
  const visitors = await findVisitorsOfDepartments(
    ctx.db,
    orgId,
    changed.map(([id]) => id),
    ctx.clock.now(),
  );
  const departments = changed.map(([id, online]) => ({ id, online }));
  if (changed.length > 0 || who)
    await publishEphemeral(ctx, orgId, {
      type: 'support.availability',
      conversationId: null,
      recipients: staff,
      payload: { actor_id: who?.actorId ?? null, status: who?.status ?? null, departments },
    });
  // Visitors learn which departments changed, not who did it.
  if (visitors.length > 0)
    await publishEphemeral(ctx, orgId, {
      type: 'support.availability',
      conversationId: null,
      recipients: visitors,
      payload: { actor_id: null, status: null, departments },
    });
}
