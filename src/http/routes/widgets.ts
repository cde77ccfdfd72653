import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { SupportState } from '../../domain/model.ts';
import {
  createWidget,
  deleteWidget,
  getWidget,
  listWidgets,
  updateWidget,
  type WidgetInput,
} from '../../services/widgets.ts';
import {
  createCannedResponse,
  deleteCannedResponse,
  getCannedResponse,
  listAvailability,
  listCannedResponses,
  listSupportChats,
  queueCounts,
  setAvailabilityOf,
  setMyAvailability,
  updateCannedResponse,
  visitorPanel,
} from '../../services/workspace.ts';
import { principalOf } from '../auth.ts';
import {
  presentAvailability,
  presentCanned,
  presentChatListItem,
  presentQueueCount,
  presentVisitorPanel,
  presentWidget,
} from '../present/widget.ts';
import { presentPage } from '../present.ts';
import {
  AvailabilityBody,
  AvailabilitySchema,
  CannedCreateBody,
  CannedPatchBody,
  CannedSchema,
  ChatListItemSchema,
  QueueCountSchema,
  VisitorPanelSchema,
  WidgetCreateBody,
  WidgetPatchBody,
  WidgetSchema,
} from '../schemas/widget.ts';
import {
  Cursor,
  commonErrors,
  IdempotencyHeaders,
  IdString,
  Limit,
  listQuery,
  literals,
  page,
  pageArgs,
  readErrors,
} from '../schemas.ts';
import { type Api, bodyId, typed } from './util.ts';

/**
 * Widget configuration (owners and admins) and the server side of the operators' workspace:
 * availability, queue counts, the visitor panel, canned responses. Registered under /v1.
 */

const IdParams = Type.Object({ id: IdString });
const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

/** The origin this server is reached at, for the embed snippet. */
export function baseUrlOf(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

function widgetInput(b: {
  name?: string;
  allowed_origins?: string[];
  department_ids?: (string | number)[];
  prechat?: WidgetInput['prechat'];
  greeting?: string;
  offline_message?: string;
  colour?: string;
}): WidgetInput {
  return {
    name: b.name,
    allowedOrigins: b.allowed_origins,
    departmentIds: b.department_ids?.map((v, i) => bodyId(v, `body.department_ids.${i}`)),
    prechat: b.prechat,
    greeting: b.greeting,
    offlineMessage: b.offline_message,
    colour: b.colour,
  };
}

export function widgetRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const widgets = ['widgets'];
  const workspace = ['support'];
  const canned = ['canned responses'];

  r.post(
    '/widgets',
    {
      config: { scope: 'admin', idempotent: true },
      schema: {
        tags: widgets,
        headers: IdempotencyHeaders,
        summary: 'Create a website chat widget (org owners and admins)',
        description:
          'Answers the public key for the embed snippet and the secret that signs known customers (docs/widget.md).',
        body: WidgetCreateBody,
        response: { 201: WidgetSchema, ...commonErrors },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(
          presentWidget(await createWidget(ctx, principalOf(req), widgetInput(req.body)), baseUrlOf(req)),
        ),
  );

  r.get(
    '/widgets',
    {
      config: { scope: 'admin' },
      schema: {
        tags: widgets,
        summary: "The org's widgets (org owners and admins)",
        querystring: PageQuery,
        response: { 200: page(WidgetSchema), ...readErrors },
      },
    },
    async (req) => {
      const res = await listWidgets(ctx, principalOf(req), {
        ...pageArgs(req.query),
      });
      return presentPage(res, (w) => presentWidget(w, baseUrlOf(req)));
    },
  );

  r.get(
    '/widgets/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: widgets,
        summary: 'Get a widget (org owners and admins)',
        params: IdParams,
        response: { 200: WidgetSchema, ...readErrors },
      },
    },
    async (req) => presentWidget(await getWidget(ctx, principalOf(req), req.params.id), baseUrlOf(req)),
  );

  r.patch(
    '/widgets/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: widgets,
        summary: 'Change a widget (org owners and admins)',
        params: IdParams,
        body: WidgetPatchBody,
        response: { 200: WidgetSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentWidget(
        await updateWidget(ctx, principalOf(req), req.params.id, {
          ...widgetInput(req.body),
          rotateSecret: req.body.rotate_secret,
        }),
        baseUrlOf(req),
      ),
  );

  r.delete(
    '/widgets/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: widgets,
        summary: "Delete a widget: its visitors' credentials stop working (their chats stay)",
        params: IdParams,
        response: { 204: Type.Null(), ...readErrors },
      },
    },
    async (req, reply) => {
      await deleteWidget(ctx, principalOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/support/availability',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: workspace,
        summary: "Every operator's availability (available / away) and open chats (staff)",
        description:
          'Operators who never set it are away. Widgets are online while an available operator serves a department.',
        response: { 200: Type.Object({ items: Type.Array(AvailabilitySchema) }), ...readErrors },
      },
    },
    async (req) => ({ items: (await listAvailability(ctx, principalOf(req))).map(presentAvailability) }),
  );

  r.put(
    '/support/availability',
    {
      config: { scope: 'support:write' },
      schema: {
        tags: workspace,
        summary: 'Set your own availability (staff)',
        body: AvailabilityBody,
        response: { 200: AvailabilitySchema, ...commonErrors },
      },
    },
    async (req) => presentAvailability(await setMyAvailability(ctx, principalOf(req), req.body.status)),
  );

  r.put(
    '/support/availability/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: workspace,
        summary: "Set an operator's availability (org owners and admins)",
        params: IdParams,
        body: AvailabilityBody,
        response: { 200: AvailabilitySchema, ...commonErrors },
      },
    },
    async (req) =>
      presentAvailability(await setAvailabilityOf(ctx, principalOf(req), req.params.id, req.body.status)),
  );

  r.get(
    '/support/queue/counts',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: workspace,
        summary: 'Waiting chats per department you serve, with their available operators (staff)',
        response: { 200: Type.Object({ items: Type.Array(QueueCountSchema) }), ...readErrors },
      },
    },
    async (req) => ({ items: (await queueCounts(ctx, principalOf(req))).map(presentQueueCount) }),
  );

  r.get(
    '/support/chats',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: workspace,
        summary: 'Support chats, newest first: by state, department, visitor, or your own open ones (staff)',
        description:
          'state=missed lists the messages left while nobody could answer; mine=true the waiting and connected chats you attend. Operators with departments see those departments and the chats they attend.',
        querystring: listQuery({
          state: Type.Optional(literals(SupportState)),
          department_id: Type.Optional(IdString),
          visitor_id: Type.Optional(IdString),
          mine: Type.Optional(Type.Boolean()),
        }),
        response: { 200: page(ChatListItemSchema), ...readErrors },
      },
    },
    async (req) => {
      const q = req.query;
      const res = await listSupportChats(ctx, principalOf(req), {
        states: q.state ? [q.state] : undefined,
        departmentId: q.department_id,
        visitorId: q.visitor_id,
        mine: q.mine,
        limit: q.limit ?? 50,
        cursor: q.cursor,
      });
      return presentPage(res, presentChatListItem);
    },
  );

  r.get(
    '/support/chats/:id/visitor',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: workspace,
        summary: 'The visitor panel of a support chat: details, department, page, previous chats (staff)',
        params: IdParams,
        response: { 200: VisitorPanelSchema, ...readErrors },
      },
    },
    async (req) => presentVisitorPanel(await visitorPanel(ctx, principalOf(req), req.params.id)),
  );

  r.get(
    '/canned-responses',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: canned,
        summary: "The org's canned responses (staff); prefix completes a /shortcut",
        querystring: listQuery({
          prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 33 })),
        }),
        response: { 200: page(CannedSchema), ...readErrors },
      },
    },
    async (req) => {
      const res = await listCannedResponses(ctx, principalOf(req), {
        prefix: req.query.prefix,
        ...pageArgs(req.query),
      });
      return presentPage(res, presentCanned);
    },
  );

  r.post(
    '/canned-responses',
    {
      config: { scope: 'admin', idempotent: true },
      schema: {
        tags: canned,
        headers: IdempotencyHeaders,
        summary: 'Create a canned response (org owners and admins)',
        body: CannedCreateBody,
        response: { 201: CannedSchema, ...commonErrors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(presentCanned(await createCannedResponse(ctx, principalOf(req), req.body))),
  );

  r.get(
    '/canned-responses/:id',
    {
      config: { scope: 'support:read' },
      schema: {
        tags: canned,
        summary: 'Get a canned response (staff)',
        params: IdParams,
        response: { 200: CannedSchema, ...readErrors },
      },
    },
    async (req) => presentCanned(await getCannedResponse(ctx, principalOf(req), req.params.id)),
  );

  r.patch(
    '/canned-responses/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: canned,
        summary: 'Change a canned response (org owners and admins)',
        params: IdParams,
        body: CannedPatchBody,
        response: { 200: CannedSchema, ...commonErrors },
      },
    },
    async (req) => presentCanned(await updateCannedResponse(ctx, principalOf(req), req.params.id, req.body)),
  );

  r.delete(
    '/canned-responses/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: canned,
        summary: 'Delete a canned response (org owners and admins)',
        params: IdParams,
        response: { 204: Type.Null(), ...readErrors },
      },
    },
    async (req, reply) => {
      await deleteCannedResponse(ctx, principalOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
