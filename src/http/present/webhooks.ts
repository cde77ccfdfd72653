import { iso, optIso } from '../../domain/presenters.ts';
import type { Webhook, WebhookDelivery } from '../../domain/webhooks.ts';
import type { DeliverySummary } from '../../services/webhooks.ts';

/** Webhooks, deliveries and delivery summaries as the API shows them (http/schemas/webhooks.ts). */

export function presentWebhook(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    events: w.events,
    active: w.active,
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

export function presentDelivery(d: WebhookDelivery) {
  let payload: unknown = null;
  try {
    payload = JSON.parse(d.payload);
  } catch {
    payload = d.payload;
  }
  return {
    id: d.id,
    webhook_id: d.webhookId,
    event: d.eventType,
    event_seq: d.eventSeq,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    last_attempt_at: optIso(d.lastAttemptAt),
    created_at: iso(d.createdAt),
    delivered_at: optIso(d.deliveredAt),
    payload,
  };
}

export function presentSummary(s: DeliverySummary) {
  const finished = s.succeeded + s.failed;
  return {
    webhook_id: s.webhookId,
    since: optIso(s.since),
    total: finished + s.pending,
    succeeded: s.succeeded,
    failed: s.failed,
    pending: s.pending,
    success_rate: finished === 0 ? null : Math.round((s.succeeded / finished) * 10_000) / 10_000,
    last_succeeded_at: optIso(s.lastSucceededAt),
    last_failed_at: optIso(s.lastFailedAt),
    events: s.byEvent,
  };
}
