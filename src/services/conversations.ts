import type { AppContext } from '../context.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Conversation, ConversationKind, MemberState, Message } from '../domain/model.ts';
import { canCreateConversation, canRename } from '../domain/policies/conversation.ts';
import { authorize } from '../domain/policies/decision.ts';
import { presentConversationCore } from '../domain/presenters.ts';
import type { Principal } from '../domain/principal.ts';
import { findActor, findActorsByIds } from '../store/repos/actors.ts';
import {
  findDirectConversation,
  findMember,
  insertConversation,
  insertMembers,
  listConversationsForActor,
  updateConversationTitle,
} from '../store/repos/conversations.ts';
import { findMessage } from '../store/repos/messages.ts';
import { findCurrentMembersOf } from '../store/repos/peers.ts';
import { loadConversation, loadConversationForRead } from './access.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { withMentionCounts } from './mentions.ts';
import { checkQuota } from './quotas.ts';
import { conversationAudience } from './recipients.ts';
import { inTransaction } from './tx.ts';

export interface ConversationView {
  conversation: Conversation;
  me: MemberState;
  lastMessage: Message | null;
  lastSenderName: string | null;
  /** Mentions of the caller after their read position (team chat). */
  mentionCount?: number;
}

/** A conversation as a read shows it: `me` is null for a reader who is not a member (policies/access.ts). */
export type ConversationReadView = Omit<ConversationView, 'me'> & { me: MemberState | null };

export interface CreateConversationInput {
  kind: Exclude<ConversationKind, 'support'>;
  title?: string | undefined;
  memberIds: string[];
}

/**
 * Creates a direct, group or channel conversation with the caller as a member (the owner
 * of groups and channels). A direct chat between two actors is one conversation: asking
 * again returns the existing one with `created: false`. Throws `actor_not_found` (404) for
 * member ids outside the org or deactivated, and `invalid_members` (400) for a direct chat
 * without exactly one other member.
 */
export async function createConversation(
  ctx: AppContext,
  p: Principal,
  input: CreateConversationInput,
): Promise<{ view: ConversationView; created: boolean }> {
  authorize(canCreateConversation(p, input.kind));
  const others = [...new Set(input.memberIds)].filter((id) => id !== p.actor.id);
  if (input.kind === 'direct' && others.length !== 1) {
    throw ValidationError.field(
      'body.member_ids',
      'must name exactly one other actor for a direct chat',
      'invalid_members',
    );
  }
  if (input.kind === 'direct' && input.title !== undefined) {
    throw ValidationError.field('body.title', 'is not allowed for a direct chat', 'invalid_title');
  }
  if (input.kind === 'channel' && !input.title) {
    throw ValidationError.field('body.title', 'is required for a channel', 'invalid_title');
  }
  const maxMembers = ctx.config.quotas.membersPerConversation;
  checkQuota('members_per_conversation', maxMembers, 0, others.length + 1, 'Too many members');
  const actors = await findActorsByIds(ctx.db, p.orgId, others);
  const found = new Set(actors.filter((a) => a.active).map((a) => a.id));
  const missing = others.filter((id) => !found.has(id));
  if (missing.length > 0) throw new NotFoundError('actor_not_found', `Actor ${missing[0]} not found`);

  const now = ctx.clock.now();
  const directKey = input.kind === 'direct' ? [p.actor.id, others[0]!].sort().join(':') : null;
  const conversation: Conversation = {
    id: ctx.ids.next(),
    orgId: p.orgId,
    kind: input.kind,
    title: input.kind === 'direct' ? null : (input.title ?? null),
    creatorId: p.actor.id,
    memberCount: others.length + 1,
    lastMessageId: null,
    lastActivityAt: now,
    createdAt: now,
    updatedAt: now,
  };
  const created = await inTransaction(ctx, async (tx) => {
    const inserted = await insertConversation(tx.db, conversation, directKey);
    if (!inserted) return false;
    const ownerRole = input.kind === 'direct' ? 'member' : 'owner';
    await insertMembers(
      tx.db,
      p.orgId,
      conversation.id,
      [
        { actorId: p.actor.id, role: ownerRole },
        ...others.map((actorId) => ({ actorId, role: 'member' as const })),
      ],
      now,
    );
    tx.emit(p.orgId, [
      {
        type: 'conversation.created',
        conversationId: conversation.id,
        recipients: [p.actor.id, ...others],
        payload: { conversation: presentConversationCore(conversation) },
      },
    ]);
    return true;
  });
  if (!created) {
    // The direct chat exists already (made earlier, or by a concurrent request): return it.
    const existing = await findDirectConversation(ctx.db, p.orgId, directKey!);
    const me = existing ? await findMember(ctx.db, existing.id, p.actor.id) : undefined;
    if (!existing || !me) throw new NotFoundError('conversation_not_found', 'Conversation not found');
    return { view: await viewOf(ctx, existing, me), created: false };
  }
  return { view: await memberView(ctx, p, conversation.id), created: true };
}

async function lastOf(
  ctx: AppContext,
  conversation: Conversation,
): Promise<Pick<ConversationView, 'lastMessage' | 'lastSenderName'>> {
  const lastMessage = conversation.lastMessageId
    ? await findMessage(ctx.db, conversation.id, conversation.lastMessageId)
    : undefined;
  const sender = lastMessage ? await findActor(ctx.db, conversation.orgId, lastMessage.senderId) : undefined;
  return { lastMessage: lastMessage ?? null, lastSenderName: sender?.name ?? null };
}

async function viewOf(
  ctx: AppContext,
  conversation: Conversation,
  me: MemberState,
): Promise<ConversationView> {
  return { conversation, me, ...(await lastOf(ctx, conversation)) };
}

/** The conversation as its member sees it (after a change the caller made as a member). */
async function memberView(ctx: AppContext, p: Principal, id: string): Promise<ConversationView> {
  const { conversation, me } = await loadConversation(ctx.db, p, id);
  const [view] = await withMentionCounts(ctx, p.actor.id, [await viewOf(ctx, conversation, me)]);
  return view!;
}

/**
 * One conversation with the caller's state and its last message; 404 unless the caller is a
 * member or may read it without membership (staff and support chats: policies/access.ts).
 */
export async function getConversation(
  ctx: AppContext,
  p: Principal,
  id: string,
): Promise<ConversationReadView> {
  const { conversation, me } = await loadConversationForRead(ctx.db, p, id);
  const view = { conversation, me, ...(await lastOf(ctx, conversation)) };
  // A reader who is not a member has no read position, so no mentions to count.
  return me ? (await withMentionCounts(ctx, p.actor.id, [view]))[0]! : view;
}

export interface ListConversationsInput {
  kind?: ConversationKind | undefined;
  modifiedBefore?: number | undefined;
  modifiedAfter?: number | undefined;
  drafts?: boolean | undefined;
  muted?: boolean | undefined;
  hidden?: boolean | undefined;
  pinned?: boolean | undefined;
  hasMentions?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * The caller's conversations: those pinned in the caller's list first, then by most recent
 * activity, one page at a time (`invalid_cursor` 400).
 */
export async function listConversations(
  ctx: AppContext,
  p: Principal,
  input: ListConversationsInput,
): Promise<{ items: ConversationView[]; nextCursor: string | null }> {
  const after = input.cursor ? decodeCursor(input.cursor, 'conversations', ['int', 'int', 'id']) : undefined;
  const rows = await listConversationsForActor(ctx.db, {
    orgId: p.orgId,
    actorId: p.actor.id,
    kind: input.kind,
    modifiedBefore: input.modifiedBefore,
    modifiedAfter: input.modifiedAfter,
    drafts: input.drafts,
    muted: input.muted,
    hidden: input.hidden ?? false,
    now: ctx.clock.now(),
    pinned: input.pinned,
    hasMentions: input.hasMentions,
    after: after
      ? { pinned: Number(after[0]), activityAt: Number(after[1]), conversationId: String(after[2]) }
      : undefined,
    limit: input.limit + 1,
  });
  const page = keysetPage(rows, input.limit, 'conversations', (last) => [
    last.me.pinned ? 1 : 0,
    last.me.activityAt,
    last.conversation.id,
  ]);
  return { items: await withMentionCounts(ctx, p.actor.id, page.items), nextCursor: page.nextCursor };
}

/** Renames a group or channel (`direct_chat_has_no_title`, `not_conversation_admin` 403). */
export async function renameConversation(
  ctx: AppContext,
  p: Principal,
  id: string,
  title: string,
): Promise<ConversationView> {
  const { conversation, me } = await loadConversation(ctx.db, p, id);
  authorize(canRename(p, conversation, me));
  await inTransaction(ctx, async (tx) => {
    const now = ctx.clock.now();
    await updateConversationTitle(tx.db, conversation.id, title, now);
    tx.emit(p.orgId, [
      {
        type: 'conversation.updated',
        conversationId: conversation.id,
        recipients: await conversationAudience(tx.db, conversation.id),
        payload: { conversation: presentConversationCore({ ...conversation, title, updatedAt: now }) },
      },
    ]);
  });
  return memberView(ctx, p, id);
}

/**
 * The other current members of each of the given conversations (which the caller listed,
 * so may see), by conversation id: the people a chat list names a direct chat after.
 */
export async function peersOf(
  ctx: AppContext,
  p: Principal,
  conversationIds: readonly string[],
): Promise<Map<string, { id: string; name: string }[]>> {
  const rows = await findCurrentMembersOf(ctx.db, conversationIds);
  const out = new Map<string, { id: string; name: string }[]>(conversationIds.map((id) => [id, []]));
  for (const r of rows)
    if (r.actorId !== p.actor.id) out.get(r.conversationId)?.push({ id: r.actorId, name: r.name });
  return out;
}
