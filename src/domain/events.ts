import { isId } from './ids.ts';

/**
 * Events: what changed, for the actors who may see it. Names are `noun.verb_past`. Every
 * event gets a per-org sequence number in the transaction of the change (see
 * services/events.ts), so a client that reconnects with the last number it saw gets exactly
 * what it missed. Payloads are plain JSON in the native API's shapes.
 */
export const EventType = [
  'message.created',
  'message.edited',
  'message.deleted',
  'member.joined',
  'member.left',
  'member.muted',
  'member.unmuted',
  'member.read',
  'conversation.created',
  'conversation.updated',
  'conversation.hidden',
  'conversation.restored',
  'pin.created',
  'pin.deleted',
  'support.waiting',
  'support.picked_up',
  'support.transferred',
  'support.ended',
  'support.missed',
  'support.deleted',
  'support.restored',
  'support.read',
  'deletion_job.completed',
  'deletion_job.failed',
  // Team chat (docs/api.md#team-chat-events).
  'mention.created',
  'reaction.added',
  'reaction.removed',
  'thread.updated',
  'receipt.updated',
  // Control events: the realtime gateways close the sockets they concern.
  'token.revoked',
  'actor.deactivated',
  'org.suspended',
  // Ephemeral: never stored, no sequence number (seq 0), delivered only to live sockets.
  'typing.started',
  'presence.changed',
  // Ephemeral: a department's live-chat availability changed (services/support-availability.ts).
  'support.availability',
] as const;
export type EventType = (typeof EventType)[number];

/** Events that never change who is in their conversation. */
const MEMBERSHIP_NEUTRAL = new Set<EventType>([
  'message.created',
  'message.edited',
  'message.deleted',
  'pin.created',
  'pin.deleted',
  'member.read',
  'member.muted',
  'member.unmuted',
  'conversation.hidden',
  'conversation.updated',
  'mention.created',
  'reaction.added',
  'reaction.removed',
  'thread.updated',
  'receipt.updated',
]);

/**
 * Whether an event leaves its conversation's members as they were (a node that remembers the
 * members keeps them; any other event of the conversation makes it read them again).
 */
export function keepsMembers(type: EventType): boolean {
  return MEMBERSHIP_NEUTRAL.has(type);
}

export interface DomainEvent {
  orgId: string;
  seq: number;
  type: EventType;
  conversationId: string | null;
  /** Actor ids that may receive the event; chosen by the service that caused it. */
  recipients: string[];
  /**
   * 'members': the conversation's current members receive it too, resolved when it is
   * delivered (so a message into a 10,000-member channel stores no list of 10,000 ids).
   */
  audience?: 'members' | undefined;
  payload: Record<string, unknown>;
  createdAt: number;
}

export interface NewEvent {
  type: EventType;
  conversationId?: string | null;
  recipients: string[];
  /** See DomainEvent.audience; needs conversationId. */
  audience?: 'members' | undefined;
  payload: Record<string, unknown>;
}

/**
 * The id of the message a payload carries (`message.id`: message events, a pin), or null: the
 * event row and the webhook deliveries of the event are indexed by it, so that deleting the
 * message for everyone finds every copy (store/repos/redaction.ts).
 */
export function carriedMessageId(payload: Record<string, unknown>): string | null {
  const m = payload.message;
  if (!m || typeof m !== 'object') return null;
  const id = (m as { id?: unknown }).id;
  return isId(id) ? id : null;
}
