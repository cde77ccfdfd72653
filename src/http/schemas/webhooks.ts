import Type from 'typebox';
import { DeliveryStatus } from '../../domain/webhooks.ts';
import { IdString, literals, Nullable, Timestamp } from '../schemas.ts';

/** The JSON shapes of webhooks, their deliveries and summaries (presented by http/present/webhooks.ts). */

export const EventName = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'An event type, e.g. message.created',
});
export const WebhookSchema = Type.Object({
  id: IdString,
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const WebhookWithSecretSchema = Type.Object({
  ...WebhookSchema.properties,
  secret: Type.String({ description: 'Signs every delivery; shown only when made or rotated' }),
});

export const DeliverySchema = Type.Object({
  id: IdString,
  webhook_id: IdString,
  event: Type.String(),
  event_seq: Type.Integer(),
  status: literals(DeliveryStatus),
  attempts: Type.Integer(),
  next_attempt_at: Nullable(Timestamp),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  last_attempt_at: Nullable(Timestamp),
  created_at: Timestamp,
  delivered_at: Nullable(Timestamp),
  payload: Type.Unknown({ description: 'The JSON body sent' }),
});

export const Counts = { succeeded: Type.Integer(), failed: Type.Integer(), pending: Type.Integer() };
export const SummarySchema = Type.Object({
  webhook_id: IdString,
  since: Nullable(Timestamp),
  total: Type.Integer(),
  ...Counts,
  success_rate: Nullable(Type.Number({ description: 'succeeded / (succeeded + failed), null before any' })),
  last_succeeded_at: Nullable(Timestamp),
  last_failed_at: Nullable(Timestamp),
  events: Type.Array(Type.Object({ event: Type.String(), ...Counts })),
});

export const IdParams = Type.Object({ id: IdString });
export const DeliveryParams = Type.Object({ id: IdString, deliveryId: IdString });
export const ListParam = Type.Union([
  Type.String({ maxLength: 4000 }),
  Type.Array(Type.String({ maxLength: 4000 })),
]);
