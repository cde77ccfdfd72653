import type { AppContext } from '../../context.ts';
import { listAudit } from '../../services/audit.ts';
import { principalOf } from '../auth.ts';
import { presentAuditEvent } from '../present/support.ts';
import { presentPage } from '../present.ts';
import { AuditEventSchema, AuditQuery } from '../schemas/support.ts';
import { page, pageArgs, readErrors } from '../schemas.ts';
import { type Api, typed } from './util.ts';

/** The native route of the audit log (registered under /v1). */
export function auditRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);

  r.get(
    '/audit-events',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (org owners and admins)',
        querystring: AuditQuery,
        response: { 200: page(AuditEventSchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listAudit(ctx, principalOf(req), {
        action: req.query.action,
        targetId: req.query.target_id,
        ...pageArgs(req.query),
      });
      return presentPage(result, presentAuditEvent);
    },
  );
}
