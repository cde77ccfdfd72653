import type { AppContext, Db } from '../context.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import type { DomainEvent, NewEvent } from '../domain/events.ts';
import {
  deleteEventsBefore,
  findLastEventSeq,
  findLastEventSeqs,
  findOldestEventSeq,
  insertEvents,
  listEventsAfter,
  listEventsBetween,
  nextEventSeq,
} from '../store/repos/events.ts';

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

/** How long events are kept for catch-up; a client away longer must resync. */
export const EVENT_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

export interface CatchUpPage {
  /** The events for `actorId` in this page, oldest first. */
  events: DomainEvent[];
  /** The last sequence number this page covered (for the next page). */
  scannedTo: number;
  /** True when no later committed event exists. */
  done: boolean;
}

/**
 * One page of catch-up after `afterSeq` for `actorId`: `resync_required` (a ConflictError)
 * when events after `afterSeq` were already dropped (the client was away longer than the
 * retention), `invalid_since` (400) for a number the org never handed out.
 */
export async function catchUpPage(
  ctx: AppContext,
  orgId: string,
  actorId: string,
  afterSeq: number,
  limit = 500,
): Promise<CatchUpPage> {
  const last = await findLastEventSeq(ctx.db, orgId);
  if (afterSeq > last)
    throw ValidationError.field('query.since', `must be at most ${last}, the last event`, 'invalid_since');
  if (afterSeq < last) {
    const oldest = await findOldestEventSeq(ctx.db, orgId);
    if (oldest === undefined || oldest > afterSeq + 1) {
      throw new ConflictError(
        'resync_required',
        'Events since then are no longer kept: reload state, then reconnect without since',
      );
    }
  }
  const page = await listEventsAfter(ctx.db, orgId, afterSeq, limit);
  const scannedTo = page.at(-1)?.seq ?? afterSeq;
  return { events: page.filter((e) => e.recipients.includes(actorId)), scannedTo, done: page.length < limit };
}

/** The committed events of an org with seq in [fromSeq, toSeq] (filling a gap in live delivery). */
export function eventsBetween(
  ctx: AppContext,
  orgId: string,
  fromSeq: number,
  toSeq: number,
): Promise<DomainEvent[]> {
  return listEventsBetween(ctx.db, orgId, fromSeq, toSeq);
}

/** The last sequence number an org has handed out. */
export function lastEventSeq(ctx: AppContext, orgId: string): Promise<number> {
  return findLastEventSeq(ctx.db, orgId);
}

/** The last sequence number of each of these orgs, in one read (the gateway's tail check). */
export function lastEventSeqs(ctx: AppContext, orgIds: readonly string[]): Promise<Map<string, number>> {
  return findLastEventSeqs(ctx.db, orgIds);
}

/** Periodic: drops events older than the retention. */
export function sweepOldEvents(ctx: AppContext): Promise<number> {
  return deleteEventsBefore(ctx.db, ctx.clock.now() - EVENT_RETENTION_MS);
}

/** Publishes an ephemeral event (typing): no sequence number, not stored, live sockets only. */
export async function publishEphemeral(ctx: AppContext, orgId: string, e: NewEvent): Promise<void> {
  await ctx.bus
    .publish(orgId, [
      {
        orgId,
        seq: 0,
        type: e.type,
        conversationId: e.conversationId ?? null,
        recipients: e.recipients,
        payload: e.payload,
        createdAt: ctx.clock.now(),
      },
    ])
    .catch(() => undefined);
}
