import { sql } from 'kysely';
import type { EventType } from '../../domain/events.ts';
import type { DeliveryStatus, Webhook, WebhookDelivery } from '../../domain/webhooks.ts';
import { prepared, type Slots } from '../prepared.ts';
import type { Db, WebhookDeliveryTable, WebhookTable } from '../schema.ts';
import { leaseDueRows } from './lease.ts';
import { deliveryShown, findShownConversationIds } from './visibility.ts';

/** Webhooks, their deliveries, and the sender's claim on due deliveries. */

const optNum = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toWebhook(r: WebhookTable): Webhook {
  return {
    id: String(r.id),
    orgId: String(r.org_id),
    url: r.url,
    description: r.description,
    secret: r.secret,
    events: JSON.parse(r.events) as EventType[],
    active: Number(r.active) === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toDelivery(r: WebhookDeliveryTable): WebhookDelivery {
  return {
    id: String(r.id),
    webhookId: String(r.webhook_id),
    orgId: String(r.org_id),
    eventType: r.event_type,
    eventSeq: Number(r.event_seq),
    conversationId: r.conversation_id === null ? null : String(r.conversation_id),
    messageId: r.message_id === null || r.message_id === undefined ? null : String(r.message_id),
    payload: r.payload,
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastStatusCode: optNum(r.last_status_code),
    lastError: r.last_error,
    lastAttemptAt: optNum(r.last_attempt_at),
    createdAt: Number(r.created_at),
    deliveredAt: optNum(r.delivered_at),
  };
}

export async function insertWebhook(db: Db, w: Webhook): Promise<void> {
  await db
    .insertInto('webhook')
    .values({
      id: w.id,
      org_id: w.orgId,
      url: w.url,
      description: w.description,
      secret: w.secret,
      events: JSON.stringify(w.events),
      active: w.active ? 1 : 0,
      created_at: w.createdAt,
      updated_at: w.updatedAt,
    })
    .execute();
}

export async function countWebhooks(db: Db, orgId: string): Promise<number> {
  const row = await db
    .selectFrom('webhook')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function findWebhook(db: Db, orgId: string, id: string): Promise<Webhook | undefined> {
  const row = await db
    .selectFrom('webhook')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toWebhook(row) : undefined;
}

export async function listWebhooks(db: Db, orgId: string): Promise<Webhook[]> {
  const rows = await db.selectFrom('webhook').selectAll().where('org_id', '=', orgId).orderBy('id').execute();
  return rows.map(toWebhook);
}

const activeWebhooks = prepared((db, p: Slots<'orgId'>) =>
  db.selectFrom('webhook').selectAll().where('org_id', '=', p.orgId).where('active', '=', 1),
);

/** The org's active webhooks (the event sink's one query per transaction that records events). */
export async function findActiveWebhooks(db: Db, orgId: string): Promise<Webhook[]> {
  const rows = await activeWebhooks.execute(db, { orgId });
  return rows.map(toWebhook);
}

export async function updateWebhook(
  db: Db,
  orgId: string,
  id: string,
  patch: Partial<Pick<Webhook, 'url' | 'description' | 'secret' | 'events' | 'active'>>,
  now: number,
): Promise<Webhook | undefined> {
  const values: Record<string, unknown> = { updated_at: now };
  if (patch.url !== undefined) values.url = patch.url;
  if (patch.description !== undefined) values.description = patch.description;
  if (patch.secret !== undefined) values.secret = patch.secret;
  if (patch.events !== undefined) values.events = JSON.stringify(patch.events);
  if (patch.active !== undefined) values.active = patch.active ? 1 : 0;
  const row = await db
    .updateTable('webhook')
    .set(values)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? toWebhook(row) : undefined;
}

/** Deletes a webhook with its deliveries; false when the org has no such webhook. */
export async function deleteWebhook(db: Db, orgId: string, id: string): Promise<boolean> {
  await db.deleteFrom('webhook_delivery').where('org_id', '=', orgId).where('webhook_id', '=', id).execute();
  const res = await db
    .deleteFrom('webhook')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

/** Inserts deliveries (in the transaction of the events they carry). */
export async function insertDeliveries(db: Db, deliveries: readonly WebhookDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await db
    .insertInto('webhook_delivery')
    .values(
      deliveries.map((d) => ({
        id: d.id,
        webhook_id: d.webhookId,
        org_id: d.orgId,
        event_type: d.eventType,
        event_seq: d.eventSeq,
        conversation_id: d.conversationId,
        message_id: d.messageId,
        payload: d.payload,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.nextAttemptAt,
        last_status_code: null,
        last_error: null,
        last_attempt_at: null,
        created_at: d.createdAt,
        delivered_at: null,
      })),
    )
    .execute();
}

export async function findDelivery(
  db: Db,
  webhookId: string,
  id: string,
): Promise<WebhookDelivery | undefined> {
  const row = await db
    .selectFrom('webhook_delivery')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .where('id', '=', id)
    .where(deliveryShown)
    .executeTakeFirst();
  return row ? toDelivery(row) : undefined;
}

/**
 * One page of a webhook's deliveries, newest first (keyset on id). Deliveries of a conversation
 * that is not shown (recycle bin, deletion job) are left out (store/repos/visibility.ts), here
 * and in every read of one delivery.
 */
export async function listDeliveries(
  db: Db,
  webhookId: string,
  opts: { status?: DeliveryStatus | undefined; beforeId?: string | undefined; limit: number },
): Promise<WebhookDelivery[]> {
  let q = db
    .selectFrom('webhook_delivery')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .where(deliveryShown);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
  return rows.map(toDelivery);
}

/** Puts a failed delivery back in the queue for an attempt now, with a fresh back-off schedule. */
export async function requeueFailedDelivery(
  db: Db,
  webhookId: string,
  id: string,
  now: number,
): Promise<WebhookDelivery | undefined> {
  const row = await db
    .updateTable('webhook_delivery')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now })
    .where('webhook_id', '=', webhookId)
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .where(deliveryShown)
    .returningAll()
    .executeTakeFirst();
  return row ? toDelivery(row) : undefined;
}

/** Deletes a webhook's failed deliveries (those among `ids`, or all); returns how many. */
export async function deleteFailedDeliveries(
  db: Db,
  webhookId: string,
  ids: readonly string[] | undefined,
): Promise<number> {
  if (ids && ids.length === 0) return 0;
  let q = db
    .deleteFrom('webhook_delivery')
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'failed');
  if (ids) q = q.where('id', 'in', ids);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Per event type and status, how many deliveries a webhook has (created since `since`), with the last times. */
export async function summarizeDeliveries(
  db: Db,
  webhookId: string,
  since: number | undefined,
): Promise<{ eventType: string; status: DeliveryStatus; n: number; lastAttemptAt: number | null }[]> {
  let q = db
    .selectFrom('webhook_delivery')
    .select((eb) => [
      'event_type',
      'status',
      eb.fn.countAll().as('n'),
      eb.fn.max('last_attempt_at').as('last_attempt_at'),
    ])
    .where('webhook_id', '=', webhookId);
  if (since !== undefined) q = q.where('created_at', '>=', since);
  const rows = await q.groupBy(['event_type', 'status']).execute();
  return rows.map((r) => ({
    eventType: r.event_type,
    status: r.status as DeliveryStatus,
    n: Number(r.n),
    lastAttemptAt: optNum(r.last_attempt_at),
  }));
}

/**
 * Takes up to `limit` due pending deliveries for sending: their next attempt moves to
 * `leaseUntil`, so no other sender takes them meanwhile (rows another node is taking are
 * skipped when the database can). Returns them with their webhook's URL and secret.
 * Deliveries of a conversation that is not shown (recycle bin, deletion job) are not sent:
 * they wait until `holdUntil` (no attempt counted), and go when it is restored.
 */
export async function claimDueDeliveries(
  db: Db,
  opts: { now: number; leaseUntil: number; holdUntil: number; limit: number; skipLocked: boolean },
): Promise<(WebhookDelivery & { url: string; secret: string })[]> {
  let rows = await leaseDueRows(db, 'webhook_delivery', opts);
  const conversationIds = rows.flatMap((r) =>
    r.conversation_id === null ? [] : [String(r.conversation_id)],
  );
  const shown = await findShownConversationIds(db, conversationIds);
  const held = rows.filter((r) => r.conversation_id !== null && !shown.has(String(r.conversation_id)));
  if (held.length > 0)
    await db
      .updateTable('webhook_delivery')
      .set({ next_attempt_at: opts.holdUntil })
      .where(
        'id',
        'in',
        held.map((r) => r.id),
      )
      .execute();
  rows = rows.filter((r) => !held.includes(r));
  if (rows.length === 0) return [];
  const hooks = await db
    .selectFrom('webhook')
    .select(['id', 'url', 'secret'])
    .where('id', 'in', [...new Set(rows.map((r) => String(r.webhook_id)))])
    .execute();
  const byId = new Map(hooks.map((h) => [String(h.id), h]));
  return rows
    .map(toDelivery)
    .filter((d) => byId.has(d.webhookId))
    .map((d) => ({ ...d, url: byId.get(d.webhookId)!.url, secret: byId.get(d.webhookId)!.secret }));
}

/** Records the outcome of one attempt, unless the delivery changed meanwhile (compare-and-set on attempts). */
export async function recordAttempt(
  db: Db,
  d: Pick<WebhookDelivery, 'id' | 'attempts'>,
  outcome: {
    status: DeliveryStatus;
    nextAttemptAt: number;
    statusCode: number | null;
    error: string | null;
    now: number;
  },
): Promise<void> {
  await db
    .updateTable('webhook_delivery')
    .set({
      status: outcome.status,
      attempts: d.attempts + 1,
      next_attempt_at: outcome.nextAttemptAt,
      last_status_code: outcome.statusCode,
      last_error: outcome.error,
      last_attempt_at: outcome.now,
      delivered_at: outcome.status === 'succeeded' ? outcome.now : null,
    })
    .where('id', '=', d.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', d.attempts)
    .execute();
}

/** Removes the deliveries that carry a purged conversation's data. */
export async function deleteDeliveriesOfConversations(db: Db, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await db.deleteFrom('webhook_delivery').where('conversation_id', 'in', ids).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Periodic: forgets finished deliveries (succeeded or failed) created before `before`. */
export async function deleteFinishedDeliveriesBefore(db: Db, before: number): Promise<number> {
  const res = await db
    .deleteFrom('webhook_delivery')
    .where('status', 'in', ['succeeded', 'failed'])
    .where('created_at', '<', before)
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** How many pending deliveries are due (for tests and metrics). */
export async function countDueDeliveries(db: Db, now: number): Promise<number> {
  const row = await db
    .selectFrom('webhook_delivery')
    .select(sql<number>`count(*)`.as('n'))
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
