import type { AppContext, Db } from '../context.ts';
import type { DomainEvent, NewEvent } from '../domain/events.ts';
import { insertEvents, listEventsAfter, nextEventSeq } from '../store/repos/events.ts';

/**
 * Something that must happen in the same transaction as the events it sees (e.g. webhook
 * deliveries are written with the change that caused them, so a crash loses none).
 */
export type EventSink = (ctx: AppContext, tx: Db, events: readonly DomainEvent[]) => Promise<void>;

/** Events recorded in a transaction of `inTransaction`, published once it commits. */
const pendingByTx = new WeakMap<object, DomainEvent[]>();

/** Called by inTransaction: events recorded in `tx` are collected in `pending`. */
export function collectEventsOf(tx: object, pending: DomainEvent[]): void {
  pendingByTx.set(tx, pending);
}

/**
 * Records events in the caller's transaction (`tx`), numbered per org in commit order, and
 * hands them to the event sinks in the same transaction. They are published to the bus after
 * the transaction commits (or at once when `tx` is not a transaction of inTransaction).
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
  const recorded: DomainEvent[] = events.map((e, i) => ({
    orgId,
    seq: first + i,
    type: e.type,
    conversationId: e.conversationId ?? null,
    recipients: [...new Set(e.recipients)],
    payload: e.payload,
    createdAt: now,
  }));
  await insertEvents(tx, recorded);
  for (const sink of ctx.eventSinks) await sink(ctx, tx, recorded);
  const pending = pendingByTx.get(tx);
  if (pending) pending.push(...recorded);
  else await publishEvents(ctx, recorded);
  return recorded;
}

/** Publishes committed events; a bus failure is logged by the bus, never undoes the change. */
export async function publishEvents(ctx: AppContext, events: readonly DomainEvent[]): Promise<void> {
  const byOrg = new Map<string, DomainEvent[]>();
  for (const e of events) byOrg.set(e.orgId, [...(byOrg.get(e.orgId) ?? []), e]);
  for (const [orgId, list] of byOrg) await ctx.bus.publish(orgId, list).catch(() => undefined);
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
