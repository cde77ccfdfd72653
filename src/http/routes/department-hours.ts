import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { setDepartmentHours } from '../../services/departments.ts';
import { principalOf } from '../auth.ts';
import { presentDepartment } from '../present/support.ts';
import { DepartmentHoursSchema, DepartmentSchema, IdParams } from '../schemas/support.ts';
import { commonErrors, Nullable } from '../schemas.ts';
import { type Api, typed } from './util.ts';

/** A department's opening hours (registered under /v1). */
export function departmentHoursRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  r.put(
    '/departments/:id/hours',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['departments'],
        summary: "Set a department's opening hours (org owners and admins)",
        description:
          'An IANA time zone and weekly intervals of local time; days left out are closed. `{"hours": null}` removes them (open whenever an operator is available). Outside the hours the widget offers the leave-a-message form. An unknown zone, a time that is not HH:MM, an interval that ends before it starts and overlapping intervals are 400 invalid_request.',
        params: IdParams,
        body: Type.Object({ hours: Nullable(DepartmentHoursSchema) }, { additionalProperties: false }),
        response: { 200: DepartmentSchema, ...commonErrors },
      },
    },
    async (req) => {
      const h = req.body.hours;
      return presentDepartment(
        await setDepartmentHours(
          ctx,
          principalOf(req),
          req.params.id,
          h === null ? null : { timeZone: h.time_zone, weekly: h.weekly },
        ),
      );
    },
  );
}
