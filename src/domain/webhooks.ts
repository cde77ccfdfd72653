import { createHmac } from 'node:crypto';
import { ValidationError } from './errors.ts';
import { EventType } from './events.ts';

/**
 * Webhooks: an org's HTTP endpoints that receive its events. Each delivery is signed with the
 * webhook's secret, retried with exponential back-off for about 12 hours, then marked failed,
 * where an admin may retry, delete or export it.
 */

/**
 * The events a webhook may subscribe to: every stored event about messages, members,
 * conversations, pins, support chats and deletion jobs (not the realtime gateway's control and
 * ephemeral events).
 */
export const WEBHOOK_EVENTS: readonly EventType[] = EventType.filter((t) =>
  /^(message|member|conversation|pin|support|deletion_job)\./.test(t),
);

export function isWebhookEvent(value: string): value is EventType {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

export const DeliveryStatus = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DeliveryStatus)[number];

export interface Webhook {
  id: string;
  orgId: string;
  url: string;
  description: string | null;
  /** Used to sign deliveries; shown only when made or rotated. */
  secret: string;
  events: EventType[];
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  orgId: string;
  eventType: string;
  eventSeq: number;
  conversationId: string | null;
  /** The message the payload carries (`data.message`), or null: its copy is redacted when it is deleted. */
  messageId: string | null;
  /** The exact JSON body sent on each attempt. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** At most this many webhooks per org. */
export const MAX_WEBHOOKS_PER_ORG = 50;

/** Attempts before a delivery is marked failed: 10 s doubling to 1 h, then hourly, ~12.4 h in all. */
export const MAX_DELIVERY_ATTEMPTS = 20;
const FIRST_RETRY_MS = 10_000;
const LONGEST_RETRY_MS = 60 * 60_000;

/** The wait after the `attempt`-th failed attempt (1-based): 10 s, 20 s, 40 s ... capped at 1 hour. */
export function retryDelayMs(attempt: number): number {
  return Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
}

/**
 * The `X-Parley-Signature` header of a delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" keyed with the webhook secret>`. Receivers recompute it over the raw body and
 * compare in constant time (and may refuse old timestamps to stop replays).
 */
export function signDelivery(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * A webhook URL as given, or `invalid_url` (400): an absolute http(s) URL with a host, no
 * credentials and no fragment, at most 2048 characters.
 */
export function checkWebhookUrl(value: string, path = 'body.url'): string {
  const bad = (problem: string) => ValidationError.field(path, problem, 'invalid_url');
  if (value.length > 2048) throw bad('must be at most 2048 characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('must be an absolute URL such as https://example.com/hooks/parley');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('must use http or https');
  if (!url.hostname) throw bad('must name a host');
  if (url.username || url.password)
    throw bad('must not carry credentials; use the signature to authenticate');
  if (url.hash) throw bad('must not have a #fragment');
  return value;
}

/** Event names checked against WEBHOOK_EVENTS (`unknown_event` 400 naming each unknown one), deduplicated. */
export function checkEvents(values: readonly string[], path = 'body.events'): EventType[] {
  const unknown = values.map((v, i) => ({ v, i })).filter(({ v }) => !isWebhookEvent(v));
  if (unknown.length > 0)
    throw new ValidationError(
      'unknown_event',
      `Unknown event ${unknown.map((u) => u.v).join(', ')}; see GET /v1/webhooks/event-types`,
      unknown.map(({ i }) => ({ path: `${path}.${i}`, problem: 'is not an event a webhook can receive' })),
    );
  return [...new Set(values)] as EventType[];
}
