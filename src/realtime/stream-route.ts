import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { extractBearer } from '../auth/bearer.ts';
import type { AppContext } from '../context.ts';
import { ForbiddenError, UnauthenticatedError } from '../domain/errors.ts';
import { LogBudget } from '../http/logging.ts';
import { sessionPrincipal } from '../http/session.ts';
import { authenticateToken } from '../services/tokens.ts';
import { DEFAULT_GATEWAY_OPTIONS, Gateway, type GatewayOptions } from './gateway.ts';

/** At most this many client protocol errors are logged a minute on one node; the rest are counted. */
export const PROTOCOL_ERRORS_LOGGED_PER_MINUTE = 10;

/**
 * Whether a socket's error is the client's breach of the WebSocket protocol (`ws` names these
 * `WS_ERR_*`: invalid opcode, unmasked frame, bad close code, invalid UTF-8, too big) or the
 * connection dropping under it, rather than a fault of the server.
 */
function isProtocolError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && (code.startsWith('WS_ERR_') || code === 'ECONNRESET' || code === 'EPIPE')) ||
    error instanceof RangeError
  );
}

/** The subprotocol a browser names alongside `bearer.<token>` (it cannot set headers). */
export const STREAM_PROTOCOL = 'parley';

/**
 * Where the stream's token comes from, in order: `Authorization: Bearer`, the subprotocol
 * `bearer.<token>` (next to `parley`), or `?access_token=` (logged URLs are redacted, but prefer
 * the subprotocol in browsers).
 */
export function streamToken(request: FastifyRequest): string {
  if (request.headers.authorization) return extractBearer(request.headers.authorization);
  const protocols = String(request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const fromProtocol = protocols.find((p) => p.startsWith('bearer.'));
  if (fromProtocol) return fromProtocol.slice('bearer.'.length);
  const q = request.query as { access_token?: unknown };
  if (typeof q.access_token === 'string' && q.access_token) return q.access_token;
  throw new UnauthenticatedError(
    'missing_token',
    'Send a bearer token: header, subprotocol bearer.<token>, or access_token',
  );
}

function hasStreamToken(request: FastifyRequest): boolean {
  try {
    streamToken(request);
    return true;
  } catch {
    return false;
  }
}

/**
 * `GET /v1/stream` (WebSocket). Authenticated on upgrade; `since=<seq>` catches up from that
 * event. Returns the gateway so the app can drain it on shutdown.
 */
export async function registerStream(
  app: FastifyInstance,
  ctx: AppContext,
  opts: Partial<GatewayOptions> = {},
): Promise<Gateway> {
  const budget = new LogBudget(PROTOCOL_ERRORS_LOGGED_PER_MINUTE);
  await app.register(websocket, {
    // A socket's error after the upgrade. A client's protocol error (a malformed frame: a
    // reserved opcode, an unmasked or oversized frame, bad UTF-8) is the client's fault, not the
    // server's: logged at warn without a stack, at most PROTOCOL_ERRORS_LOGGED_PER_MINUTE a
    // minute on this node, so a client cannot fill the log. Anything else is logged as an error.
    errorHandler: (error, socket, request) => {
      if (isProtocolError(error)) {
        const turn = budget.take();
        if (turn.ok)
          request.log.warn(
            { code: (error as { code?: string }).code, reason: error.message, suppressed: turn.suppressed },
            'stream client sent an invalid frame',
          );
      } else {
        request.log.error({ err: error }, 'stream socket failed');
      }
      socket.terminate();
    },
    options: {
      // A larger frame closes the socket with 1009 (message too big).
      maxPayload: ctx.config.stream.maxFrameBytes,
      handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false),
    },
  });
  const limits = ctx.config.stream;
  const gateway = new Gateway(ctx, app.log, {
    ...DEFAULT_GATEWAY_OPTIONS,
    maxBufferedBytes: limits.maxBufferedBytes,
    maxFramesPerSecond: limits.framesPerSecond,
    maxSocketsPerActor: limits.maxSocketsPerActor,
    maxSocketsPerOrg: limits.maxSocketsPerOrg,
    ...opts,
  });
  app.addHook('preClose', async () => gateway.close());

  app.get(
    '/v1/stream',
    {
      websocket: true,
      config: { scope: 'messages:read' },
      schema: {
        tags: ['stream'],
        summary: 'The realtime stream (WebSocket): every event the caller may see, with catch-up',
        description:
          'Upgrade to WebSocket. Token: Authorization header, subprotocols `parley, bearer.<token>`, or `access_token`. ' +
          '`since=<seq>` first sends what was missed after that event. Frames are described in docs/api.md.',
        querystring: Type.Object({
          since: Type.Optional(Type.Integer({ minimum: 0 })),
          access_token: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
      onRequest: async (request) => {
        // A token, or the console's session cookie from this server's own pages (http/session.ts).
        const fromSession = request.headers.authorization
          ? undefined
          : hasStreamToken(request)
            ? undefined
            : await sessionPrincipal(ctx, request, { upgrade: true });
        const principal = fromSession ?? (await authenticateToken(ctx, streamToken(request)));
        if (!principal.scopes.has('messages:read')) {
          throw new ForbiddenError('insufficient_scope', 'This token lacks the messages:read scope', {
            required: 'messages:read',
          });
        }
        gateway.checkCapacity(principal);
        request.principal = principal;
      },
    },
    (socket, request) => {
      const since = (request.query as { since?: number }).since;
      void gateway.attach(socket, request.principal!, since);
    },
  );
  return gateway;
}
