import type { AppContext, Db } from '../context.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Message, ReactionSummary } from '../domain/model.ts';
import type { Principal } from '../domain/principal.ts';
import { isValidReaction } from '../domain/team-chat.ts';
import { findMessage } from '../store/repos/messages.ts';
import { countEmojiOf, deleteReaction, insertReaction, reactionsOf } from '../store/repos/team-chat.ts';
import { loadConversation } from './access.ts';
import { inTransaction } from './tx.ts';

/** Distinct emoji one message may carry. */
export const MAX_EMOJI_PER_MESSAGE = 20;

/** The messages with their reaction summaries (one query for the lot). */
export async function withReactions(db: Db, messages: Message[]): Promise<Message[]> {
  const live = messages.filter((m) => m.deletedAt === null).map((m) => m.id);
  const byId = await reactionsOf(db, live);
  return messages.map((m) => ({ ...m, reactions: byId.get(m.id) ?? [] }));
}

function checkEmoji(emoji: string): void {
  if (!isValidReaction(emoji)) {
    throw ValidationError.field(
      'params.emoji',
      'must be one emoji (Unicode RGI) or a :shortcode: of 1-32 characters a-z 0-9 _ + -',
      'invalid_emoji',
    );
  }
}

/**
 * Adds (`on`) or removes the caller's reaction `emoji` on a message of a conversation they
 * are in. Idempotent: adding twice or removing what is not there changes nothing and sends no
 * event. `invalid_emoji` (400), `message_not_found` (404), `message_deleted` (409),
 * `too_many_reactions` (409, more than 20 distinct emoji on one message).
 */
export async function setReaction(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
  emoji: string,
  on: boolean,
): Promise<{ messageId: string; reactions: ReactionSummary[] }> {
  checkEmoji(emoji);
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  return inTransaction(ctx, async (tx) => {
    const m = await findMessage(tx.db, conversation.id, messageId);
    if (!m) throw new NotFoundError('message_not_found', `Message ${messageId} not found`);
    if (m.deletedAt !== null)
      throw new ConflictError('message_deleted', 'A deleted message has no reactions');
    let changed: boolean;
    if (on) {
      changed = await insertReaction(tx.db, {
        messageId: m.id,
        actorId: p.actor.id,
        emoji,
        conversationId: conversation.id,
        orgId: p.orgId,
        at: ctx.clock.now(),
      });
      if (changed && (await countEmojiOf(tx.db, m.id)) > MAX_EMOJI_PER_MESSAGE) {
        throw new ConflictError(
          'too_many_reactions',
          `A message carries at most ${MAX_EMOJI_PER_MESSAGE} different emoji`,
        );
      }
    } else {
      changed = await deleteReaction(tx.db, m.id, p.actor.id, emoji);
    }
    const reactions = (await reactionsOf(tx.db, [m.id])).get(m.id) ?? [];
    if (changed) {
      tx.emit(p.orgId, [
        {
          type: on ? 'reaction.added' : 'reaction.removed',
          conversationId: conversation.id,
          recipients: [],
          audience: 'members',
          payload: {
            conversation_id: conversation.id,
            message_id: m.id,
            actor_id: p.actor.id,
            emoji,
            count: reactions.find((r) => r.emoji === emoji)?.count ?? 0,
          },
        },
      ]);
    }
    return { messageId: m.id, reactions };
  });
}

/** The reactions on one message (`message_not_found` 404). */
export async function getReactions(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
): Promise<{ messageId: string; reactions: ReactionSummary[] }> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const m = await findMessage(ctx.db, conversation.id, messageId);
  if (!m) throw new NotFoundError('message_not_found', `Message ${messageId} not found`);
  return { messageId: m.id, reactions: (await reactionsOf(ctx.db, [m.id])).get(m.id) ?? [] };
}
