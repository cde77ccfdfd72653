import type { AppContext, Db } from '../context.ts';
import { carriedMessageId, type DomainEvent, type EventType } from '../domain/events.ts';
import { iso } from '../domain/presenters.ts';
import {
  isWebhookEvent,
  MAX_DELIVERY_ATTEMPTS,
  retryDelayMs,
  signDelivery,
  type Webhook,
  type WebhookDelivery,
} from '../domain/webhooks.ts';
import {
  claimDueDeliveries,
  deleteFinishedDeliveriesBefore,
  findActiveWebhooks,
  insertDeliveries,
  recordAttempt,
} from '../store/repos/webhooks.ts';
import { silentLog, type WorkLog } from './mail.ts';
import { PrivateAddressError, postWebhook } from './webhook-http.ts';

/**
 * Webhook deliveries: written by an event sink inside the transaction that records the events
 * (so a committed change always has its deliveries, and a rolled-back one none), then sent by
 * the delivery loop: signed, retried with back-off, marked failed after the last try.
 * Managing webhooks is services/webhooks.ts.
 */

/**
 * How long a due delivery of a conversation in the recycle bin waits before it is looked at
 * again: it is not sent while the conversation is hidden (docs/security.md#erasure).
 */
const HIDDEN_DELIVERY_HOLD_MS = 60 * 60 * 1000;

/** How long finished deliveries are kept for the lists, summaries and exports. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** The body of a delivery: the event in the native API's JSON, with the delivery's own id. */
function deliveryBody(id: string, w: Webhook, e: DomainEvent): string {
  return JSON.stringify({
    id,
    webhook_id: w.id,
    type: e.type,
    org_id: e.orgId,
    seq: e.seq,
    conversation_id: e.conversationId,
    created_at: iso(e.createdAt),
    data: e.payload,
  });
}

/**
 * The event sink (registered in app.ts): inside the transaction that records `events`, one
 * delivery per event for each active webhook of its org subscribed to its type. One query per
 * org finds the webhooks; an org without webhooks costs only that query.
 */
export async function webhookSink(ctx: AppContext, tx: Db, events: readonly DomainEvent[]): Promise<void> {
  const byOrg = new Map<string, DomainEvent[]>();
  for (const e of events) {
    if (!isWebhookEvent(e.type) || e.seq === 0) continue;
    byOrg.set(e.orgId, [...(byOrg.get(e.orgId) ?? []), e]);
  }
  for (const [orgId, list] of byOrg) {
    const hooks = await findActiveWebhooks(tx, orgId);
    if (hooks.length === 0) continue;
    const now = ctx.clock.now();
    const deliveries: WebhookDelivery[] = [];
    for (const e of list)
      for (const w of hooks) {
        if (!w.events.includes(e.type as EventType)) continue;
        const id = ctx.ids.next();
        deliveries.push({
          id,
          webhookId: w.id,
          orgId,
          eventType: e.type,
          eventSeq: e.seq,
          conversationId: e.conversationId,
          messageId: carriedMessageId(e.payload),
          payload: deliveryBody(id, w, e),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          lastStatusCode: null,
          lastError: null,
          lastAttemptAt: null,
          createdAt: now,
          deliveredAt: null,
        });
      }
    await insertDeliveries(tx, deliveries);
  }
}

// The one-statement send writes nothing when a webhook of the org subscribes to
// `message.created` (store/repos/messages.ts): such sends take the general path, and this sink.
webhookSink.coversPlainSend = true;

/**
 * One attempt: POST the body, signed; 2xx is success (redirects are not followed). Private and
 * reserved addresses are refused unless WEBHOOK_ALLOW_PRIVATE (services/webhook-http.ts).
 */
async function attempt(
  ctx: AppContext,
  d: WebhookDelivery & { url: string; secret: string },
): Promise<{ ok: boolean; statusCode: number | null; error: string | null }> {
  const t = Math.floor(ctx.clock.now() / 1000);
  try {
    const res = await postWebhook(
      d.url,
      d.payload,
      {
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhooks/1',
        'x-parley-delivery': d.id,
        'x-parley-event': d.eventType,
        'x-parley-signature': signDelivery(d.secret, d.payload, t),
      },
      ctx.config.webhookTimeoutMs,
      ctx.config.webhookAllowPrivate,
    );
    const ok = res.status >= 200 && res.status < 300;
    return { ok, statusCode: res.status, error: ok ? null : `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { code?: string };
    const reason =
      e.name === 'TimeoutError'
        ? `no answer within ${ctx.config.webhookTimeoutMs} ms`
        : e instanceof PrivateAddressError
          ? e.message
          : (e.code ?? e.message);
    return { ok: false, statusCode: null, error: String(reason).slice(0, 500) };
  }
}

/**
 * Sends up to `limit` due deliveries at once and records each outcome; returns how many it
 * tried. A failed attempt is retried after retryDelayMs (10 s doubling to an hour); after
 * MAX_DELIVERY_ATTEMPTS the delivery is `failed`. Each delivery is taken under a lease (the
 * timeout plus a minute), so several nodes never send the same one at the same time.
 */
export async function deliverDueWebhooks(
  ctx: AppContext,
  log: WorkLog = silentLog,
  limit = 20,
): Promise<number> {
  const now = ctx.clock.now();
  const due = await claimDueDeliveries(ctx.db, {
    now,
    leaseUntil: now + ctx.config.webhookTimeoutMs + 60_000,
    holdUntil: now + HIDDEN_DELIVERY_HOLD_MS,
    limit,
    skipLocked: ctx.caps.skipLocked,
  });
  await Promise.all(
    due.map(async (d) => {
      const r = await attempt(ctx, d);
      const n = d.attempts + 1;
      const done = r.ok || n >= MAX_DELIVERY_ATTEMPTS;
      if (!r.ok && done)
        log.warn(
          { delivery: d.id, webhook: d.webhookId, error: r.error },
          'webhook delivery failed for good',
        );
      await recordAttempt(ctx.db, d, {
        status: r.ok ? 'succeeded' : done ? 'failed' : 'pending',
        nextAttemptAt: done ? ctx.clock.now() : ctx.clock.now() + retryDelayMs(n),
        statusCode: r.statusCode,
        error: r.error,
        now: ctx.clock.now(),
      });
    }),
  );
  return due.length;
}

/** Periodic: forgets finished deliveries older than DELIVERY_RETENTION_MS. */
export function sweepOldDeliveries(ctx: AppContext): Promise<number> {
  return deleteFinishedDeliveriesBefore(ctx.db, ctx.clock.now() - DELIVERY_RETENTION_MS);
}
