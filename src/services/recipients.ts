import type { Db } from '../context.ts';
import { findCurrentMembersOf } from '../store/repos/peers.ts';

/**
 * Who receives an event: decided here, by the service that caused it, because choosing
 * recipients is a security decision (a socket only ever gets events naming its actor).
 */

/** The current members of a conversation: the audience of its messages, pins and membership. */
export async function conversationAudience(db: Db, conversationId: string): Promise<string[]> {
  return (await findCurrentMembersOf(db, [conversationId])).map((m) => m.actorId);
}

/** Only the actor: their own state (mute, read position, hidden) on all their devices. */
export function selfAudience(actorId: string): string[] {
  return [actorId];
}
