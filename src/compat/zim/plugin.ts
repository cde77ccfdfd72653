// Seed 002_33d0136ecea6f247.txt (in-app chat server API, DeleteConv) and its neighbour
// ClearConversationUnread: the signed public parameters, the body, and Code/Message/RequestId.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { dialectNotFoundHandler } from '../../http/content.ts';
import { verifySignedRequest } from '../../services/apps.ts';
import { principalForExternalUser, resolveExternalConversation } from '../../services/external.ts';
import { markRead, setHidden } from '../../services/member-state.ts';
import type { DialectOptions } from '../cliq/plugin.ts';
import { renderZimError, ZimCode, ZimError, zimBody } from './errors.ts';

/** Every answer of the dialect, success or failure. */
const ZimBody = Type.Object({
  Code: Type.Integer({ description: '0 on success, else the vendor code of the failure' }),
  Message: Type.String(),
  RequestId: Type.String(),
});

export const ZIM_ACTIONS = ['DeleteConv', 'ClearConversationUnread'] as const;
type Action = (typeof ZIM_ACTIONS)[number];

interface PublicParams {
  action: Action;
  appId: number;
  nonce: string;
  timestamp: number;
  signature: string;
}

const bad = (code: number, message: string) => new ZimError('invalid', code, message);

/** Checks the public parameters in the vendor's order, each failure with its own code. */
export function parsePublicParams(q: Record<string, unknown>): PublicParams {
  const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '');
  const action = str('Action');
  if (!action) throw bad(ZimCode.ACTION_EMPTY, 'Action is empty.');
  if (!(ZIM_ACTIONS as readonly string[]).includes(action))
    throw bad(ZimCode.ACTION_UNSUPPORTED, `Unsupported Action: ${action}.`);
  const appId = str('AppId');
  if (!/^[0-9]{1,10}$/.test(appId) || Number(appId) > 4_294_967_295)
    throw bad(ZimCode.APP_ID_FORMAT, 'AppId field format error.');
  const timestamp = str('Timestamp');
  if (!timestamp) throw bad(ZimCode.TIMESTAMP_EMPTY, 'Timestamp field is empty.');
  if (!/^[0-9]{1,12}$/.test(timestamp)) throw bad(ZimCode.TIMESTAMP_FORMAT, 'Timestamp field format error.');
  const nonce = str('SignatureNonce');
  if (!nonce) throw bad(ZimCode.NONCE_EMPTY, 'SignatureNonce field is empty.');
  if (!/^[0-9a-fA-F]{16}$/.test(nonce))
    throw bad(ZimCode.INPUT_PARAMETER, 'SignatureNonce must be 16 hexadecimal characters.');
  const signature = str('Signature');
  if (!signature) throw bad(ZimCode.SIGNATURE_EMPTY, 'Signature field is empty.');
  const version = str('SignatureVersion');
  if (!version) throw bad(ZimCode.SIGNATURE_VERSION_EMPTY, 'SignatureVersion field is empty.');
  if (version !== '2.0')
    throw bad(ZimCode.SIGNATURE_VERSION_UNSUPPORTED, 'Unsupported SignatureVersion: only 2.0.');
  return { action: action as Action, appId: Number(appId), nonce, timestamp: Number(timestamp), signature };
}

/** FromUserId, ConvId (each at most 32 characters) and ConvType 0 or 2, from the body or the query. */
export function parseConversationParams(body: unknown, query: Record<string, unknown>) {
  const src =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : query;
  const field = (k: 'FromUserId' | 'ConvId') => {
    const v = src[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > 32) {
      throw bad(
        ZimCode.INPUT_PARAMETER,
        `Input parameter error: ${k} must be a string of 1 to 32 characters.`,
      );
    }
    return v;
  };
  const fromUserId = field('FromUserId');
  const convId = field('ConvId');
  const t = src.ConvType;
  const convType =
    typeof t === 'number' ? t : typeof t === 'string' && /^[0-9]$/.test(t) ? Number(t) : Number.NaN;
  if (convType !== 0 && convType !== 2)
    throw bad(ZimCode.INPUT_PARAMETER, 'Input parameter error: ConvType must be 0 or 2.');
  return { fromUserId, convId, convType: convType as 0 | 2 };
}

/**
 * The signed server dialect under /compat/zim: `?Action=...` with AppId, SignatureNonce,
 * Timestamp, SignatureVersion 2.0 and Signature; a nonce is accepted once; 20 requests a
 * second per app. Both actions act for FromUserId on that user's own view only.
 */
export async function zimPlugin(app: FastifyInstance, opts: DialectOptions): Promise<void> {
  const { ctx } = opts;
  app.setErrorHandler(renderZimError);
  app.setNotFoundHandler(
    dialectNotFoundHandler(opts.allowedMethods, renderZimError, {
      notFound: 'Send requests to / with ?Action=...',
      methodNotAllowed: 'Use GET or POST.',
    }),
  );

  const handler = async (request: FastifyRequest) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const params = parsePublicParams(query);
    const signedApp = await verifySignedRequest(ctx, params);
    await ctx.rateLimits.consume(ctx, signedApp.orgId, 'zim', String(signedApp.appId));
    const { fromUserId, convId, convType } = parseConversationParams(request.body, query);
    const p = await principalForExternalUser(ctx, signedApp.orgId, fromUserId);
    const conversationId = await resolveExternalConversation(
      ctx,
      p,
      convType === 0 ? 'direct' : 'group',
      convId,
    );
    if (params.action === 'DeleteConv') await setHidden(ctx, p, conversationId, true);
    else await markRead(ctx, p, conversationId);
    return zimBody(ZimCode.OK, 'success');
  };
  // One route per method, so each is its own operation in OpenAPI (its own operationId).
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/',
      config: { signed: true },
      schema: {
        tags: ['compat: zim'],
        summary: `${ZIM_ACTIONS.join(' or ')}: one signed action (?Action=...)${method === 'POST' ? ', parameters in the body' : ''}`,
        description:
          'A signed request (AppId, SignatureNonce, Timestamp, SignatureVersion 2.0, Signature in the query) naming ' +
          'its Action; FromUserId and the conversation in the query (GET) or the JSON body (POST). Every answer, ' +
          'success or failure, is `{Code, Message, RequestId}`: Code 0 is success (docs/compat.md).',
        security: [],
        response: Object.fromEntries(
          [200, 400, 401, 403, 404, 406, 409, 413, 415, 429, 500, 503].map((status) => [
            status,
            { ...ZimBody, description: status === 200 ? 'Code 0: done' : 'A failure: Code names it' },
          ]),
        ),
      },
      handler,
    });
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes authenticated by a request signature instead of a token. */
    signed?: boolean;
  }
}
