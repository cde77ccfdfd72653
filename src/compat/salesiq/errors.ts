import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError, ErrorKind, FieldProblem } from '../../domain/errors.ts';
import { toAppError } from '../../http/errors.ts';

/**
 * The live-chat vendor's error body (its REST API v2 format):
 *
 *   {"url": "/api/v2/zylker/conversations/1/pickup", "object": "error",
 *    "error": {"code": 1409, "message": "...", "reason": "chat_not_waiting", ...}}
 *
 * with one optional key naming the culprit (`json_key` for a body field, `param` for a path or
 * query parameter, `header` for a header), as the vendor documents. The vendor's own codes are
 * used where it documents one (1001, 1002, 1004, 1005, 1006); Parley's other failures use
 * 14xx codes that mirror the HTTP status. Unlike the vendor's v1 (which answered 200 to
 * errors), the HTTP status is the real one. `reason` is Parley's stable code; `details` is
 * there when Parley has more to say (the current owner of a chat someone else picked up).
 */
export const SalesiqCode = {
  INTERNAL: 1001,
  INVALID_AUTHORIZATION: 1002,
  INVALID_REQUEST_TYPE: 1004,
  INVALID_PORTAL: 1005,
  INVALID_URL: 1006,
  INVALID_INPUT: 1400,
  FORBIDDEN: 1403,
  NOT_FOUND: 1404,
  NOT_ACCEPTABLE: 1406,
  CONFLICT: 1409,
  TOO_LARGE: 1413,
  UNSUPPORTED_MEDIA_TYPE: 1415,
  RATE_LIMITED: 1429,
  UNAVAILABLE: 1503,
} as const;

const BY_KIND: Record<ErrorKind, { status: number; code: number }> = {
  invalid: { status: 400, code: SalesiqCode.INVALID_INPUT },
  unauthenticated: { status: 401, code: SalesiqCode.INVALID_AUTHORIZATION },
  forbidden: { status: 403, code: SalesiqCode.FORBIDDEN },
  not_found: { status: 404, code: SalesiqCode.NOT_FOUND },
  method_not_allowed: { status: 405, code: SalesiqCode.INVALID_REQUEST_TYPE },
  not_acceptable: { status: 406, code: SalesiqCode.NOT_ACCEPTABLE },
  conflict: { status: 409, code: SalesiqCode.CONFLICT },
  too_large: { status: 413, code: SalesiqCode.TOO_LARGE },
  unsupported_media_type: { status: 415, code: SalesiqCode.UNSUPPORTED_MEDIA_TYPE },
  rate_limited: { status: 429, code: SalesiqCode.RATE_LIMITED },
  internal: { status: 500, code: SalesiqCode.INTERNAL },
  unavailable: { status: 503, code: SalesiqCode.UNAVAILABLE },
};

/** Codes that have a vendor-documented number and message of their own. */
const BY_CODE: Record<string, { code: number; message?: string }> = {
  missing_token: { code: SalesiqCode.INVALID_AUTHORIZATION, message: 'Invalid authorization header.' },
  invalid_token: { code: SalesiqCode.INVALID_AUTHORIZATION, message: 'Invalid authorization header.' },
  portal_not_found: { code: SalesiqCode.INVALID_PORTAL, message: 'Invalid portal or wrong screen name.' },
  route_not_found: { code: SalesiqCode.INVALID_URL, message: 'Invalid URL' },
  method_not_allowed: { code: SalesiqCode.INVALID_REQUEST_TYPE, message: 'Invalid Request Type.' },
  internal: { code: SalesiqCode.INTERNAL, message: 'Unknown error, contact the Parley administrator.' },
};

/** The vendor code for a Parley reason code of one id in a bulk answer. */
export function codeForReason(reason: string): number {
  if (reason === 'conversation_not_found') return SalesiqCode.NOT_FOUND;
  if (reason === 'not_chat_owner' || reason === 'operator_role_required') return SalesiqCode.FORBIDDEN;
  return SalesiqCode.CONFLICT;
}

/** The request's path as the vendor writes `url`: below the dialect's prefix, without the query. */
export function vendorUrl(request: FastifyRequest): string {
  const path = request.url.split('?')[0] ?? request.url;
  return path.replace(/^\/compat\/salesiq/, '') || '/';
}

/** Where a validation problem is: `body.ids.0` -> json_key ids; `path.x` / `query.x` -> param; `header.x` -> header. */
function culprit(details: unknown): Record<string, string> {
  const first = Array.isArray(details) ? (details[0] as FieldProblem | undefined) : undefined;
  if (!first) return {};
  const [part, name] = first.path.split('.');
  if (!name) return {};
  if (part === 'body') return { json_key: name };
  if (part === 'header') return { header: name };
  return { param: name };
}

function messageOf(e: AppError, request: FastifyRequest): string {
  if (e.code === 'insufficient_scope') {
    const vendor = request.routeOptions.config?.vendorScope;
    return vendor ? `Invalid OAuth scope: this token cannot use ${vendor}.` : e.message;
  }
  return BY_CODE[e.code]?.message ?? e.message;
}

/** Renders any error in the vendor's shape with its HTTP status (see the table above). */
export function renderSalesiqError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const e = toAppError(err);
  if (e.kind === 'internal') request.log.error({ err }, 'unhandled error');
  const { status, code: kindCode } = BY_KIND[e.kind];
  if (e.kind === 'unauthenticated')
    reply.header('www-authenticate', 'Zoho-oauthtoken realm="parley", Bearer');
  if (e.kind === 'rate_limited') {
    const ms = (e.details as { retry_after_ms?: number } | undefined)?.retry_after_ms ?? 1000;
    reply.header('retry-after', String(Math.max(1, Math.ceil(ms / 1000))));
  }
  const error: Record<string, unknown> = {
    code: BY_CODE[e.code]?.code ?? kindCode,
    message: messageOf(e, request),
    reason: e.code,
    ...(e.kind === 'invalid' ? culprit(e.details) : {}),
  };
  if (e.details !== undefined && e.details !== null) error.details = e.details;
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ url: vendorUrl(request), object: 'error', error });
}
