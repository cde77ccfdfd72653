import type { Actor, AuditEvent } from '../../domain/model.ts';
import { iso, optIso } from '../../domain/presenters.ts';
import type { AuditAction } from '../../services/audit.ts';
import type { DepartmentView } from '../../services/departments.ts';
import type { BinItem, BulkOutcome } from '../../services/recycle-bin.ts';
import type { SupportChatView } from '../../services/support.ts';

/** Live support, the recycle bin and the audit log as the API shows them (http/schemas/support.ts). */

export const presentPerson = (a: Actor) => ({ id: a.id, name: a.name, email: a.email, kind: a.kind });
export const presentOptPerson = (a: Actor | null) => (a ? presentPerson(a) : null);

export const presentDepartment = (v: DepartmentView) => ({
  id: v.department.id,
  name: v.department.name,
  operator_ids: v.operatorIds,
  hours: v.hours ? { time_zone: v.hours.timeZone, weekly: v.hours.weekly } : null,
  created_at: iso(v.department.createdAt),
});

export function presentSupportChat(v: SupportChatView) {
  const c = v.chat;
  const visitor = v.visitor;
  return {
    id: c.id,
    reference_id: c.referenceId,
    state: c.state,
    question: c.question,
    uvid: c.uvid,
    channel: c.channel,
    department: v.department ? { id: v.department.id, name: v.department.name } : null,
    visitor: visitor
      ? {
          id: visitor.id,
          name: visitor.name,
          email: visitor.email,
          phone: visitor.phone,
          ip: visitor.ip,
          country: visitor.country,
          channel: visitor.channel,
          external_id: visitor.externalId,
        }
      : null,
    owner: presentOptPerson(v.owner),
    attender: presentOptPerson(v.attender),
    participants: v.participants.map(presentPerson),
    unread_count: v.unreadCount,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    attended_at: optIso(c.attendedAt),
    ended_at: optIso(c.endedAt),
    missed_at: optIso(c.missedAt),
  };
}

export const presentBulk = (outcomes: BulkOutcome[]) => ({
  items: outcomes.map((o) =>
    o.ok
      ? { id: o.id, result: 'done' as const, code: null, message: null }
      : { id: o.id, result: 'refused' as const, code: o.code, message: o.message },
  ),
  done: outcomes.filter((o) => o.ok).length,
  refused: outcomes.filter((o) => !o.ok).length,
});
export const presentBinItem = (b: BinItem) => ({
  id: b.chat.id,
  reference_id: b.chat.referenceId,
  state: b.chat.state,
  question: b.chat.question,
  department: b.department ? { id: b.department.id, name: b.department.name } : null,
  visitor: b.visitor ? { id: b.visitor.id, name: b.visitor.name } : null,
  created_at: iso(b.chat.createdAt),
  deleted_at: iso(b.chat.deletedAt ?? 0),
  deleted_by: b.deletedBy ? { id: b.deletedBy.id, name: b.deletedBy.name } : null,
  purge_at: iso(b.chat.purgeAt ?? 0),
});

export const presentAuditEvent = (e: AuditEvent) => ({
  id: e.id,
  actor_id: e.actorId,
  action: e.action as AuditAction,
  target_type: e.targetType,
  target_id: e.targetId,
  details: e.details,
  created_at: iso(e.createdAt),
});

export const presentSettings = (s: { recycleBinDays: number; missedAfterSeconds: number }) => ({
  recycle_bin_days: s.recycleBinDays,
  missed_after_seconds: s.missedAfterSeconds,
});
