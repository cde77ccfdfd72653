import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderCliqError } from './compat/cliq/errors.ts';
import { cliqPlugin } from './compat/cliq/plugin.ts';
import { renderKoreError } from './compat/kore/errors.ts';
import { korePlugin } from './compat/kore/plugin.ts';
import { renderSalesiqError } from './compat/salesiq/errors.ts';
import { salesiqPlugin } from './compat/salesiq/plugin.ts';
import { renderZimError } from './compat/zim/errors.ts';
import { zimPlugin } from './compat/zim/plugin.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { type Clock, systemClock } from './domain/clock.ts';
import { createIdGenerator } from './domain/ids.ts';
import { type RouteInfo, trackRoutes } from './http/content.ts';
import { nativeNotFound, renderNativeError } from './http/errors.ts';
import { Metrics } from './http/metrics.ts';
import { registerApiDocuments } from './http/openapi.ts';
import { bindRequestLog } from './http/request-id.ts';
import { signedFileRoutes } from './http/routes/attachments.ts';
import { registerNativeApi } from './http/routes/index.ts';
import { instanceRoutes } from './http/routes/instance.ts';
import { oidcBrowserRoutes } from './http/routes/oidc.ts';
import { createHttpServer, registerProbes } from './http/server.ts';
import { registerConsole } from './http/static.ts';
import { registerWidgetStatic } from './http/widget-static.ts';
import { widgetVisitorPlugin } from './http/widget-visitor.ts';
import { startPeriodicWork } from './jobs/periodic.ts';
import { startJobRunner } from './jobs/runner.ts';
import { createMemoryBus, type EventBus } from './realtime/bus.ts';
import type { Gateway, GatewayOptions } from './realtime/gateway.ts';
import { createRedisBus } from './realtime/redis-bus.ts';
import { registerStream } from './realtime/stream-route.ts';
import { installPresence } from './services/presence.ts';
import { RateLimits } from './services/rate-limits.ts';
import { PrincipalCache } from './services/tokens.ts';
import { webhookSink } from './services/webhook-delivery.ts';
import { WidgetLimits } from './services/widget-limits.ts';
import { transcriptSink } from './services/widgets.ts';
import { type BlobStore, createBlobStore } from './store/blobs/index.ts';
import { createStore, type Store } from './store/db.ts';
import { GroupCommitter } from './store/group-commit.ts';
import { migrateToLatest } from './store/migrate.ts';
import { createRedis } from './store/redis.ts';
import { indexPendingMessages } from './store/repos/search.ts';
import { SendBatcher } from './store/send-batch.ts';

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
 * The node's AppContext on an open store: ids, clock, config, rate limits and the event bus
 * (through Redis when REDIS_URL is set), the token cache, the SQLite group commit and the event
 * sinks. `close` ends what it opened (the group commit, the Redis connections), not the store.
 */
function createContext(
  config: Config,
  store: Store,
  opts: BuildOptions,
  metrics: Metrics,
): { ctx: AppContext; close: () => Promise<void> } {
  const clock = opts.clock ?? systemClock;
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
    sendPaths: { oneStatement: 0, transaction: 0 },
    sendBatcher: store.caps.oneStatementSend
      ? new SendBatcher(store.db, {
          // Half the pool at most, so reads and the general path always find a connection.
          maxInFlight: Math.max(1, Math.floor(config.databasePoolSize / 2)),
          maxBatch: 64,
          onBatch: metrics.sendBatch,
        })
      : null,
    blobs: opts.blobs ?? createBlobStore(config.storageUrl, config.sqlitePath),
    groupCommit:
      store.caps.singleWriter && opts.groupCommit !== false
        ? new GroupCommitter(store.db, {
            walPath: store.walPath,
            sqlite: store.sqlite,
            onBatch: metrics.groupCommitBatch,
            beforeCommit: indexPendingMessages,
          })
        : null,
  };
  ctx.eventSinks.push(webhookSink, transcriptSink);
  const presence = installPresence(ctx, redis);

  const close = async () => {
    await presence.close();
    if (!opts.blobs) ctx.blobs.close();
    await ctx.groupCommit?.close();
    subscriber?.disconnect();
    if (redis) {
      // quit() flushes and closes; it is refused while still connecting (no offline queue),
      // so disconnect() afterwards makes sure no socket or reconnect timer outlives the app.
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    }
  };
  return { ctx, close };
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
  const metrics = new Metrics();
  const { ctx, close } = createContext(config, store, opts, metrics);
  const app = createHttpServer(config, {
    logger: opts.logger,
    logStream: opts.logStream,
    frameworkErrors: renderFrameworkError,
  });
  const routes = trackRoutes(app);
  await registerApiDocuments(app);

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
    if (e.type === 'org.suspended') ctx.principals.forget({ orgId: e.orgId });
  });
  app.addHook('onClose', async () => forgetRevoked());
  app.setErrorHandler(renderNativeError);
  app.setNotFoundHandler(nativeNotFound(routes.allowedMethods));
  registerProbes(app, async () => {
    await store.db.selectFrom('org').select('id').limit(1).execute();
  });
  metrics.route(app, config.metricsToken);

  await registerNativeApi(app, ctx);
  // Attachment downloads by a signed link (an <img> cannot send a bearer token).
  signedFileRoutes(app, ctx);
  // The widget's visitors: their own credential and limits, beside /v1's auth (docs/widget.md).
  const widgetLimits = new WidgetLimits(config.redisUrl);
  app.addHook('onClose', async () => widgetLimits.close());
  await app.register(widgetVisitorPlugin, { prefix: '/v1/widget', ctx, gateway, limits: widgetLimits });
  await registerWidgetStatic(app, ctx);
  // Instance administration: its own credential, outside the org routes' auth hook.
  await app.register(async (instance) => instanceRoutes(instance, ctx), { prefix: '/v1/instance' });
  // The console's OpenID Connect sign-in (browser redirects and the session cookie).
  oidcBrowserRoutes(app, ctx);
  for (const d of DIALECTS)
    await app.register(d.plugin, { prefix: d.prefix, ctx, allowedMethods: routes.allowedMethods });
  await registerConsole(app);

  if (opts.periodic) {
    const stop = startPeriodicWork(ctx, app.log);
    app.addHook('onClose', async () => stop());
    // preClose: the runner finishes its step and releases its job while the database is still open.
    app.addHook('preClose', startJobRunner(ctx, app.log));
  }
  app.addHook('onClose', close);
  if (!opts.store) app.addHook('onClose', async () => store.close());
  return { app, ctx, store, gateway, routes: routes.list };
}
