import type { AppContext } from '../../context.ts';
import {
  createDepartment,
  getDepartment,
  listDepartments,
  setDepartmentOperators,
} from '../../services/departments.ts';
import { principalOf } from '../auth.ts';
import { presentDepartment } from '../present/support.ts';
import { presentPage } from '../present.ts';
import {
  DepartmentCreateBody,
  DepartmentOperatorsBody,
  DepartmentSchema,
  IdParams,
  PageQuery,
} from '../schemas/support.ts';
import { commonErrors, IdempotencyHeaders, page, pageArgs, readErrors } from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

/** The native routes of live support's departments (registered under /v1). */
export function departmentRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const tags = ['departments'];

  r.post(
    '/departments',
    {
      config: { scope: 'admin', idempotent: true },
      schema: {
        tags,
        headers: IdempotencyHeaders,
        summary: 'Create a department (org owners and admins)',
        body: DepartmentCreateBody,
        response: { 201: DepartmentSchema, ...commonErrors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(presentDepartment(await createDepartment(ctx, principalOf(req), req.body.name))),
  );

  r.get(
    '/departments',
    {
      config: { scope: 'support:read' },
      schema: {
        tags,
        summary: "List the org's departments with their operators",
        querystring: PageQuery,
        response: { 200: page(DepartmentSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listDepartments(ctx, principalOf(req), {
        ...pageArgs(req.query),
      });
      return presentPage(result, presentDepartment);
    },
  );

  r.get(
    '/departments/:id',
    {
      config: { scope: 'support:read' },
      schema: {
        tags,
        summary: 'Get a department',
        params: IdParams,
        response: { 200: DepartmentSchema, ...readErrors },
      },
    },
    async (req) => presentDepartment(await getDepartment(ctx, principalOf(req), req.params.id)),
  );

  r.put(
    '/departments/:id/operators',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "Set a department's operators (org owners and admins)",
        description:
          'Replaces the list. Operators with departments see and pick up only those chats; operators without any serve every department.',
        params: IdParams,
        body: DepartmentOperatorsBody,
        response: { 200: DepartmentSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentDepartment(
        await setDepartmentOperators(
          ctx,
          principalOf(req),
          req.params.id,
          req.body.operator_ids.map((v, i) => bodyId(v, `body.operator_ids.${i}`)),
        ),
      ),
  );
}
