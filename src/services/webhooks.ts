import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { canManageWebhooks } from '../domain/policies/admin.ts';
import { authorize } from '../domain/policies/decision.ts';
import { optIso } from '../domain/presenters.ts';
import type { Principal } from '../domain/principal.ts';
import {
  checkEvents,
  checkWebhookUrl,
  type DeliveryStatus,
  type Webhook,
  type WebhookDelivery,
} from '../domain/webhooks.ts';
import {
  countWebhooks,
  deleteFailedDeliveries,
  deleteWebhook as deleteWebhookRow,
  findDelivery,
  findWebhook,
  insertWebhook,
  listDeliveries as listDeliveryRows,
  listWebhooks as listWebhookRows,
  requeueFailedDelivery,
  summarizeDeliveries,
  updateWebhook as updateWebhookRow,
} from '../store/repos/webhooks.ts';
import { decodeCursor, keysetPage } from './cursor.ts';
import { withinQuota } from './quotas.ts';

/**
 * Managing webhooks: create, update, subscriptions, their deliveries (list, retry, delete,
 * export) and summaries. Writing and sending deliveries is services/webhook-delivery.ts.
 * Managing webhooks is for org owners and admins (`admin_role_required` 403); another org's
 * webhook is `webhook_not_found` (404).
 */

const newSecret = () => `whsec_${randomBytes(24).toString('hex')}`;
const notFound = (id: string) => new NotFoundError('webhook_not_found', `Webhook ${id} not found`);

async function load(ctx: AppContext, p: Principal, id: string): Promise<Webhook> {
  authorize(canManageWebhooks(p));
  const w = await findWebhook(ctx.db, p.orgId, id);
  if (!w) throw notFound(id);
  return w;
}

/**
 * Creates a webhook with a fresh signing secret (returned once, here). `invalid_url`,
 * `unknown_event` (400); `quota_exceeded` (409) past the `webhooks` quota.
 */
export async function createWebhook(
  ctx: AppContext,
  p: Principal,
  input: {
    url: string;
    events: readonly string[];
    description?: string | undefined;
    active?: boolean | undefined;
  },
): Promise<Webhook> {
  authorize(canManageWebhooks(p));
  const url = checkWebhookUrl(input.url);
  const events = checkEvents(input.events);
  const now = ctx.clock.now();
  const w: Webhook = {
    id: ctx.ids.next(),
    orgId: p.orgId,
    url,
    description: input.description ?? null,
    secret: newSecret(),
    events,
    active: input.active ?? true,
    createdAt: now,
    updatedAt: now,
  };
  await withinQuota(
    ctx,
    p.orgId,
    {
      quota: 'webhooks',
      limit: ctx.config.quotas.webhooks,
      adding: 1,
      what: 'The org has as many webhooks as it may',
      count: (tx) => countWebhooks(tx.db, p.orgId),
    },
    (tx) => insertWebhook(tx.db, w),
  );
  return w;
}

/** The org's webhooks, oldest first. */
export async function listWebhooks(ctx: AppContext, p: Principal): Promise<Webhook[]> {
  authorize(canManageWebhooks(p));
  return listWebhookRows(ctx.db, p.orgId);
}

/** One webhook (`webhook_not_found` 404). */
export function getWebhook(ctx: AppContext, p: Principal, id: string): Promise<Webhook> {
  return load(ctx, p, id);
}

/**
 * Changes a webhook's url, events, description or active flag; `rotateSecret` replaces its
 * secret (the new one is in the answer). Same errors as createWebhook, and `webhook_not_found`.
 */
export async function updateWebhook(
  ctx: AppContext,
  p: Principal,
  id: string,
  patch: {
    url?: string | undefined;
    events?: readonly string[] | undefined;
    description?: string | null | undefined;
    active?: boolean | undefined;
    rotateSecret?: boolean | undefined;
  },
): Promise<{ webhook: Webhook; secretRotated: boolean }> {
  await load(ctx, p, id);
  const updated = await updateWebhookRow(
    ctx.db,
    p.orgId,
    id,
    {
      url: patch.url === undefined ? undefined : checkWebhookUrl(patch.url),
      events: patch.events === undefined ? undefined : checkEvents(patch.events),
      description: patch.description,
      active: patch.active,
      secret: patch.rotateSecret ? newSecret() : undefined,
    },
    ctx.clock.now(),
  );
  if (!updated) throw notFound(id);
  return { webhook: updated, secretRotated: patch.rotateSecret === true };
}

/** Deletes a webhook and its deliveries (`webhook_not_found` 404). */
export async function deleteWebhook(ctx: AppContext, p: Principal, id: string): Promise<void> {
  authorize(canManageWebhooks(p));
  if (!(await deleteWebhookRow(ctx.db, p.orgId, id))) throw notFound(id);
}

/** Subscribes a webhook to more events (`unknown_event` 400). */
export async function subscribeEvents(
  ctx: AppContext,
  p: Principal,
  id: string,
  events: readonly string[],
): Promise<Webhook> {
  const w = await load(ctx, p, id);
  const added = checkEvents(events, 'body.events');
  const next = [...new Set([...w.events, ...added])];
  return (await updateWebhookRow(ctx.db, p.orgId, id, { events: next }, ctx.clock.now())) ?? w;
}

/**
 * Unsubscribes a webhook from events (`unknown_event` 400). A webhook keeps at least one event
 * (`events_required` 400): deactivate it (`active: false`) to pause it instead.
 */
export async function unsubscribeEvents(
  ctx: AppContext,
  p: Principal,
  id: string,
  events: readonly string[],
): Promise<Webhook> {
  const w = await load(ctx, p, id);
  if (events.length === 0) throw ValidationError.field('query.events', 'must name at least one event');
  const removed = new Set(checkEvents(events, 'query.events'));
  const next = w.events.filter((e) => !removed.has(e));
  if (next.length === 0)
    throw ValidationError.field(
      'query.events',
      'would leave the webhook with no event; deactivate it instead (active: false)',
      'events_required',
    );
  return (await updateWebhookRow(ctx.db, p.orgId, id, { events: next }, ctx.clock.now())) ?? w;
}

/** A webhook's deliveries, newest first, optionally of one status (`invalid_cursor` 400). */
export async function listDeliveries(
  ctx: AppContext,
  p: Principal,
  id: string,
  input: { status?: DeliveryStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
  const w = await load(ctx, p, id);
  const before = input.cursor ? String(decodeCursor(input.cursor, 'deliveries', ['id'])[0]) : undefined;
  const rows = await listDeliveryRows(ctx.db, w.id, {
    status: input.status,
    beforeId: before,
    limit: input.limit + 1,
  });
  return keysetPage(rows, input.limit, 'deliveries', (last) => [last.id]);
}

/**
 * Retries a failed delivery now, with a fresh back-off schedule (`delivery_not_found` 404,
 * `delivery_not_failed` 409 for one that is pending or succeeded).
 */
export async function retryDelivery(
  ctx: AppContext,
  p: Principal,
  id: string,
  deliveryId: string,
): Promise<WebhookDelivery> {
  const w = await load(ctx, p, id);
  const requeued = await requeueFailedDelivery(ctx.db, w.id, deliveryId, ctx.clock.now());
  if (requeued) return requeued;
  const d = await findDelivery(ctx.db, w.id, deliveryId);
  if (!d) throw new NotFoundError('delivery_not_found', `Delivery ${deliveryId} not found`);
  throw new ConflictError(
    'delivery_not_failed',
    `Only failed deliveries can be retried; this one is ${d.status}`,
    {
      status: d.status,
    },
  );
}

/** Deletes a webhook's failed deliveries: those among `ids`, or all of them. Returns how many. */
export async function deleteFailedWebhookDeliveries(
  ctx: AppContext,
  p: Principal,
  id: string,
  ids: readonly string[] | undefined,
): Promise<number> {
  const w = await load(ctx, p, id);
  return deleteFailedDeliveries(ctx.db, w.id, ids);
}

/** At most this many rows in one CSV export. */
export const MAX_EXPORT_ROWS = 10_000;

/** One CSV field (RFC 4180), neutralized against spreadsheet formula injection. */
function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A webhook's deliveries (failed by default) as CSV, newest first, at most MAX_EXPORT_ROWS.
 * Written by hand: RFC 4180 quoting is ten lines, and no CSV library is a dependency yet.
 */
export async function exportDeliveriesCsv(
  ctx: AppContext,
  p: Principal,
  id: string,
  status: DeliveryStatus | undefined,
): Promise<string> {
  const w = await load(ctx, p, id);
  const rows = await listDeliveryRows(ctx.db, w.id, { status, limit: MAX_EXPORT_ROWS });
  const cell = (ms: number | null) => optIso(ms) ?? '';
  const header = [
    'delivery_id',
    'webhook_id',
    'event',
    'event_seq',
    'status',
    'attempts',
    'last_status_code',
    'last_error',
    'created_at',
    'last_attempt_at',
    'delivered_at',
    'payload',
  ];
  const lines = rows.map((d) =>
    [
      d.id,
      d.webhookId,
      d.eventType,
      d.eventSeq,
      d.status,
      d.attempts,
      d.lastStatusCode,
      d.lastError,
      cell(d.createdAt),
      cell(d.lastAttemptAt),
      cell(d.deliveredAt),
      d.payload,
    ]
      .map(csvField)
      .join(','),
  );
  return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
}

export interface DeliverySummary {
  webhookId: string;
  since: number | null;
  succeeded: number;
  failed: number;
  pending: number;
  lastSucceededAt: number | null;
  lastFailedAt: number | null;
  byEvent: { event: string; succeeded: number; failed: number; pending: number }[];
}

/** Successes, failures and pending deliveries of a webhook, in all and per event (since `since`). */
export async function summarizeWebhook(
  ctx: AppContext,
  p: Principal,
  id: string,
  since: number | undefined,
): Promise<DeliverySummary> {
  const w = await load(ctx, p, id);
  const rows = await summarizeDeliveries(ctx.db, w.id, since);
  const byEvent = new Map<string, { event: string; succeeded: number; failed: number; pending: number }>();
  const s: DeliverySummary = {
    webhookId: w.id,
    since: since ?? null,
    succeeded: 0,
    failed: 0,
    pending: 0,
    lastSucceededAt: null,
    lastFailedAt: null,
    byEvent: [],
  };
  const later = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  for (const r of rows) {
    const e = byEvent.get(r.eventType) ?? { event: r.eventType, succeeded: 0, failed: 0, pending: 0 };
    e[r.status] += r.n;
    s[r.status] += r.n;
    byEvent.set(r.eventType, e);
    if (r.status === 'succeeded') s.lastSucceededAt = later(s.lastSucceededAt, r.lastAttemptAt);
    if (r.status === 'failed') s.lastFailedAt = later(s.lastFailedAt, r.lastAttemptAt);
  }
  s.byEvent = [...byEvent.values()].sort((a, b) => a.event.localeCompare(b.event));
  return s;
}
