import type { AppContext } from '../context.ts';
import { ConflictError, NotFoundError } from '../domain/errors.ts';
import type { DomainEvent, NewEvent } from '../domain/events.ts';
import type { Message } from '../domain/model.ts';
import { canDeleteMessage, canEditMessage, canSend } from '../domain/policies/conversation.ts';
import { authorize } from '../domain/policies/decision.ts';
import { presentMessage } from '../domain/presenters.ts';
import type { Principal } from '../domain/principal.ts';
import { isUniqueViolation } from '../store/errors.ts';
import {
  findMessage,
  findMessageByClientId,
  listMessages as listMessageRows,
  markMessageDeleted,
  storeNewMessage,
  storePlainSendInOneStatement,
  uncountDeleted,
  updateMessageText,
} from '../store/repos/messages.ts';
import { deleteSticky } from '../store/repos/pins.ts';
import { redactMessageCopies } from '../store/repos/redaction.ts';
import { findSupportChat } from '../store/repos/support.ts';
import { deleteTeamChatRowsOf } from '../store/repos/team-chat.ts';
import { loadConversation, loadConversationForRead } from './access.ts';
import { attachToMessage, sweepAttachments } from './attachments.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { publishEvents } from './events.ts';
import { recordMentions, reresolveMentions, resolveMentions } from './mentions.ts';
import { withReactions } from './reactions.ts';
import { eraseAfterPurge } from './recycle-bin.ts';
import { recordReply, threadRootOf, unrecordReply } from './threads.ts';
import { inTransaction } from './tx.ts';

export interface SendMessageInput {
  text: string;
  type?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  replyToId?: string | undefined;
  /** The client's own id for this send (or the Idempotency-Key): a retry returns the first message. */
  clientId?: string | undefined;
  /** Uploads (POST /v1/conversations/{id}/attachments) to attach; none costs nothing extra. */
  attachmentIds?: readonly string[] | undefined;
}

/** A retry with the same client id committed between our check and our insert: run the send again. */
class SendRaced extends Error {}

/**
 * Stores a message and, in the same transaction, moves the conversation's count, last message
 * and activity (so every other member's unread count and list order, which derive from them;
 * hidden entries come back) and the sender's read position. A fixed number of rows, whatever
 * the number of members. A retried send with the same client id returns the stored message
 * (`created: false`); reusing a client id for a different message is `idempotency_key_reused`
 * (409). `reply_to_not_found` (404) when the replied-to message is not in this conversation.
 */
export async function sendMessage(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  input: SendMessageInput,
): Promise<{ message: Message; created: boolean }> {
  if (ctx.caps.oneStatementSend && isPlainSend(input) && ctx.eventSinks.every((s) => s.coversPlainSend)) {
    const sent = await sendInOneStatement(ctx, p, conversationId, input);
    if (sent) {
      ctx.sendPaths.oneStatement++;
      return sent;
    }
  }
  ctx.sendPaths.transaction++;
  try {
    return await sendOnce(ctx, p, conversationId, input);
  } catch (err) {
    if (!(err instanceof SendRaced)) throw err;
    return sendOnce(ctx, p, conversationId, input);
  }
}

/** A new message of `p` in the conversation, as both send paths store it. */
function newMessage(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  input: SendMessageInput,
  extra: Pick<Message, 'mentions' | 'threadId'> & Partial<Pick<Message, 'id' | 'attachments'>>,
): Message {
  return {
    id: extra.id ?? ctx.ids.next(),
    orgId: p.orgId,
    conversationId,
    senderId: p.actor.id,
    type: input.type ?? 'text',
    text: input.text,
    metadata: input.metadata ?? null,
    replyToId: input.replyToId ?? null,
    clientId: input.clientId ?? null,
    createdAt: ctx.clock.now(),
    editedAt: null,
    deletedAt: null,
    mentions: extra.mentions,
    threadId: extra.threadId,
    ...(extra.attachments ? { attachments: extra.attachments } : {}),
  };
}

/** The event of a new message, for its conversation's members. */
function messageCreated(message: Message): NewEvent {
  return {
    type: 'message.created',
    conversationId: message.conversationId,
    recipients: [],
    audience: 'members',
    payload: { message: presentMessage(message) },
  };
}

/**
 * A send with nothing but text (and type, metadata, client id): no reply, no attachment, no
 * `@` (so no mention to resolve). Most sends are plain.
 */
function isPlainSend(input: SendMessageInput): boolean {
  return !input.replyToId && !input.attachmentIds?.length && !input.text.includes('@');
}

/**
 * A plain send as one statement in autocommit where the store offers it (PostgreSQL: one round
 * trip and one commit instead of 6-7 round trips; docs/performance.md). Writes the same rows
 * and the same event as sendOnce, and publishes the event after the commit. Null when the
 * statement wrote nothing (a refusal, a retried or concurrently used client id, an org with
 * webhooks for `message.created`): the general path then decides, and answers, as always.
 */
async function sendInOneStatement(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  input: SendMessageInput,
): Promise<{ message: Message; created: boolean } | null> {
  const message = newMessage(ctx, p, conversationId, input, { mentions: null, threadId: null });
  const created = messageCreated(message);
  let stored: { seq: number } | null;
  try {
    const event = {
      type: created.type,
      payload: JSON.stringify(created.payload),
      createdAt: message.createdAt,
    };
    // With others of its batch where there is a batcher (store/send-batch.ts), else alone.
    stored = ctx.sendBatcher
      ? await ctx.sendBatcher.submit(message, event)
      : await storePlainSendInOneStatement(ctx.db, message, event);
  } catch (err) {
    // The client id was taken by a concurrent send: the general path returns that message.
    if (isUniqueViolation(err)) return null;
    throw err;
  }
  if (!stored) return null;
  const event: DomainEvent = {
    ...created,
    conversationId,
    orgId: p.orgId,
    seq: stored.seq,
    createdAt: message.createdAt,
  };
  await publishEvents(ctx, [event]);
  return { message, created: true };
}

function sendOnce(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  input: SendMessageInput,
): Promise<{ message: Message; created: boolean }> {
  return inTransaction(ctx, async (tx) => {
    const { conversation, me } = await loadConversation(tx.db, p, conversationId);
    const supportState =
      conversation.kind === 'support'
        ? ((await findSupportChat(tx.db, p.orgId, conversation.id))?.state ?? null)
        : null;
    authorize(canSend(me, supportState));
    let parent: Message | undefined;
    if (input.replyToId) {
      parent = await findMessage(tx.db, conversation.id, input.replyToId);
      if (!parent)
        throw new NotFoundError(
          'reply_to_not_found',
          `Message ${input.replyToId} not found in this conversation`,
        );
    }
    if (input.clientId) {
      const m = await findMessageByClientId(tx.db, p.orgId, p.actor.id, input.clientId);
      if (m) {
        if (
          m.conversationId !== conversation.id ||
          (m.deletedAt === null && m.editedAt === null && m.text !== input.text)
        ) {
          throw new ConflictError(
            'idempotency_key_reused',
            'This client id was already used for a different message',
            {
              message_id: m.id,
            },
          );
        }
        return { message: m, created: false };
      }
    }
    const id = ctx.ids.next();
    const attachments = input.attachmentIds?.length
      ? await attachToMessage(tx.db, {
          orgId: p.orgId,
          uploaderId: p.actor.id,
          conversationId: conversation.id,
          messageId: id,
          ids: input.attachmentIds,
          now: ctx.clock.now(),
        })
      : null;
    const message = newMessage(ctx, p, conversation.id, input, {
      id,
      // Team chat: no query unless the text has an `@` (mentions.ts) or this is a reply (threads.ts).
      mentions: await resolveMentions(tx.db, conversation, input.text),
      threadId: parent ? threadRootOf(parent) : null,
      ...(attachments ? { attachments } : {}),
    });
    const ordinal = await storeNewMessage(tx.db, message);
    if (ordinal === null) throw new SendRaced();
    await recordMentions(tx, message, ordinal);
    if (parent) await recordReply(tx, message, parent);
    tx.emit(p.orgId, [messageCreated(message)]);
    return { message, created: true };
  });
}

export interface ListMessagesInput {
  limit: number;
  before?: string | undefined;
  after?: string | undefined;
  cursor?: string | undefined;
}

/**
 * A page of history. Without `after`, newest first (scroll back with `before` or the cursor);
 * with `after`, oldest first from that id (catching up). Deleted messages stay as tombstones.
 */
export async function listMessages(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  input: ListMessagesInput,
): Promise<{ items: Message[]; nextCursor: string | null }> {
  const { conversation } = await loadConversationForRead(ctx.db, p, conversationId);
  let before = input.before;
  let after = input.after;
  if (input.cursor) {
    const [dir, id] = decodeCursor(input.cursor, 'messages', ['int', 'id']);
    if (dir === 1) after = String(id);
    else before = String(id);
  }
  const order = after !== undefined && before === undefined ? 'asc' : 'desc';
  const rows = await listMessageRows(ctx.db, conversation.id, {
    beforeId: before,
    afterId: after,
    order,
    limit: input.limit + 1,
  });
  const page = keysetPage(rows, input.limit, 'messages', (last) => [order === 'asc' ? 1 : 0, last.id]);
  return { items: await withReactions(ctx.db, page.items), nextCursor: page.nextCursor };
}

async function loadMessage(ctx: AppContext, conversationId: string, messageId: string): Promise<Message> {
  const m = await findMessage(ctx.db, conversationId, messageId);
  if (!m) throw new NotFoundError('message_not_found', `Message ${messageId} not found`);
  return m;
}

/** Changes a message's text (`not_message_sender` 403; `message_deleted` 409; `message_not_found` 404). */
export async function editMessage(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
  text: string,
): Promise<Message> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const m = await loadMessage(ctx, conversation.id, messageId);
  authorize(canEditMessage(p, m));
  const deletedError = () => new ConflictError('message_deleted', 'A deleted message cannot be edited');
  if (m.deletedAt !== null) throw deletedError();
  return inTransaction(ctx, async (tx) => {
    // A delete that committed since the read above wins: the text stays erased.
    const updated = await updateMessageText(tx.db, m.id, text, ctx.clock.now());
    if (!updated) throw deletedError();
    const edited = await reresolveMentions(tx, conversation, m, updated);
    tx.emit(p.orgId, [
      {
        type: 'message.edited',
        conversationId: conversation.id,
        recipients: [],
        audience: 'members',
        payload: { message: presentMessage(edited) },
      },
    ]);
    return edited;
  });
}

/**
 * Deletes a message for everyone: its text and metadata are erased, from its row and, in the
 * same transaction, from every stored copy (event log, webhook deliveries, stored idempotent
 * answers); a tombstone keeps its place, a pin on it is removed and it stops counting as
 * unread. Deleting twice is a no-op.
 */
export async function deleteMessage(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
): Promise<Message> {
  const { conversation, me } = await loadConversation(ctx.db, p, conversationId);
  const m = await loadMessage(ctx, conversation.id, messageId);
  authorize(canDeleteMessage(p, m, me));
  if (m.deletedAt !== null) return m;
  const deleted = await inTransaction(ctx, async (tx) => {
    const deleted = await markMessageDeleted(tx.db, m.id, ctx.clock.now());
    // Every stored copy of the text goes in this transaction: the events and webhook
    // deliveries that carried it now carry the tombstone (docs/security.md#erasure).
    await redactMessageCopies(tx.db, deleted, presentMessage(deleted));
    await uncountDeleted(tx.db, m);
    await deleteTeamChatRowsOf(tx.db, m.id);
    await unrecordReply(tx, m);
    const unpinned = await deleteSticky(tx.db, conversation.id, m.id);
    tx.emit(p.orgId, [
      {
        type: 'message.deleted',
        conversationId: conversation.id,
        recipients: [],
        audience: 'members',
        payload: { message: presentMessage(deleted) },
      },
      ...(unpinned > 0
        ? [
            {
              type: 'pin.deleted' as const,
              conversationId: conversation.id,
              recipients: [],
              audience: 'members' as const,
              payload: { conversation_id: conversation.id },
            },
          ]
        : []),
    ]);
    return deleted;
  });
  // SQLite (secure_delete) zeroed the old cells in place; its write-ahead log still holds the
  // pages as they were: checkpoint it, as after a purge. PostgreSQL's dead tuples go at the
  // next (auto)vacuum (docs/security.md#erasure).
  if (ctx.caps.freedSpace === 'checkpoint') await eraseAfterPurge(ctx);
  // Its files go from storage now (the periodic sweep would find them too).
  if (m.attachments?.length) await sweepAttachments(ctx);
  return deleted;
}

/** One message of a conversation the caller belongs to (`message_not_found` 404). */
export async function getMessage(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
): Promise<Message> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const [m] = await withReactions(ctx.db, [await loadMessage(ctx, conversation.id, messageId)]);
  return m!;
}
