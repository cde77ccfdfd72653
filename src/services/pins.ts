import type { AppContext } from '../context.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Message, StickyMessage } from '../domain/model.ts';
import { presentMessage } from '../domain/presenters.ts';
import type { Principal } from '../domain/principal.ts';
import { findActor } from '../store/repos/actors.ts';
import { findMessage } from '../store/repos/messages.ts';
import { deleteExpiredStickies, deleteSticky, findActiveSticky, upsertSticky } from '../store/repos/pins.ts';
import { loadConversation, loadConversationForRead } from './access.ts';
import { inTransaction } from './tx.ts';

export interface PinView {
  pin: StickyMessage;
  message: Message;
  creatorName: string;
  senderName: string;
}

async function viewOf(ctx: AppContext, orgId: string, pin: StickyMessage): Promise<PinView | undefined> {
  const message = await findMessage(ctx.db, pin.conversationId, pin.messageId);
  if (!message || message.deletedAt !== null) return undefined;
  const creator = await findActor(ctx.db, orgId, pin.creatorId);
  const sender = await findActor(ctx.db, orgId, message.senderId);
  return { pin, message, creatorName: creator?.name ?? '', senderName: sender?.name ?? '' };
}

/**
 * Pins a message as the conversation's one sticky message, replacing any earlier pin.
 * `expiryTime` is an epoch-ms time in the future, or -1 (or absent) for no expiry
 * (`invalid_expiry_time` 400); `message_not_found` (404) for deleted or unknown messages.
 */
export async function pinMessage(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  input: { messageId: string; expiryTime?: number | undefined; notify?: boolean | undefined },
): Promise<PinView> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const now = ctx.clock.now();
  const expiresAt = input.expiryTime === undefined || input.expiryTime === -1 ? null : input.expiryTime;
  if (expiresAt !== null && expiresAt <= now) {
    throw ValidationError.field(
      'body.expiry_time',
      'must be a time in the future (epoch ms) or -1',
      'invalid_expiry_time',
    );
  }
  const message = await findMessage(ctx.db, conversation.id, input.messageId);
  if (!message || message.deletedAt !== null) {
    throw new NotFoundError('message_not_found', `Message ${input.messageId} not found`);
  }
  const pin: StickyMessage = {
    conversationId: conversation.id,
    messageId: message.id,
    creatorId: p.actor.id,
    createdAt: now,
    expiresAt,
    notify: input.notify ?? false,
  };
  const view = (await viewOf(ctx, p.orgId, pin))!;
  await inTransaction(ctx, async (tx) => {
    await upsertSticky(tx.db, p.orgId, pin);
    tx.emit(p.orgId, [
      {
        type: 'pin.created',
        conversationId: conversation.id,
        recipients: [],
        audience: 'members',
        payload: {
          conversation_id: conversation.id,
          message: presentMessage(view.message),
          creator_id: p.actor.id,
          expiry_time: pin.expiresAt ?? -1,
          notify: pin.notify,
        },
      },
    ]);
  });
  return view;
}

/** The conversation's pinned message; `pin_not_found` (404) when there is none or it has expired. */
export async function getPinnedMessage(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
): Promise<PinView> {
  const { conversation } = await loadConversationForRead(ctx.db, p, conversationId);
  const pin = await findActiveSticky(ctx.db, conversation.id, ctx.clock.now());
  const view = pin ? await viewOf(ctx, p.orgId, pin) : undefined;
  if (!view) throw new NotFoundError('pin_not_found', 'This conversation has no pinned message');
  return view;
}

/** Removes the pin; `pin_not_found` (404) when there is none. */
export async function unpinMessage(ctx: AppContext, p: Principal, conversationId: string): Promise<void> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const pin = await findActiveSticky(ctx.db, conversation.id, ctx.clock.now());
  if (!pin) throw new NotFoundError('pin_not_found', 'This conversation has no pinned message');
  await inTransaction(ctx, async (tx) => {
    await deleteSticky(tx.db, conversation.id);
    tx.emit(p.orgId, [
      {
        type: 'pin.deleted',
        conversationId: conversation.id,
        recipients: [],
        audience: 'members',
        payload: { conversation_id: conversation.id, by: p.actor.id },
      },
    ]);
  });
}

/** Periodic sweep: removes expired pins (reads already ignore them). Returns how many. */
export async function sweepExpiredPins(ctx: AppContext): Promise<number> {
  return deleteExpiredStickies(ctx.db, ctx.clock.now());
}
