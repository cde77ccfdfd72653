import type { AppContext } from '../context.ts';
import type { Conversation, MemberState } from '../domain/model.ts';
import type { Principal } from '../domain/principal.ts';
import { findSupportChat } from '../store/repos/support.ts';
import { findReadPositions } from '../store/repos/widgets.ts';
import { inTransaction } from './tx.ts';

/**
 * After an operator's read position moved in a support chat: `support.read` to the chat's
 * visitor, with the newest message any operator has read (what the widget shows as "Seen").
 * Stored like any event, so a visitor who reconnects with `since` gets it too.
 */
export async function announceOperatorRead(
  ctx: AppContext,
  p: Principal,
  conversation: Conversation,
  before: MemberState,
  after: MemberState,
): Promise<void> {
  if (conversation.kind !== 'support' || p.actor.kind === 'visitor') return;
  if (after.readMessageId === null || after.readMessageId === before.readMessageId) return;
  const chat = await findSupportChat(ctx.db, p.orgId, conversation.id);
  if (!chat || chat.visitorId === p.actor.id) return;
  let operatorRead: string | null = null;
  for (const r of await findReadPositions(ctx.db, chat.id)) {
    if (r.actorId === chat.visitorId || r.readMessageId === null) continue;
    if (operatorRead === null || BigInt(r.readMessageId) > BigInt(operatorRead))
      operatorRead = r.readMessageId;
  }
  await inTransaction(ctx, async (tx) => {
    tx.emit(p.orgId, [
      {
        type: 'support.read',
        conversationId: chat.id,
        recipients: [chat.visitorId],
        payload: {
          conversation_id: chat.id,
          actor_id: p.actor.id,
          operator_read_message_id: operatorRead,
        },
      },
    ]);
  });
}
