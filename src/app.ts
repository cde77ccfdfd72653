import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { type Clock, systemClock } from './domain/clock.ts';
import { AppError } from './domain/errors.ts';
import { createIdGenerator, isId } from './domain/ids.ts';
import { registerAuth } from './http/auth.ts';
import { assertAcceptsJson, type RouteInfo, registerJsonParser, trackRoutes } from './http/content.ts';
import { renderNativeError } from './http/errors.ts';
import { registerIdempotency } from './http/idempotency.ts';
import { conversationRoutes } from './http/routes/conversations.ts';
import { memberStateRoutes } from './http/routes/member-state.ts';
import { memberRoutes } from './http/routes/members.ts';
import { messageRoutes } from './http/routes/messages.ts';
import { peopleRoutes } from './http/routes/people.ts';
import { pinRoutes } from './http/routes/pins.ts';
import { ErrorBody } from './http/schemas.ts';
import { startPeriodicWork } from './jobs/periodic.ts';
import { createStore, type Store } from './store/db.ts';
import { migrateToLatest } from './store/migrate.ts';

export interface BuildOptions {
  clock?: Clock;
  /** An open store to use instead of opening one from the config (tests). */
  store?: Store;
  /** Run periodic work (pin expiry sweep) in this process; `parley serve` turns it on. */
  periodic?: boolean;
  /** Log to stdout (pino); off by default for tests and the CLI. */
  logger?: boolean;
}

export interface App {
  app: FastifyInstance;
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
  const ctx: AppContext = {
    db: store.db,
    caps: store.caps,
    clock,
    ids: createIdGenerator(config.nodeId),
    config,
  };

  const app = Fastify({
    logger: opts.logger ? { level: config.logLevel } : false,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    requestIdHeader: 'x-request-id',
  });

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
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Shared schemas keep their $id as the component name (Error) instead of def-N.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    // Each route's scope shows in OpenAPI: as its bearer requirement and in its description.
    transform: ({ schema, url, route }) => {
      const scope = (route.config as { scope?: string } | undefined)?.scope;
      if (!scope || !schema) return { schema, url };
      const s = schema as { description?: string };
      const description = `${s.description ? `${s.description}\n\n` : ''}Scope: \`${scope}\`.`;
      return { schema: { ...schema, security: [{ bearer: [scope] }], description } as typeof schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addSchema(ErrorBody);
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
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  await app.register(
    async (v1) => {
      registerAuth(v1, ctx);
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
    },
    { prefix: '/v1' },
  );

  if (opts.periodic) {
    const stop = startPeriodicWork(ctx, app.log);
    app.addHook('onClose', async () => stop());
  }
  if (!opts.store) app.addHook('onClose', async () => store.close());
  return { app, ctx, store, routes: routes.list };
}
