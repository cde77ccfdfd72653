import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config, HttpLimits } from '../config.ts';
import { isId } from '../domain/ids.ts';
import { registerJsonParser } from './content.ts';
import { loggerOptions } from './logging.ts';
import { requestIdOf } from './request-id.ts';
import { buildSerializer } from './serializer.ts';

/**
 * The Fastify instance of a node, before any route: its limits (body, headers, timeouts,
 * connections), logging, request ids, the validators of bodies and of query strings and paths,
 * and the answers to what the HTTP parser and the router refuse before a route sees it.
 */
export function createHttpServer(
  config: Config,
  opts: {
    logger?: boolean | undefined;
    logStream?: { write(line: string): void } | undefined;
    /** Renders what the router refuses (in the error shape of the surface the path belongs to). */
    frameworkErrors: (err: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;
  },
): FastifyInstance {
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
    frameworkErrors: opts.frameworkErrors as never,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // X-Request-Id: the client's when it is a sane token, a new UUID otherwise (http/request-id.ts).
    requestIdHeader: false,
    genReqId: requestIdOf,
    // The serializer only needs to know the id format exists (responses are ours, not checked).
    serializerOpts: { ajv: { formats: { 'parley-id': /^[0-9]{1,19}$/ } } },
    // Nullable values serialized without validating them first (http/serializer.ts).
    schemaController: { compilersFactory: { buildSerializer: buildSerializer as never } },
  });

  limitConnections(app.server, limits);
  const bodyAjv = makeAjv(true);
  const textAjv = makeAjv(false);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodyAjv.compile(schema) : textAjv.compile(schema),
  );
  registerJsonParser(app);
  return app;
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
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: `ready` resolves, i.e.
 * the database answers; 503 otherwise), public and left out of the API description.
 */
export function registerProbes(app: FastifyInstance, ready: () => Promise<void>): void {
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await ready();
      return { ok: true };
    } catch {
      return reply.code(503).send({ ok: false });
    }
  });
}
