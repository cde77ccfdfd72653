import type { Actor, ConversationKind, SupportChat } from '../model.ts';
import type { Principal } from '../principal.ts';
import { isOrgAdmin } from '../principal.ts';
import { canReadWithoutMembership, isStaff, isStaffActor } from './access.ts';
import type { Decision } from './decision.ts';
import { allow, deny } from './decision.ts';

/**
 * Who may do what in live support. Visibility comes first (services/support.ts answers 404 to
 * anyone who may not see a chat: other orgs, plain members, bots, other visitors); these
 * policies decide among those who can see it. States are the state machine's business
 * (domain/support.ts). One condition per line, so coverage shows each branch.
 *
 * Staff are users with the role owner, admin or operator. An operator with departments serves
 * only those; an operator with none serves every department; owners and admins serve all.
 */

/** A conversation as the policies need it: any kind, with the support fields when it has them. */
export interface SupportTarget {
  kind: ConversationKind;
  departmentId?: string | null;
  ownerId?: string | null;
  attenderId?: string | null;
}

export { isStaff, isStaffActor };

/** Whether `a` serves `departmentId`, given `a`'s own departments ([] serves every department). */
export function servesDepartment(a: Actor, departments: readonly string[], departmentId: string): boolean {
  if (!isStaffActor(a)) return false;
  if (a.role === 'owner' || a.role === 'admin') return true;
  if (departments.length === 0) return true;
  return departments.includes(departmentId);
}

/** Visibility of a support chat: the org's staff and the chat's own visitor (the owner-access rule, policies/access.ts). */
export function canSeeSupportChat(p: Principal, chat: Pick<SupportChat, 'orgId' | 'visitorId'>): boolean {
  return canReadWithoutMembership(p, { orgId: chat.orgId, kind: 'support', visitorId: chat.visitorId });
}

/**
 * A visitor starts a chat for themselves; staff start one on behalf of a visitor (`visitorId`).
 * Anyone else (members, bots) may not.
 */
export function canStartSupportChat(p: Principal, visitorId: string | undefined): Decision {
  if (p.actor.kind === 'visitor') {
    if (visitorId !== undefined && visitorId !== p.actor.id)
      return deny('cannot_start_for_others', 'A visitor can only start a chat for themselves');
    return allow();
  }
  if (!isStaff(p))
    return deny('visitor_or_operator_required', 'Support chats are started by visitors or operators');
  return allow();
}

/** The queue is for staff only. */
export function canViewQueue(p: Principal): Decision {
  if (!isStaff(p)) return deny('operator_role_required', 'Only operators see the support queue');
  return allow();
}

/** Staff who serve the chat's department pick it up (its state is the state machine's question). */
export function canPickUp(p: Principal, chat: SupportTarget, myDepartments: readonly string[]): Decision {
  if (chat.kind !== 'support') return deny('not_a_support_chat', 'Only support chats are picked up');
  if (!isStaff(p)) return deny('operator_role_required', 'Only operators pick up chats');
  if (!servesDepartment(p.actor, myDepartments, chat.departmentId ?? ''))
    return deny('not_in_department', "You are not an operator of this chat's department");
  return allow();
}

/** A connected chat is handed to another operator by its attender or owner, or by an admin. */
export function canTransfer(p: Principal, chat: SupportChat): Decision {
  if (!isStaff(p)) return deny('operator_role_required', 'Only operators transfer chats');
  if (isOrgAdmin(p)) return allow();
  if (chat.attenderId === p.actor.id) return allow();
  if (chat.ownerId === p.actor.id) return allow();
  return deny('not_chat_attender', 'Only the operator attending the chat (or an admin) can transfer it');
}

/** A waiting chat is moved to another department by staff who serve its current one. */
export function canReroute(p: Principal, chat: SupportChat, myDepartments: readonly string[]): Decision {
  if (!isStaff(p)) return deny('operator_role_required', 'Only operators move chats between departments');
  if (!servesDepartment(p.actor, myDepartments, chat.departmentId))
    return deny('not_in_department', "You are not an operator of this chat's department");
  return allow();
}

/** The visitor may end their own chat; staff may end chats they attend, or waiting ones of their departments. */
export function canEnd(p: Principal, chat: SupportChat, myDepartments: readonly string[]): Decision {
  if (p.actor.kind === 'visitor' && p.actor.id === chat.visitorId) return allow();
  if (!isStaff(p)) return deny('operator_role_required', 'Only operators and the visitor end chats');
  if (isOrgAdmin(p)) return allow();
  if (chat.attenderId === p.actor.id) return allow();
  if (chat.ownerId === p.actor.id) return allow();
  if (chat.state === 'waiting' && servesDepartment(p.actor, myDepartments, chat.departmentId)) return allow();
  return deny('not_chat_attender', 'Only the operator attending the chat (or an admin) can end it');
}

/**
 * Moving a conversation to the recycle bin: support chats only, by an admin or by the operator
 * who owns or attends it. (That the chat is closed is the state machine's question.)
 */
export function canDeleteChat(p: Principal, chat: SupportTarget): Decision {
  if (chat.kind !== 'support') return deny('not_a_support_chat', 'Only support chats can be deleted');
  if (!isStaff(p)) return deny('operator_role_required', 'Only operators delete chats');
  if (isOrgAdmin(p)) return allow();
  if (chat.ownerId === p.actor.id) return allow();
  if (chat.attenderId === p.actor.id) return allow();
  return deny('not_chat_owner', 'Only the operator who owns or attends the chat (or an admin) can delete it');
}

/** Departments, support settings, the recycle bin and the audit log are for org owners and admins. */
export function canManageSupport(p: Principal): Decision {
  if (!isOrgAdmin(p)) return deny('admin_role_required', 'Only org owners and admins can do this');
  return allow();
}

/**
 * The support chats the principal serves, as the queue reads them: every department's ('all':
 * owners, admins, operators without departments), those of `myDepartments` (an operator
 * assigned to some), or none (null: not staff; a visitor sees their own chat as its member).
 */
export function servedDepartments(
  p: Principal,
  myDepartments: readonly string[],
): 'all' | readonly string[] | null {
  if (!isStaff(p)) return null;
  if (p.actor.role === 'operator' && myDepartments.length > 0) return myDepartments;
  return 'all';
}
