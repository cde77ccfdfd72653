import type { AppContext } from '../context.ts';
import type { Principal } from '../domain/principal.ts';
import { loadConversation } from './access.ts';
import { publishEphemeral } from './events.ts';
import { conversationAudience } from './recipients.ts';

/** How often one actor's typing in one conversation is passed on, at most. */
const TYPING_EVERY_MS = 2_000;
const lastTyping = new Map<string, number>();

/**
 * Tells the other members that the caller is typing (`conversation_not_found` 404 for
 * outsiders). Ephemeral: not stored, no sequence number, only live sockets get it; repeated
 * calls within two seconds are folded into one.
 */
export async function startTyping(ctx: AppContext, p: Principal, conversationId: string): Promise<void> {
  const { conversation } = await loadConversation(ctx.db, p, conversationId);
  const key = `${conversation.id}:${p.actor.id}`;
  const now = ctx.clock.now();
  if ((lastTyping.get(key) ?? 0) + TYPING_EVERY_MS > now) return;
  lastTyping.set(key, now);
  if (lastTyping.size > 100_000) lastTyping.clear();
  const audience = (await conversationAudience(ctx.db, conversation.id)).filter((id) => id !== p.actor.id);
  await publishEphemeral(ctx, p.orgId, {
    type: 'typing.started',
    conversationId: conversation.id,
    recipients: audience,
    payload: { conversation_id: conversation.id, actor_id: p.actor.id, actor_name: p.actor.name },
  });
}
