import type { AppContext } from '../context.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import type { DomainEvent, NewEvent } from '../domain/events.ts';
import {
  deleteEventsBefore,
  findDroppedUpto,
  findEventHorizon,
  findLastEventSeq,
  findMembershipSpans,
  findNewestEventSeq,
  listEventsAfter,
  listEventsAt,
  listEventTail,
} from '../store/repos/events.ts';
import { findShownConversationIds } from '../store/repos/visibility.ts';
import { conversationAudience } from './recipients.ts';

/** Publishes committed events; a bus failure is logged by the bus, never undoes the change. */
export async function publishEvents(ctx: AppContext, events: readonly DomainEvent[]): Promise<void> {
  const byOrg = new Map<string, DomainEvent[]>();
  for (const e of events) {
    const list = byOrg.get(e.orgId);
    if (list) list.push(e);
    else byOrg.set(e.orgId, [e]);
  }
  for (const [orgId, list] of byOrg) await ctx.bus.publish(orgId, list).catch(() => undefined);
}

/** How long events are kept for catch-up; a client away longer must resync. */
export const EVENT_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

export interface CatchUpPage {
  /** The events for `actorId` in this page, oldest first. */
  events: DomainEvent[];
  /** The last position this page covered (for the next page). */
  scannedTo: number;
  /** True when no later settled event exists. */
  done: boolean;
}

/**
 * One page of catch-up after `afterSeq` for `actorId`: `resync_required` (a ConflictError)
 * when events after `afterSeq` may already have been dropped (the client was away longer than
 * the retention), `invalid_since` (400) for a position the store never handed out.
 */
export async function catchUpPage(
  ctx: AppContext,
  orgId: string,
  actorId: string,
  afterSeq: number,
  limit = 500,
): Promise<CatchUpPage> {
  const [last, dropped] = await Promise.all([findLastEventSeq(ctx.db), findDroppedUpto(ctx.db)]);
  if (afterSeq > last)
    throw ValidationError.field('query.since', `must be at most ${last}, the last event`, 'invalid_since');
  if (afterSeq < dropped) {
    throw new ConflictError(
      'resync_required',
      'Events since then are no longer kept: reload state, then reconnect without since',
    );
  }
  const page = await listEventsAfter(ctx.db, orgId, afterSeq, limit);
  const scannedTo = page.at(-1)?.seq ?? afterSeq;
  // The visibility rule (domain/visibility.ts) on the conversations' state now, one query a
  // page: nothing of a conversation in the recycle bin (or taken by a deletion job) is
  // replayed but the notice that it was deleted; a restore brings its events back.
  const shown = await findShownConversationIds(ctx.db, [
    ...new Set(page.flatMap((e) => (e.conversationId === null ? [] : [e.conversationId]))),
  ]);
  const visible = (e: DomainEvent) =>
    e.conversationId === null || shown.has(e.conversationId) || e.type === 'support.deleted';
  // Events for a conversation's members: the actor's if they were a member when it happened.
  const spans = await findMembershipSpans(ctx.db, actorId, [
    ...new Set(page.filter((e) => e.audience === 'members').map((e) => e.conversationId!)),
  ]);
  const wasMember = (e: DomainEvent) => {
    const span = spans.get(e.conversationId!);
    return !!span && span.joinedAt <= e.createdAt && (span.leftAt === null || span.leftAt >= e.createdAt);
  };
  const mine = page.filter(
    (e) => visible(e) && (e.recipients.includes(actorId) || (e.audience === 'members' && wasMember(e))),
  );
  return { events: mine, scannedTo, done: page.length < limit };
}

/**
 * The positions (and orgs) of settled events after `afterSeq`, oldest first, at most `limit`;
 * below `below` when given (a bound the caller knows is settled).
 */
export function eventTail(
  ctx: AppContext,
  afterSeq: number,
  limit: number,
  below?: number,
): Promise<{ seq: number; orgId: string }[]> {
  return listEventTail(ctx.db, afterSeq, limit, below);
}

/** The stored events at these positions, oldest first. */
export function eventsAt(ctx: AppContext, seqs: readonly number[]): Promise<DomainEvent[]> {
  return listEventsAt(ctx.db, seqs);
}

/**
 * Whether every event stored now is settled (readable by catch-up): false while a
 * transaction holding a lower position than the newest stored event is still open.
 */
export async function newestEventSettled(ctx: AppContext): Promise<boolean> {
  const newest = await findNewestEventSeq(ctx.db);
  return (await findEventHorizon(ctx.db)) > newest;
}

/**
 * The current members of a conversation (the gateway's audience of events for its members);
 * nobody while the conversation is not shown (recycle bin, deletion job): the gateways forget
 * the members they remembered at the move to the bin (`support.deleted`) and read them again,
 * so nothing of it goes out live until it is restored.
 */
export async function conversationMembers(ctx: AppContext, conversationId: string): Promise<string[]> {
  const [shown, members] = await Promise.all([
    findShownConversationIds(ctx.db, [conversationId]),
    conversationAudience(ctx.db, conversationId),
  ]);
  return shown.has(conversationId) ? members : [];
}

/** The last settled position handed out. */
export function lastEventSeq(ctx: AppContext): Promise<number> {
  return findLastEventSeq(ctx.db);
}

/** Periodic: drops events older than the retention. */
export function sweepOldEvents(ctx: AppContext): Promise<number> {
  return deleteEventsBefore(ctx.db, ctx.clock.now() - EVENT_RETENTION_MS);
}

/** Publishes an ephemeral event (typing): no position, not stored, live sockets only. */
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
