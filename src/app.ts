import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { renderCliqError } from './compat/cliq/errors.ts';
import { cliqPlugin } from './compat/cliq/plugin.ts';
import { renderKoreError } from './compat/kore/errors.ts';
import { korePlugin } from './compat/kore/plugin.ts';
import { renderSalesiqError } from './compat/salesiq/errors.ts';
import { salesiqPlugin } from './compat/salesiq/plugin.ts';
import { renderZimError } from './compat/zim/errors.ts';
import { zimPlugin } from './compat/zim/plugin.ts';
import type { Config, HttpLimits } from './config.ts';
import type { AppContext } from './context.ts';
import { type Clock, systemClock } from './domain/clock.ts';
import { AppError } from './domain/errors.ts';
import { createIdGenerator, isId } from './domain/ids.ts';
import { registerAuth } from './http/auth.ts';
import { assertAcceptsJson, type RouteInfo, registerJsonParser, trackRoutes } from './http/content.ts';
import { renderNativeError } from './http/errors.ts';
import { registerIdempotency } from './http/idempotency.ts';
import { loggerOptions } from './http/logging.ts';
import { Metrics } from './http/metrics.ts';
import { rateLimitHook } from './http/rate-limit.ts';
import { bindRequestLog, requestIdOf } from './http/request-id.ts';
import { appRoutes } from './http/routes/apps.ts';
import { attachmentRoutes, signedFileRoutes } from './http/routes/attachments.ts';
import { conversationRoutes } from './http/routes/conversations.ts';
import { deletionJobRoutes } from './http/routes/deletion-jobs.ts';
import { memberStateRoutes } from './http/routes/member-state.ts';
import { memberRoutes } from './http/routes/members.ts';
import { messageRoutes } from './http/routes/messages.ts';
import { peopleRoutes } from './http/routes/people.ts';
import { pinRoutes } from './http/routes/pins.ts';
import { rateLimitRoutes } from './http/routes/rate-limits.ts';
import { searchRoutes } from './http/routes/search.ts';
import { supportRoutes } from './http/routes/support.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';
import { ErrorBody } from './http/schemas.ts';
import { registerConsole } from './http/static.ts';
import { startPeriodicWork } from './jobs/periodic.ts';
import { startJobRunner } from './jobs/runner.ts';
import { asyncApiDocument } from './realtime/asyncapi.ts';
import { createMemoryBus, type EventBus } from './realtime/bus.ts';
import type { Gateway, GatewayOptions } from './realtime/gateway.ts';
import { createRedisBus } from './realtime/redis-bus.ts';
import { registerStream } from './realtime/stream-route.ts';
import { RateLimits } from './services/rate-limits.ts';
import { PrincipalCache } from './services/tokens.ts';
import { webhookSink } from './services/webhooks.ts';
import { type BlobStore, createBlobStore } from './store/blobs/index.ts';
import { createStore, type Store } from './store/db.ts';
import { GroupCommitter } from './store/group-commit.ts';
import { migrateToLatest } from './store/migrate.ts';
import { createRedis } from './store/redis.ts';

export interface BuildOptions {
  clock?: Clock;
  /** An open store to use instead of opening one from the config (tests). */
  store?: Store;
  /** Run periodic work (pin expiry sweep) in this process; `parley serve` turns it on. */
  periodic?: boolean;
  /** The event bus (tests pass one to watch events); in-process by default. */
  bus?: EventBus;
  /** Where attachments go (tests); from STORAGE_URL by default. */
  blobs?: BlobStore;
  /** Group commit on SQLite (default on). */
  groupCommit?: boolean;
  /** Overrides of the realtime gateway's timings and limits (tests use short ones). */
  gateway?: Partial<GatewayOptions>;
  /** Log to stdout (pino); off by default for tests and the CLI. */
  logger?: boolean;
  /** Log to this stream instead (tests that read the log lines); implies `logger`. */
  logStream?: { write(line: string): void };
}

export interface App {
  app: FastifyInstance;
  /** The realtime gateway of this node. */
  gateway: Gateway;
  ctx: AppContext;
  store: Store;
  /** Every route with its scope, for the authorization matrix tests. */
  routes: readonly RouteInfo[];
}

function makeAjv(forBody: boolean) {
  const ajv = new Ajv({
    // Bodies are JSON: a number is not a string. Query strings and paths are text, so they
    // are coerced to the declared types ("true" -> true, "20" -> 20).
    coerceTypes: forBody ? false : 'array',
    useDefaults: true,
    removeAdditional: false,
    // Every problem of a body at once (its size is bounded by BODY_LIMIT and maxItems).
    allErrors: forBody,
    strict: false,
  });
  addFormats.default(ajv);
  ajv.addFormat('parley-id', { type: 'string', validate: isId });
  return ajv;
}

/**
 * Answers what the HTTP parser refused before any route saw it (headers too large, a request
 * that did not arrive in time, broken HTTP) in the native error shape, then closes the socket.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request headers are larger than the server accepts']
        : [400, 'bad_request', 'The request is not valid HTTP/1.1'];
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !response?.headersSent) {
    const requestId = randomUUID();
    const body = JSON.stringify({ error: { code, message, details: null, request_id: requestId } });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Caps the connections of the node (`maxConnections`: more are closed as they arrive) and, when
 * set, those of one client address.
 */
function limitConnections(server: Server, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
  const perIp = limits.maxConnectionsPerIp;
  if (perIp <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    const n = (open.get(ip) ?? 0) + 1;
    if (n > perIp) {
      socket.destroy();
      return;
    }
    open.set(ip, n);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left <= 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
}

/**
 * An operationId from a route's method and path: `GET /v1/conversations/:id/messages` is
 * `getConversationsByIdMessages`, `POST /compat/cliq/api/v2/chats/:CHAT_ID/mute` is
 * `cliqPostApiV2ChatsByChatIdMute` (stable: the path and method are the route's identity).
 */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/v1\//, '/')
    .split('/')
    .filter(Boolean)
    .flatMap((seg) =>
      seg.startsWith(':') ? ['by', ...seg.slice(1).split(/[_-]/)] : seg.split(/[^A-Za-z0-9]+/),
    )
    .filter(Boolean);
  const cap = (w: string) =>
    w.charAt(0).toUpperCase() + (w === w.toUpperCase() ? w.slice(1).toLowerCase() : w.slice(1));
  const [first, ...rest] = words;
  const dialect = first === 'compat' ? rest.shift() : undefined;
  const body = (dialect === undefined ? [first ?? '', ...rest] : rest).map(cap).join('');
  const verb = method
    .toLowerCase()
    .split('_')
    .map((m, i) => (i === 0 ? m : cap(m)))
    .join('');
  return dialect ? `${dialect}${cap(verb)}${body}` : `${verb}${body}`;
}

type ErrorRenderer = (err: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * The compatibility dialects: where each is mounted, and how it answers errors. Registration
 * and the renderer of errors raised before any route (below) both come from this one table.
 */
const DIALECTS = [
  { prefix: '/compat/cliq', plugin: cliqPlugin, render: renderCliqError },
  { prefix: '/compat/zim', plugin: zimPlugin, render: renderZimError },
  { prefix: '/compat/salesiq', plugin: salesiqPlugin, render: renderSalesiqError },
  { prefix: '/compat/kore', plugin: korePlugin, render: renderKoreError },
] as const;

/**
 * What the router refuses before any hook runs (malformed percent-encoding, a path parameter
 * over maxParamLength), in the error shape of the surface the path belongs to.
 */
function renderFrameworkError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const render: ErrorRenderer =
    DIALECTS.find((d) => request.url.startsWith(d.prefix))?.render ?? renderNativeError;
  return render(err, request, reply);
}

/**
 * Builds the Fastify app on an open, migrated store. Used by `parley serve`, the tests and
 * the client generator; listening is the caller's business.
 */
export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<App> {
  const store =
    opts.store ??
    createStore({
      databaseUrl: config.databaseUrl,
      sqlitePath: config.sqlitePath,
      poolSize: config.databasePoolSize,
    });
  await migrateToLatest(store.db);
  const clock = opts.clock ?? systemClock;
  const metrics = new Metrics();
  const redis = config.redisUrl ? createRedis(config.redisUrl) : undefined;
  const subscriber = config.redisUrl ? createRedis(config.redisUrl, { offlineQueue: true }) : undefined;
  const busErrors = (err: unknown) =>
    process.emitWarning(`event bus: ${err instanceof Error ? err.message : String(err)}`);
  const ctx: AppContext = {
    db: store.db,
    caps: store.caps,
    clock,
    ids: createIdGenerator(config.nodeId),
    config,
    rateLimits: metrics.countRefusals(new RateLimits(redis)),
    bus: metrics.countPublished(
      opts.bus ?? (redis && subscriber ? createRedisBus(redis, subscriber, busErrors) : createMemoryBus()),
    ),
    eventSinks: [],
    principals: new PrincipalCache(),
    blobs: opts.blobs ?? createBlobStore(config.storageUrl, config.sqlitePath),
    groupCommit:
      store.caps.dialect === 'sqlite' && opts.groupCommit !== false
        ? new GroupCommitter(store.db, {
            walPath: store.walPath,
            sqlite: store.sqlite,
            onBatch: metrics.groupCommitBatch,
          })
        : null,
  };
  ctx.eventSinks.push(webhookSink);

  const limits = config.http;
  const app = Fastify({
    logger:
      opts.logger || opts.logStream
        ? {
            level: config.logLevel,
            ...loggerOptions,
            ...(opts.logStream ? { stream: opts.logStream } : {}),
          }
        : false,
    bodyLimit: config.bodyLimit,
    // Slow clients: headers must arrive within headersTimeout and the whole request within
    // requestTimeout (408, closed); idle keep-alive sockets close after keepAliveTimeout.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      // How often Node looks for requests past their timeouts (its default is every 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(limits.headersTimeoutMs / 4))),
    },
    clientErrorHandler,
    frameworkErrors: renderFrameworkError,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // X-Request-Id: the client's when it is a sane token, a new UUID otherwise (http/request-id.ts).
    requestIdHeader: false,
    genReqId: requestIdOf,
    // The serializer only needs to know the id format exists (responses are ours, not checked).
    serializerOpts: { ajv: { formats: { 'parley-id': /^[0-9]{1,19}$/ } } },
  });

  limitConnections(app.server, limits);
  const bodyAjv = makeAjv(true);
  const textAjv = makeAjv(false);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodyAjv.compile(schema) : textAjv.compile(schema),
  );
  registerJsonParser(app);
  const routes = trackRoutes(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        version: '1',
        description: 'The native Parley API. Every route needs a bearer token with the scope it names.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [
        {
          url: '{scheme}://{host}',
          description: 'A Parley server; the document at /openapi.json describes the server that answers it',
          variables: {
            scheme: { default: 'http', enum: ['http', 'https'] },
            host: { default: 'localhost:8080' },
          },
        },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Shared schemas keep their $id as the component name (Error) instead of def-N.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    // Every operation gets an operationId (from its method and path unless it names one); each
    // route's scope shows as its bearer requirement and in its description.
    transform: ({ schema, url, route }) => {
      if (!schema) return { schema, url };
      const method = Array.isArray(route.method) ? route.method.join('_') : route.method;
      const withId = { ...schema, operationId: schema.operationId ?? operationIdOf(method, url) };
      const scope = (route.config as { scope?: string } | undefined)?.scope;
      if (!scope) return { schema: withId as typeof schema, url };
      const s = schema as { description?: string };
      const description = `${s.description ? `${s.description}\n\n` : ''}Scope: \`${scope}\`.`;
      return { schema: { ...withId, security: [{ bearer: [scope] }], description } as typeof schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addSchema(ErrorBody);
  app.decorateRequest('principal', null);
  // Every response names its request; the log lines of an authenticated one name its org and actor.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('preHandler', async (request) => bindRequestLog(request));
  metrics.timeRequests(app);
  const gateway = await registerStream(app, ctx, opts.gateway);
  metrics.observe(ctx, gateway, store.poolStats);
  // Revocations and deactivations done on other nodes reach this node's token cache too.
  const forgetRevoked = ctx.bus.subscribe((e) => {
    if (e.type === 'token.revoked' && typeof e.payload.token_id === 'string')
      ctx.principals.forget({ tokenId: e.payload.token_id });
    if (e.type === 'actor.deactivated' && typeof e.payload.actor_id === 'string')
      ctx.principals.forget({ actorId: e.payload.actor_id });
  });
  app.addHook('onClose', async () => forgetRevoked());
  app.setErrorHandler(renderNativeError);
  app.setNotFoundHandler((request, reply) => {
    const allowed = routes.allowedMethods(request.url);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return renderNativeError(
        new AppError(
          'method_not_allowed',
          'method_not_allowed',
          `${request.method} is not allowed here; use ${allowed.join(', ')}`,
        ),
        request,
        reply,
      );
    }
    return renderNativeError(
      new AppError('not_found', 'route_not_found', `No route ${request.method} ${request.url.split('?')[0]}`),
      request,
      reply,
    );
  });

  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await store.db.selectFrom('org').select('id').limit(1).execute();
      return { ok: true };
    } catch {
      return reply.code(503).send({ ok: false });
    }
  });
  metrics.route(app, config.metricsToken);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/asyncapi.json',
    { config: { public: true }, schema: { hide: true } },
    async () => asyncApiDocument,
  );

  await app.register(
    async (v1) => {
      registerAuth(v1, ctx);
      v1.addHook(
        'onRequest',
        rateLimitHook(ctx, 'native', (req) =>
          req.principal ? { orgId: req.principal.orgId, key: req.principal.actor.id } : null,
        ),
      );
      registerIdempotency(v1, ctx);
      v1.addHook('onRequest', async (request) => assertAcceptsJson(request));
      // A POST/PUT/PATCH without a body is validated as an empty object, so a missing
      // required field is named ("body.text is required") instead of "body must be object".
      v1.addHook('preValidation', async (request) => {
        if (request.body === undefined && request.method !== 'GET' && request.method !== 'DELETE')
          request.body = {};
      });
      conversationRoutes(v1, ctx);
      memberRoutes(v1, ctx);
      messageRoutes(v1, ctx);
      memberStateRoutes(v1, ctx);
      pinRoutes(v1, ctx);
      peopleRoutes(v1, ctx);
      supportRoutes(v1, ctx);
      appRoutes(v1, ctx);
      rateLimitRoutes(v1, ctx);
      deletionJobRoutes(v1, ctx);
      webhookRoutes(v1, ctx);
      searchRoutes(v1, ctx);
      attachmentRoutes(v1, ctx);
    },
    { prefix: '/v1' },
  );
  signedFileRoutes(app, ctx);
  for (const d of DIALECTS)
    await app.register(d.plugin, { prefix: d.prefix, ctx, allowedMethods: routes.allowedMethods });
  await registerConsole(app);

  if (opts.periodic) {
    const stop = startPeriodicWork(ctx, app.log);
    app.addHook('onClose', async () => stop());
    // preClose: the runner finishes its step and releases its job while the database is still open.
    app.addHook('preClose', startJobRunner(ctx, app.log));
  }
  app.addHook('onClose', async () => ctx.groupCommit?.close());
  if (!opts.blobs) app.addHook('onClose', async () => ctx.blobs.close());
  if (!opts.store) app.addHook('onClose', async () => store.close());
  if (subscriber) app.addHook('onClose', async () => subscriber.disconnect());
  if (redis) {
    // quit() flushes and closes; it is refused while still connecting (no offline queue),
    // so disconnect() afterwards makes sure no socket or reconnect timer outlives the app.
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    });
  }
  return { app, ctx, store, gateway, routes: routes.list };
}
