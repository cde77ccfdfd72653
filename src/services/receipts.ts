import type { AppContext } from '../context.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { Conversation, MemberState } from '../domain/model.ts';
import type { Principal } from '../domain/principal.ts';
import { receiptsApply, teamChatSettingsFrom } from '../domain/team-chat.ts';
import { findMessage } from '../store/repos/messages.ts';
import { findOrgSettings } from '../store/repos/orgs.ts';
import { ordinalOf, readPositions } from '../store/repos/team-chat.ts';
import { loadConversation } from './access.ts';
import { inTransaction } from './tx.ts';

/**
 * Read receipts (docs/api.md#read-receipts): derived from the members' read positions
 * (`membership.read_ordinal`), never a row per message per member. Shown in direct chats, and
 * in groups of at most the org's `read_receipts_max_members`, unless the org turned them off.
 */
async function receiptsOn(ctx: AppContext, c: Conversation): Promise<boolean> {
  const s = teamChatSettingsFrom(await findOrgSettings(ctx.db, c.orgId));
  return receiptsApply(s, c.kind, c.memberCount);
}

export interface Receipts {
  enabled: boolean;
  /** The other current members' read positions (empty when receipts are off). */
  reads: { actorId: string; readMessageId: string | null }[];
}

/** Where each other member has read up to in a conversation of the caller's. */
export async function getReceipts(ctx: AppContext, p: Principal, conversationId: string): Promise<Receipts> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  if (!(await receiptsOn(ctx, conversation))) return { enabled: false, reads: [] };
  const reads = (await readPositions(ctx.db, conversation.id))
    .filter((r) => r.actorId !== p.actor.id)
    .map((r) => ({ actorId: r.actorId, readMessageId: r.readMessageId }));
  return { enabled: true, reads };
}

/** Who (other than the caller) has read at least up to this message ("seen by"). */
export async function seenBy(
  ctx: AppContext,
  p: Principal,
  conversationId: string,
  messageId: string,
): Promise<{ enabled: boolean; actorIds: string[] }> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const m = await findMessage(ctx.db, conversation.id, messageId);
  if (!m) throw new NotFoundError('message_not_found', `Message ${messageId} not found`);
  if (!(await receiptsOn(ctx, conversation))) return { enabled: false, actorIds: [] };
  const ordinal = await ordinalOf(ctx.db, m.id);
  const actorIds = (await readPositions(ctx.db, conversation.id))
    .filter((r) => r.actorId !== p.actor.id && r.readOrdinal >= ordinal)
    .map((r) => r.actorId);
  return { enabled: true, actorIds };
}

/**
 * After the caller's read position moved: `receipt.updated` to the conversation's members,
 * when receipts apply to it (otherwise nobody is told: only the reader's own devices get
 * `member.read`).
 */
export async function announceRead(
  ctx: AppContext,
  p: Principal,
  conversation: Conversation,
  before: MemberState,
  after: MemberState,
): Promise<void> {
  if (after.readMessageId === null || after.readMessageId === before.readMessageId) return;
  if (!(await receiptsOn(ctx, conversation))) return;
  await inTransaction(ctx, async (tx) => {
    tx.emit(p.orgId, [
      {
        type: 'receipt.updated',
        conversationId: conversation.id,
        recipients: [],
        audience: 'members',
        payload: {
          conversation_id: conversation.id,
          actor_id: p.actor.id,
          read_message_id: after.readMessageId,
        },
      },
    ]);
  });
}
