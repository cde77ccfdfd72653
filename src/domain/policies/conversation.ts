import type { Conversation, MemberState, Message, SupportState } from '../model.ts';
import type { Principal } from '../principal.ts';
import { isOrgAdmin } from '../principal.ts';
import type { Decision } from './decision.ts';
import { allow, deny } from './decision.ts';

/**
 * Who may do what to a conversation the caller can already see (visibility is decided in
 * services/access.ts: non-members get 404). One condition per line, so coverage shows each.
 */

function isConversationManager(p: Principal, me: MemberState): boolean {
  return me.role === 'owner' || me.role === 'admin' || isOrgAdmin(p);
}

export function canCreateConversation(p: Principal, kind: Conversation['kind']): Decision {
  if (kind === 'support') return deny('use_support_api', 'Support chats are started by visitors');
  if (kind === 'channel' && p.actor.kind !== 'user')
    return deny('users_only', 'Only users can create channels');
  return allow();
}

export function canRename(p: Principal, c: Conversation, me: MemberState): Decision {
  if (c.kind === 'direct') return deny('direct_chat_has_no_title', 'A direct chat has no title to change');
  if (c.kind === 'group') return allow();
  if (!isConversationManager(p, me))
    return deny('not_conversation_admin', 'Only the owner or an admin can rename this');
  return allow();
}

export function canAddMembers(p: Principal, c: Conversation, me: MemberState): Decision {
  if (c.kind === 'direct')
    return deny('direct_chat_is_fixed', 'A direct chat always has exactly two members');
  if (c.kind === 'group') return allow();
  if (!isConversationManager(p, me))
    return deny('not_conversation_admin', 'Only the owner or an admin can add members');
  return allow();
}

export function canRemoveMember(
  p: Principal,
  c: Conversation,
  me: MemberState,
  target: MemberState,
): Decision {
  if (c.kind === 'direct')
    return deny('direct_chat_is_fixed', 'A direct chat always has exactly two members');
  if (target.role === 'owner' && me.role !== 'owner')
    return deny('cannot_remove_owner', 'The owner cannot be removed');
  if (!isConversationManager(p, me))
    return deny('not_conversation_admin', 'Only the owner or an admin can remove members');
  return allow();
}

export function canLeave(c: Conversation): Decision {
  if (c.kind === 'direct')
    return deny('cannot_leave_direct_chat', 'A direct chat cannot be left; hide it instead');
  return allow();
}

/** `supportState` is the state of a support chat (null for other kinds): closed chats take no messages. */
export function canSend(me: MemberState, supportState: SupportState | null = null): Decision {
  if (me.leftAt !== null) return deny('not_a_member', 'You are no longer a member of this conversation');
  if (supportState === 'ended' || supportState === 'missed')
    return deny('chat_closed', 'This support chat is closed');
  return allow();
}

export function canEditMessage(p: Principal, m: Message): Decision {
  if (m.senderId !== p.actor.id) return deny('not_message_sender', 'Only the sender can edit a message');
  return allow();
}

export function canDeleteMessage(p: Principal, m: Message, me: MemberState): Decision {
  if (m.senderId === p.actor.id) return allow();
  if (isConversationManager(p, me)) return allow();
  return deny('not_message_sender', 'Only the sender or a conversation admin can delete a message');
}

export function canManageActors(p: Principal): Decision {
  if (!isOrgAdmin(p)) return deny('admin_role_required', 'Only org owners and admins can manage people');
  return allow();
}
