import type { AuditEvent } from '../../domain/model.ts';
import type { Db } from '../schema.ts';
import { toAuditEvent } from './rows.ts';

/** The audit log: written in the transaction of the change it records, never deleted by a purge. */

/** Inserts audit records (in the caller's transaction). */
export async function insertAuditEvents(db: Db, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('audit_event')
    .values(
      events.map((e) => ({
        id: e.id,
        org_id: e.orgId,
        actor_id: e.actorId,
        action: e.action,
        target_type: e.targetType,
        target_id: e.targetId,
        details: JSON.stringify(e.details),
        created_at: e.createdAt,
      })),
    )
    .execute();
}

/** One page of an org's audit log, newest first, keyset on id. */
export async function listAuditEvents(
  db: Db,
  orgId: string,
  opts: {
    action?: string | undefined;
    targetId?: string | undefined;
    beforeId?: string | undefined;
    limit: number;
  },
): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_event').selectAll().where('org_id', '=', orgId);
  if (opts.action) q = q.where('action', '=', opts.action);
  if (opts.targetId) q = q.where('target_id', '=', opts.targetId);
  if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
  return rows.map(toAuditEvent);
}
