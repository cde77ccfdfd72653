import type { Db } from '../context.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { Conversation, MemberState } from '../domain/model.ts';
import { canReadWithoutMembership } from '../domain/policies/access.ts';
import type { Principal } from '../domain/principal.ts';
import { isConversationShown } from '../domain/visibility.ts';
import { findConversationWithMember } from '../store/repos/conversations.ts';

export interface ConversationAccess {
  conversation: Conversation;
  /** The caller's own member row (current: `leftAt` is null). */
  me: MemberState;
}

/**
 * The only way a service reads a conversation for a principal. Unknown ids, another org's
 * conversations and conversations the caller is not a current member of all throw the same
 * `NotFoundError('conversation_not_found')`, so an answer never confirms that an id exists;
 * so do conversations in the recycle bin.
 */
export async function loadConversation(db: Db, p: Principal, id: string): Promise<ConversationAccess> {
  const found = await findConversationWithMember(db, p.orgId, id, p.actor.id);
  const conversation = found?.conversation;
  const me = found?.member;
  if (!conversation || !isConversationShown(conversation) || !me || me.leftAt !== null) {
    throw new NotFoundError('conversation_not_found', `Conversation ${id} not found`);
  }
  return { conversation, me };
}

export interface ReadAccess {
  conversation: Conversation;
  /** The caller's member row; null when the caller reads without being a member. */
  me: MemberState | null;
}

/**
 * How a service reads a conversation for a read (the conversation, its messages, its pin): a
 * current member, or someone the owner-access rule lets read without membership
 * (domain/policies/access.ts: the org's staff and its visitor, for a support chat). Everyone
 * else gets the same `conversation_not_found` as loadConversation gives.
 */
export async function loadConversationForRead(db: Db, p: Principal, id: string): Promise<ReadAccess> {
  const found = await findConversationWithMember(db, p.orgId, id, p.actor.id);
  const conversation = found?.conversation;
  if (conversation && isConversationShown(conversation)) {
    const me = found.member;
    if (me && me.leftAt === null) return { conversation, me };
    if (canReadWithoutMembership(p, { ...conversation, visitorId: found.visitorId }))
      return { conversation, me: null };
  }
  throw new NotFoundError('conversation_not_found', `Conversation ${id} not found`);
}
