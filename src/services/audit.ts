import type { AppContext } from '../context.ts';
import type { AuditEvent } from '../domain/model.ts';
import { authorize } from '../domain/policies/decision.ts';
import { canManageSupport } from '../domain/policies/support.ts';
import type { Principal } from '../domain/principal.ts';
import { listAuditEvents } from '../store/repos/audit.ts';
import { decodeCursor, keysetPage } from './cursor.ts';

/** What the audit log records. */
export const AuditAction = [
  'support.picked_up',
  'support.transferred',
  'support.ended',
  'conversation.deleted',
  'conversation.restored',
  'conversation.purged',
  'deletion_job.created',
] as const;
export type AuditAction = (typeof AuditAction)[number];

export interface AuditEntry {
  orgId: string;
  /** null when the system acted (the retention purge). */
  actorId: string | null;
  action: AuditAction;
  /** What `targetId` names; a conversation unless said otherwise. */
  targetType?: 'conversation' | 'deletion_job';
  targetId: string;
  details: Record<string, unknown>;
}

/**
 * The org's audit log, newest first (org owners and admins: `admin_role_required` 403;
 * `invalid_cursor` 400).
 */
export async function listAudit(
  ctx: AppContext,
  p: Principal,
  input: {
    action?: AuditAction | undefined;
    targetId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
  authorize(canManageSupport(p));
  const before = input.cursor ? String(decodeCursor(input.cursor, 'audit', ['id'])[0]) : undefined;
  const rows = await listAuditEvents(ctx.db, p.orgId, {
    action: input.action,
    targetId: input.targetId,
    beforeId: before,
    limit: input.limit + 1,
  });
  return keysetPage(rows, input.limit, 'audit', (last) => [last.id]);
}
