import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { AppContext } from '../context.ts';
import { ForbiddenError, RateLimitedError, UnauthenticatedError } from '../domain/errors.ts';
import { originAllowed, type Widget } from '../domain/widget.ts';
import type { Gateway } from '../realtime/gateway.ts';
import { streamToken } from '../realtime/stream-route.ts';
import type { WidgetLimits } from '../services/widget-limits.ts';
import {
  authenticateVisitor,
  createVisitorSession,
  getVisitorChat,
  leaveMessage,
  someWidgetAllows,
  startWidgetChat,
  type VisitorSession,
  visitorEnd,
  visitorHome,
  visitorMessages,
  visitorRead,
  visitorSend,
  visitorTyping,
  widgetByKey,
  widgetDepartments,
} from '../services/widgets.ts';
import { assertAcceptsJson } from './content.ts';
import {
  presentPublicWidget,
  presentVisitor,
  presentVisitorChat,
  presentVisitorMessage,
} from './present/widget.ts';
import { bodyId, typed } from './routes/util.ts';
import {
  OfflineBody,
  PublicWidgetSchema,
  SessionBody,
  SessionSchema,
  StartChatBody,
  VisitorChatSchema,
  VisitorHomeSchema,
  VisitorMessageSchema,
} from './schemas/widget.ts';
import { commonErrors, IdString, readErrors } from './schemas.ts';

/**
 * The visitor's side of the widget, under /v1/widget: public endpoints keyed by the widget's
 * public key (its configuration, a new visitor session), and endpoints that take the visitor
 * credential (`Authorization: Bearer pv_...`) and reach only that visitor's own chats. It is a
 * plugin of its own, beside /v1's: the /v1 auth hook never sees a visitor credential (so every
 * other route refuses it, 401), and these routes refuse anything else.
 *
 * Every request is rate-limited per client address and per widget, and a request that names an
 * Origin must come from the server itself (the widget's iframe) or from one of the widget's
 * allowed origins; CORS headers are sent only to those.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A widget route: `public` (keyed by the widget key) or `visitor` (visitor credential). */
    widget?: 'public' | 'visitor';
  }
  interface FastifyRequest {
    visitor: VisitorSession | null;
  }
}

/** Every route of this plugin is a widget route (`config.widget`); nothing else may be added here. */
function requireWidgetConfig(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const w = (route.config as { widget?: string } | undefined)?.widget;
    if (w !== 'public' && w !== 'visitor' && route.method !== 'OPTIONS')
      throw new Error(`widget route ${String(route.method)} ${route.url} declares no widget access`);
  });
}

export function visitorOf(req: FastifyRequest): VisitorSession {
  if (!req.visitor) throw new Error('widget route reached without a visitor');
  return req.visitor;
}

const selfOrigin = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

/**
 * Checks the request's Origin (when it sends one) against the widget: the server's own origin
 * (its iframe) passes; an allowed origin passes and gets CORS headers; any other is
 * `origin_not_allowed` (403).
 */
export function checkOrigin(req: FastifyRequest, reply: FastifyReply, w: Widget): void {
  const origin = req.headers.origin;
  if (origin === undefined || origin === selfOrigin(req)) return;
  if (!originAllowed(w, origin))
    throw new ForbiddenError(
      'origin_not_allowed',
      `This widget may not be used from ${origin.slice(0, 200)}`,
      {
        origin: origin.slice(0, 200),
      },
    );
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'Origin');
}

function clientIp(req: FastifyRequest): string {
  return req.ip || 'unknown';
}

async function limit(
  limits: WidgetLimits,
  req: FastifyRequest,
  reply: FastifyReply,
  w: Widget,
  session = false,
) {
  try {
    await limits.request(w.id, clientIp(req));
    if (session) await limits.session(w.id, clientIp(req));
  } catch (err) {
    if (err instanceof RateLimitedError)
      reply.header('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
    throw err;
  }
}

export interface WidgetVisitorOptions {
  ctx: AppContext;
  gateway: Gateway;
  limits: WidgetLimits;
}

const ChatParams = Type.Object({ id: IdString });
const Empty = Type.Object({}, { additionalProperties: false });
const visitorSecurity = [{ bearer: [] }];
const tags = ['widget (visitor)'];

export async function widgetVisitorPlugin(app: FastifyInstance, opts: WidgetVisitorOptions): Promise<void> {
  const { ctx, gateway, limits } = opts;
  requireWidgetConfig(app);
  if (!app.hasRequestDecorator('visitor')) app.decorateRequest('visitor', null);

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config as { widget?: string };
    if (request.method === 'OPTIONS' || !config.widget) return;
    if (!request.ws) assertAcceptsJson(request);
    if (config.widget !== 'visitor') return;
    const token = request.ws ? streamToken(request) : bearerOf(request);
    const v = await authenticateVisitor(ctx, token);
    request.visitor = v;
    await limit(limits, request, reply, v.widget);
    checkOrigin(request, reply, v.widget);
  });
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET' && request.method !== 'DELETE')
      request.body = {};
  });

  // CORS preflight for pages on an allowed origin (any widget's); the iframe needs none.
  app.options('/*', { config: { widget: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !(await someWidgetAllows(ctx, origin)))
      throw new ForbiddenError('origin_not_allowed', 'No widget may be used from this origin');
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'Origin');
    reply.header('access-control-allow-methods', 'GET, POST');
    reply.header('access-control-allow-headers', 'authorization, content-type');
    reply.header('access-control-max-age', '600');
    return reply.code(204).send();
  });

  const r = typed(app);

  r.get(
    '/config',
    {
      config: { widget: 'public' },
      schema: {
        tags,
        security: [],
        summary: "A widget's public configuration and whether anyone can answer now",
        querystring: Type.Object(
          { key: Type.String({ minLength: 1, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: PublicWidgetSchema, ...readErrors },
      },
    },
    async (req, reply) => {
      const w = await widgetByKey(ctx, req.query.key);
      await limit(limits, req, reply, w);
      checkOrigin(req, reply, w);
      return presentPublicWidget(w, await widgetDepartments(ctx, w));
    },
  );

  r.post(
    '/sessions',
    {
      config: { widget: 'public' },
      schema: {
        tags,
        security: [],
        summary: 'Start a visitor session: answers the visitor credential',
        description:
          'With identity (user_id and its HMAC-SHA256 with the widget secret) the visitor is the same customer on every device; a bad signature is 401 invalid_identity. Keep the credential in the browser (localStorage), never in a URL.',
        body: SessionBody,
        response: { 201: SessionSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const w = await widgetByKey(ctx, req.body.key);
      await limit(limits, req, reply, w, true);
      checkOrigin(req, reply, w);
      const b = req.body;
      const s = await createVisitorSession(ctx, w, {
        identity: b.identity ? { userId: b.identity.user_id, signature: b.identity.signature } : undefined,
        name: b.name,
        email: b.email,
        ip: clientIp(req),
      });
      return reply.code(201).send({
        token: s.token,
        expires_at: new Date(s.expiresAt).toISOString(),
        visitor: presentVisitor(s.visitor),
      });
    },
  );

  r.get(
    '/me',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'The visitor, the widget, and their open (or latest) chat',
        response: { 200: VisitorHomeSchema, ...readErrors },
      },
    },
    async (req) => {
      const v = visitorOf(req);
      const home = await visitorHome(ctx, v);
      return {
        visitor: presentVisitor(home.visitor),
        widget: presentPublicWidget(v.widget, await widgetDepartments(ctx, v.widget)),
        chat: home.chat ? presentVisitorChat(home.chat) : null,
      };
    },
  );

  r.post(
    '/chats',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'Start a chat, or continue the open one (200)',
        description:
          'A visitor has one open chat: a second start (another tab, another device) answers that chat with 200. 409 no_operator_available when nobody serving the department is available: offer the offline form.',
        body: StartChatBody,
        response: { 200: VisitorChatSchema, 201: VisitorChatSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const { view, created } = await startWidgetChat(ctx, visitorOf(req), {
        departmentId:
          b.department_id === undefined ? undefined : bodyId(b.department_id, 'body.department_id'),
        name: b.name,
        email: b.email,
        question: b.question,
        pageUrl: b.page_url,
      });
      return reply.code(created ? 201 : 200).send(presentVisitorChat(view));
    },
  );

  r.get(
    '/chats/:id',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: "One of the visitor's chats",
        params: ChatParams,
        response: { 200: VisitorChatSchema, ...readErrors },
      },
    },
    async (req) => presentVisitorChat(await getVisitorChat(ctx, visitorOf(req), req.params.id)),
  );

  r.get(
    '/chats/:id/messages',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'Messages of a chat: newest first, or oldest first after a message id (catch-up)',
        params: ChatParams,
        querystring: Type.Object(
          {
            after: Type.Optional(IdString),
            before: Type.Optional(IdString),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(VisitorMessageSchema),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...readErrors,
        },
      },
    },
    async (req) => {
      const v = visitorOf(req);
      const res = await visitorMessages(ctx, v, req.params.id, {
        after: req.query.after,
        before: req.query.before,
        limit: req.query.limit ?? 50,
      });
      return {
        items: res.items.map((m) => presentVisitorMessage(m, res.senders, v.principal.actor.id)),
        next_cursor: res.nextCursor,
      };
    },
  );

  r.post(
    '/chats/:id/messages',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'Send a message (a retry with the same client_id returns the first, 200)',
        params: ChatParams,
        body: Type.Object(
          {
            text: Type.String({ minLength: 1, maxLength: 4000 }),
            client_id: Type.Optional(
              Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: VisitorMessageSchema, 201: VisitorMessageSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const v = visitorOf(req);
      const { message, created } = await visitorSend(ctx, v, req.params.id, {
        text: req.body.text,
        clientId: req.body.client_id,
      });
      return reply
        .code(created ? 201 : 200)
        .send(
          presentVisitorMessage(
            message,
            new Map([[v.principal.actor.id, v.principal.actor]]),
            v.principal.actor.id,
          ),
        );
    },
  );

  r.post(
    '/chats/:id/typing',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'Tell the operator the visitor is typing',
        params: ChatParams,
        body: Empty,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      await visitorTyping(ctx, visitorOf(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/chats/:id/read',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'Mark the chat read (up to message_id, or the latest)',
        params: ChatParams,
        body: Type.Object({ message_id: Type.Optional(IdString) }, { additionalProperties: false }),
        response: { 200: VisitorChatSchema, ...commonErrors },
      },
    },
    async (req) =>
      presentVisitorChat(await visitorRead(ctx, visitorOf(req), req.params.id, req.body.message_id)),
  );

  r.post(
    '/chats/:id/end',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'End the chat (a visitor who gave an email gets the transcript)',
        params: ChatParams,
        body: Empty,
        response: { 200: VisitorChatSchema, ...commonErrors },
      },
    },
    async (req) => presentVisitorChat(await visitorEnd(ctx, visitorOf(req), req.params.id)),
  );

  r.post(
    '/offline-messages',
    {
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: 'Leave a message when nobody can answer: a missed chat for operators, a mail to the visitor',
        body: OfflineBody,
        response: { 201: VisitorChatSchema, ...commonErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const view = await leaveMessage(ctx, visitorOf(req), {
        departmentId:
          b.department_id === undefined ? undefined : bodyId(b.department_id, 'body.department_id'),
        name: b.name,
        email: b.email,
        message: b.message,
        pageUrl: b.page_url,
      });
      return reply.code(201).send(presentVisitorChat(view));
    },
  );

  r.get(
    '/stream',
    {
      websocket: true,
      config: { widget: 'visitor' },
      schema: {
        tags,
        security: visitorSecurity,
        summary: "The visitor's live events (WebSocket): only their own chats, with catch-up by since",
        description:
          'Subprotocols `parley, bearer.<visitor credential>`. Frames as /v1/stream; the visitor sends through the REST routes.',
        querystring: Type.Object({ since: Type.Optional(Type.Integer({ minimum: 0 })) }),
      },
      preValidation: async (request) => {
        gateway.checkCapacity(visitorOf(request).principal);
      },
    },
    (socket, request) => {
      const since = (request.query as { since?: number }).since;
      void gateway.attach(socket, visitorOf(request).principal, since);
    },
  );
}

function bearerOf(request: FastifyRequest): string {
  const h = request.headers.authorization;
  if (!h) throw new UnauthenticatedError('missing_token', 'Send Authorization: Bearer <visitor credential>');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m)
    throw new UnauthenticatedError('invalid_token', 'The Authorization header must be "Bearer <token>"');
  return m[1]!;
}
