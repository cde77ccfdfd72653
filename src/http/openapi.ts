import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { asyncApiDocument } from '../realtime/asyncapi.ts';
import { ErrorBody } from './schemas.ts';

/**
 * The API's descriptions: the OpenAPI document made from the routes' schemas (every operation
 * with an operationId, each route's scope as its bearer requirement), Swagger UI at /docs, and
 * the AsyncAPI document of the stream. Register before the routes it describes.
 */
export async function registerApiDocuments(app: FastifyInstance): Promise<void> {
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
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          instanceAdmin: {
            type: 'http',
            scheme: 'bearer',
            description: 'An instance-admin token (parley admin token): /v1/instance routes only',
          },
        },
      },
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
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/asyncapi.json',
    { config: { public: true }, schema: { hide: true } },
    async () => asyncApiDocument,
  );
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
