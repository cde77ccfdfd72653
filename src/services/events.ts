import type { AppContext, Db } from '../context.ts';
import type { DomainEvent, NewEvent } from '../domain/events.ts';
import { insertEvents, listEventsAfter, nextEventSeq } from '../store/repos/events.ts';

/**
 * Records events in the caller's transaction (`tx`), numbered per org; they are written
 * together with the change that caused them, so a crash can lose neither without the other.
 * Returns them for publishing after commit (the realtime gateway subscribes to that).
 */
export async function recordEvents(
  ctx: AppContext,
  tx: Db,
  orgId: string,
  events: NewEvent[],
): Promise<DomainEvent[]> {
  if (events.length === 0) return [];
  const first = await nextEventSeq(tx, orgId, events.length);
  const now = ctx.clock.now();
  const recorded = events.map((e, i) => ({
    orgId,
    seq: first + i,
    type: e.type,
    conversationId: e.conversationId ?? null,
    recipients: [...new Set(e.recipients)],
    payload: e.payload,
    createdAt: now,
  }));
  await insertEvents(tx, recorded);
  return recorded;
}

/** The events after `afterSeq` that `actorId` may see, oldest first (catch-up). */
export async function eventsSince(
  ctx: AppContext,
  orgId: string,
  actorId: string,
  afterSeq: number,
  limit = 500,
) {
  const events = await listEventsAfter(ctx.db, orgId, afterSeq, limit);
  return events.filter((e) => e.recipients.includes(actorId));
}
