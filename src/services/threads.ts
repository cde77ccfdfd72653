import type { AppContext } from '../context.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { Message } from '../domain/model.ts';
import type { Principal } from '../domain/principal.ts';
import { findMessage } from '../store/repos/messages.ts';
import {
  bumpThread,
  findThreadState,
  joinThread,
  listReplies,
  markThreadRead,
  threadsOf,
  unbumpThread,
} from '../store/repos/team-chat.ts';
import { loadConversation } from './access.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { withReactions } from './reactions.ts';
import { inTransaction, type Tx } from './tx.ts';

/**
 * Threads (docs/api.md#threads). A reply (`reply_to`) belongs to the thread of the message it
 * answers: that message's own thread when it is a reply itself, otherwise the thread it roots.
 * Replies stay in the main timeline too; the thread view lists one thread's replies. The root
 * counts its replies (`reply_count`, `last_reply_at`, moved in the reply's transaction); each
 * participant (the root's author, every replier, anyone who follows) has a thread read
 * position, a count of replies read: thread unread = reply_count - read_count.
 */

/** The thread a reply to `parent` joins. */
export function threadRootOf(parent: Message): string {
  return parent.threadId ?? parent.id;
}

/** In the reply's transaction: the root's counter moves, the replier and the root's author take part. */
export async function recordReply(tx: Tx, m: Message, parent: Message): Promise<void> {
  const rootId = threadRootOf(parent);
  const rootAuthor =
    rootId === parent.id
      ? parent.senderId
      : ((await findMessage(tx.db, m.conversationId, rootId))?.senderId ?? null);
  const count = await bumpThread(tx.db, rootId, m.createdAt);
  const t = { rootId, conversationId: m.conversationId, orgId: m.orgId };
  if (rootAuthor && rootAuthor !== m.senderId) await joinThread(tx.db, t, rootAuthor, null);
  // The replier has read the thread up to their own reply.
  await joinThread(tx.db, t, m.senderId, count);
  tx.emit(m.orgId, [
    {
      type: 'thread.updated',
      conversationId: m.conversationId,
      recipients: [],
      audience: 'members',
      payload: {
        conversation_id: m.conversationId,
        thread_id: rootId,
        reply_id: m.id,
        reply_count: count,
        last_reply_at: new Date(m.createdAt).toISOString(),
      },
    },
  ]);
}

/**
 * In the transaction of a delete for everyone: a deleted reply no longer counts in its root's
 * `reply_count` and `last_reply_at` (its tombstone still shows in the thread, as in history);
 * the members get `thread.updated` with the new figures (`reply_id`: the deleted reply).
 */
export async function unrecordReply(tx: Tx, m: Message): Promise<void> {
  if (!m.threadId) return;
  const { replyCount, lastReplyAt } = await unbumpThread(tx.db, m.threadId, m.id);
  tx.emit(m.orgId, [
    {
      type: 'thread.updated',
      conversationId: m.conversationId,
      recipients: [],
      audience: 'members',
      payload: {
        conversation_id: m.conversationId,
        thread_id: m.threadId,
        reply_id: m.id,
        reply_count: replyCount,
        last_reply_at: lastReplyAt === null ? null : new Date(lastReplyAt).toISOString(),
      },
    },
  ]);
}

export interface ThreadMe {
  following: boolean;
  readCount: number;
  unreadCount: number;
}

async function loadRoot(ctx: AppContext, p: Principal, conversationId: string, messageId: string) {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  let root = await findMessage(ctx.db, conversation.id, messageId);
  if (root?.threadId) root = await findMessage(ctx.db, conversation.id, root.threadId);
  if (!root) throw new NotFoundError('message_not_found', `Message ${messageId} not found`);
  return { conversation, root };
}

function meOf(root: Message, state: { following: boolean; readCount: number } | undefined): ThreadMe {
  const replies = root.replyCount ?? 0;
  const readCount = Math.min(state?.readCount ?? 0, replies);
  return {
    following: state?.following ?? false,
    readCount,
    unreadCount: state ? replies - readCount : 0,
  };
}

/**
 * A thread: its root, a page of replies oldest first (cursor), and the caller's thread state.
 * `messageId` may be the root or any reply of it. `message_not_found` (404).
 */
export async function getThread(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ root: Message; replies: Message[]; nextCursor: string | null; me: ThreadMe }> {
  const { root } = await loadRoot(ctx, p, conversationId, messageId);
  const after = input.cursor ? String(decodeCursor(input.cursor, 'thread', ['id'])[0]) : undefined;
  const rows = await listReplies(ctx.db, root.id, after, input.limit + 1);
  const { items: page, nextCursor } = keysetPage(rows, input.limit, 'thread', (last) => [last.id]);
  const [withR] = await withReactions(ctx.db, [root]);
  return {
    root: withR!,
    replies: await withReactions(ctx.db, page),
    nextCursor,
    me: meOf(root, await findThreadState(ctx.db, root.id, p.actor.id)),
  };
}

/** Marks every reply of the thread read for the caller (a participant; others have nothing to mark). */
export async function readThread(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
): Promise<ThreadMe> {
  const { root } = await loadRoot(ctx, p, conversationId, messageId);
  await inTransaction(ctx, (tx) => markThreadRead(tx.db, root.id, p.actor.id, root.replyCount ?? 0));
  return meOf(root, await findThreadState(ctx.db, root.id, p.actor.id));
}

/** Follows (becomes a participant with the thread's unread count) or unfollows a thread. */
export async function followThread(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
  following: boolean,
): Promise<ThreadMe> {
  const { conversation, root } = await loadRoot(ctx, p, conversationId, messageId);
  await inTransaction(ctx, async (tx) => {
    const t = { rootId: root.id, conversationId: conversation.id, orgId: p.orgId };
    await joinThread(tx.db, t, p.actor.id, null, following);
  });
  return meOf(root, await findThreadState(ctx.db, root.id, p.actor.id));
}

/** The threads the caller follows in a conversation, most recent reply first, with unread counts. */
export async function listMyThreads(ctx: AppContext, p: Principal, conversationId: string) {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  return threadsOf(ctx.db, conversation.id, p.actor.id);
}
