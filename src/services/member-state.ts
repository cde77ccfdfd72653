import type { AppContext } from '../context.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { EventType } from '../domain/events.ts';
import type { MemberState } from '../domain/model.ts';
import { presentMemberState } from '../domain/presenters.ts';
import type { Principal } from '../domain/principal.ts';
import { updateMember } from '../store/repos/conversations.ts';
import { findLatestMessageId, findMessage, readPositionAt } from '../store/repos/messages.ts';
import { loadConversation } from './access.ts';
import { announceRead } from './receipts.ts';
import { selfAudience } from './recipients.ts';
import { announceOperatorRead } from './support-read.ts';
import { inTransaction } from './tx.ts';

/**
 * The caller's own state in a conversation: mute, read position, draft, hidden, pinned in
 * the list. Each function changes only the caller's member row, in one transaction with the
 * event that tells the caller's other devices (`event` null: no event), and returns the row.
 */
async function changeMyState(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  values: Parameters<typeof updateMember>[3],
  event: EventType | null,
): Promise<MemberState> {
  return inTransaction(ctx, async (tx) => {
    const state = (await updateMember(tx.db, conversationId, p.actor.id, values))!;
    if (event) {
      tx.emit(p.orgId, [
        {
          type: event,
          conversationId,
          recipients: selfAudience(p.actor.id),
          payload: { conversation_id: conversationId, me: presentMemberState(state, ctx.clock.now()) },
        },
      ]);
    }
    return state;
  });
}

/** Mutes until `until` (epoch ms, in the future) or, with -1 or no time, until unmuted (`invalid_until` 400). */
export async function muteConversation(
  ctx: AppContext,
  p: Principal,
  id: string,
  until?: number,
): Promise<MemberState> {
  const { conversation } = await loadConversation(ctx.db, p, id);
  const mutedUntil = until === undefined || until === -1 ? -1 : until;
  if (mutedUntil !== -1 && mutedUntil <= ctx.clock.now()) {
    throw ValidationError.field(
      'body.until',
      'must be a time in the future (epoch ms) or -1 for forever',
      'invalid_until',
    );
  }
  return changeMyState(ctx, p, conversation.id, { muted_until: mutedUntil }, 'member.muted');
}

export async function unmuteConversation(ctx: AppContext, p: Principal, id: string): Promise<MemberState> {
  const { conversation } = await loadConversation(ctx.db, p, id);
  return changeMyState(ctx, p, conversation.id, { muted_until: null }, 'member.unmuted');
}

/**
 * Moves the caller's read position forward to `messageId` (default: the latest message) and
 * recounts unread messages after it. Never moves backwards. `message_not_found` (404).
 */
export async function markRead(
  ctx: AppContext,
  p: Principal,
  id: string,
  messageId?: string,
): Promise<MemberState> {
  const { conversation, me } = await loadConversation(ctx.db, p, id);
  let target: string | null;
  if (messageId !== undefined) {
    const m = await findMessage(ctx.db, conversation.id, messageId);
    if (!m) throw new NotFoundError('message_not_found', `Message ${messageId} not found`);
    target = m.id;
  } else {
    target = await findLatestMessageId(ctx.db, conversation.id);
  }
  if (me.readMessageId !== null && (target === null || BigInt(target) < BigInt(me.readMessageId))) {
    target = me.readMessageId;
  }
  const at = await readPositionAt(ctx.db, conversation.id, p.actor.id, target);
  const state = await changeMyState(
    ctx,
    p,
    conversation.id,
    { read_message_id: target, read_ordinal: at.ordinal, unread_excluded: at.excluded },
    'member.read',
  );
  await announceRead(ctx, p, conversation, me, state);
  await announceOperatorRead(ctx, p, conversation, me, state);
  return state;
}

export async function setDraft(
  ctx: AppContext,
  p: Principal,
  id: string,
  text: string | null,
): Promise<MemberState> {
  const { conversation } = await loadConversation(ctx.db, p, id);
  const draft = text === null || text === '' ? null : text;
  const values = { draft, draft_updated_at: draft === null ? null : ctx.clock.now() };
  return changeMyState(ctx, p, conversation.id, values, null);
}

/** Hides the conversation from the caller's list until new activity (or unhide). */
export async function setHidden(
  ctx: AppContext,
  p: Principal,
  id: string,
  hidden: boolean,
): Promise<MemberState> {
  const { conversation } = await loadConversation(ctx.db, p, id);
  const event = hidden ? 'conversation.hidden' : 'conversation.restored';
  return changeMyState(ctx, p, conversation.id, { hidden: hidden ? 1 : 0 }, event);
}

/** Pins (or unpins) the conversation at the top of the caller's own list. */
export async function setPinnedInList(
  ctx: AppContext,
  p: Principal,
  id: string,
  pinned: boolean,
): Promise<MemberState> {
  const { conversation } = await loadConversation(ctx.db, p, id);
  return changeMyState(ctx, p, conversation.id, { pinned: pinned ? 1 : 0 }, null);
}
