import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { ValidationError } from '../../domain/errors.ts';
import { isId } from '../../domain/ids.ts';
import { DeliveryStatus, WEBHOOK_EVENTS } from '../../domain/webhooks.ts';
import {
  createWebhook,
  deleteFailedWebhookDeliveries,
  deleteWebhook,
  exportDeliveriesCsv,
  getWebhook,
  listDeliveries,
  listWebhooks,
  retryDelivery,
  subscribeEvents,
  summarizeWebhook,
  unsubscribeEvents,
  updateWebhook,
} from '../../services/webhooks.ts';
import { principalOf } from '../auth.ts';
import { presentDelivery, presentSummary, presentWebhook } from '../present/webhooks.ts';
import { presentPage } from '../present.ts';
import {
  DeliveryParams,
  DeliverySchema,
  EventName,
  IdParams,
  ListParam,
  SummarySchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from '../schemas/webhooks.ts';
import {
  commonErrors,
  IdempotencyHeaders,
  listQuery,
  literals,
  Nullable,
  page,
  pageArgs,
  readErrors,
} from '../schemas.ts';
import { type Api, parseTime, typed } from './util.ts';

/** Webhooks: CRUD, event subscriptions, deliveries (failed ones retried, deleted, exported), summaries. */

/** A comma-separated list from a query string (`a,b` or repeated `?x=a&x=b`), trimmed, empty parts dropped. */
function commaList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return [value]
    .flat()
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export function webhookRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const tags = ['webhooks'];

  r.get(
    '/webhooks/event-types',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'The events a webhook can subscribe to',
        response: { 200: Type.Object({ items: Type.Array(Type.String()) }), ...readErrors },
      },
    },
    async () => ({ items: [...WEBHOOK_EVENTS] }),
  );

  r.post(
    '/webhooks',
    {
      config: { scope: 'admin', idempotent: true },
      schema: {
        tags,
        headers: IdempotencyHeaders,
        summary: 'Create a webhook (org owners and admins)',
        description:
          'Every delivery is a POST of the event as JSON with X-Parley-Delivery (its id), X-Parley-Event and X-Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>. 2xx is success; anything else is retried with exponential back-off (10 s doubling to 1 h) for about 12 hours, then the delivery is failed.',
        body: Type.Object(
          {
            url: Type.String({ minLength: 1, maxLength: 2048 }),
            events: Type.Array(EventName, { minItems: 1, maxItems: 50 }),
            description: Type.Optional(Type.String({ maxLength: 200 })),
            active: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: WebhookWithSecretSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const w = await createWebhook(ctx, principalOf(req), req.body);
      return reply.code(201).send({ ...presentWebhook(w), secret: w.secret });
    },
  );

  r.get(
    '/webhooks',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "The org's webhooks",
        response: { 200: Type.Object({ items: Type.Array(WebhookSchema) }), ...readErrors },
      },
    },
    async (req) => ({ items: (await listWebhooks(ctx, principalOf(req))).map(presentWebhook) }),
  );

  r.get(
    '/webhooks/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'A webhook',
        params: IdParams,
        response: { 200: WebhookSchema, ...readErrors },
      },
    },
    async (req) => presentWebhook(await getWebhook(ctx, principalOf(req), req.params.id)),
  );

  r.patch(
    '/webhooks/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Change a webhook; rotate_secret gives it a new secret (in the answer)',
        params: IdParams,
        body: Type.Object(
          {
            url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
            events: Type.Optional(Type.Array(EventName, { minItems: 1, maxItems: 50 })),
            description: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
            active: Type.Optional(Type.Boolean()),
            rotate_secret: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: {
          200: Type.Object({
            ...WebhookSchema.properties,
            secret: Type.Optional(Type.String({ description: 'Only when rotate_secret was true' })),
          }),
          ...commonErrors,
        },
      },
    },
    async (req) => {
      const b = req.body;
      const { webhook, secretRotated } = await updateWebhook(ctx, principalOf(req), req.params.id, {
        url: b.url,
        events: b.events,
        description: b.description,
        active: b.active,
        rotateSecret: b.rotate_secret,
      });
      return secretRotated ? { ...presentWebhook(webhook), secret: webhook.secret } : presentWebhook(webhook);
    },
  );

  r.delete(
    '/webhooks/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Delete a webhook and its deliveries',
        params: IdParams,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      await deleteWebhook(ctx, principalOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/webhooks/:id/events',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Subscribe a webhook to more events',
        params: IdParams,
        body: Type.Object(
          { events: Type.Array(EventName, { minItems: 1, maxItems: 50 }) },
          { additionalProperties: false },
        ),
        response: { 200: WebhookSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentWebhook(await subscribeEvents(ctx, principalOf(req), req.params.id, req.body.events)),
  );

  r.delete(
    '/webhooks/:id/events',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Unsubscribe a webhook from events (?events=a,b)',
        params: IdParams,
        querystring: Type.Object({ events: Type.Optional(ListParam) }, { additionalProperties: false }),
        response: { 200: WebhookSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentWebhook(
        await unsubscribeEvents(ctx, principalOf(req), req.params.id, commaList(req.query.events) ?? []),
      ),
  );

  r.get(
    '/webhooks/:id/deliveries',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "A webhook's deliveries, newest first (?status=failed for the failed ones)",
        params: IdParams,
        querystring: listQuery({ status: Type.Optional(literals(DeliveryStatus)) }),
        response: { 200: page(DeliverySchema), ...readErrors },
      },
    },
    async (req) => {
      const result = await listDeliveries(ctx, principalOf(req), req.params.id, {
        status: req.query.status,
        ...pageArgs(req.query),
      });
      return presentPage(result, presentDelivery);
    },
  );

  r.get(
    '/webhooks/:id/deliveries/export',
    {
      config: { scope: 'admin', produces: ['text/csv'] },
      schema: {
        tags,
        summary: "Export a webhook's deliveries as CSV (failed ones unless ?status= says otherwise)",
        params: IdParams,
        querystring: Type.Object(
          { status: Type.Optional(literals(DeliveryStatus)) },
          { additionalProperties: false },
        ),
        response: {
          // Only the 200 is CSV; errors are the native JSON body (a string payload is sent as is).
          200: {
            description: 'One row per delivery, newest first, at most 10,000',
            content: { 'text/csv': { schema: Type.String() } },
          },
          ...readErrors,
        },
      },
    },
    async (req, reply) => {
      const csv = await exportDeliveriesCsv(
        ctx,
        principalOf(req),
        req.params.id,
        req.query.status ?? 'failed',
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="webhook-${req.params.id}-${req.query.status ?? 'failed'}-deliveries.csv"`,
        )
        .send(csv);
    },
  );

  r.post(
    '/webhooks/:id/deliveries/:deliveryId/retry',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Retry a failed delivery now',
        params: DeliveryParams,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: DeliverySchema, ...commonErrors },
      },
    },
    async (req) =>
      presentDelivery(await retryDelivery(ctx, principalOf(req), req.params.id, req.params.deliveryId)),
  );

  r.delete(
    '/webhooks/:id/deliveries',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "Delete a webhook's failed deliveries (all, or ?ids=a,b)",
        params: IdParams,
        querystring: Type.Object({ ids: Type.Optional(ListParam) }, { additionalProperties: false }),
        response: { 200: Type.Object({ deleted: Type.Integer() }), ...commonErrors },
      },
    },
    async (req) => {
      const ids = commaList(req.query.ids);
      ids?.forEach((id, i) => {
        if (!isId(id)) throw ValidationError.field(`query.ids.${i}`, 'must be a delivery id', 'invalid_id');
      });
      if (ids && ids.length === 0)
        throw ValidationError.field('query.ids', 'must name at least one delivery');
      return { deleted: await deleteFailedWebhookDeliveries(ctx, principalOf(req), req.params.id, ids) };
    },
  );

  r.get(
    '/webhooks/:id/summary',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Successes and failures of a webhook, in all and per event',
        params: IdParams,
        querystring: Type.Object(
          {
            since: Type.Optional(
              Type.String({ description: 'ISO 8601 time or epoch ms: deliveries made since' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: SummarySchema, ...readErrors },
      },
    },
    async (req) =>
      presentSummary(
        await summarizeWebhook(
          ctx,
          principalOf(req),
          req.params.id,
          parseTime(req.query.since, 'query.since'),
        ),
      ),
  );
}
