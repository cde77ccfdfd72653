import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorKind } from '../../domain/errors.ts';
import { toAppError } from '../../http/errors.ts';
import { setRateLimitErrorHeaders } from '../../http/rate-limit.ts';

/** The team-chat vendor's error catalogue: one fixed message per status (seed 003). */
export const CLIQ_MESSAGES: Record<number, string> = {
  400: 'The request cannot be performed. Usually because of malformed parameter or missing parameter.',
  401: 'Request was rejected because of invalid AuthToken.',
  403: 'The user does not have enough permission or possibly not an user of the respective organization to access the resource.',
  404: "The URL you've sent is wrong. It's possible that the resource you've requested has been moved to another URL.",
  405: 'The requested resource does not support the HTTP method used. For example, requesting List of all customers API with PUT as the HTTP method.',
  406: 'The response has been received but the requested response type is not supported by the browser.',
  429: 'Too many requests within a certain time frame.',
  500: 'Cliq server encountered an error which prevents it from fulfilling the request.',
};

/** Parley error kinds onto the catalogue's statuses; kinds the page has no status for become 400. */
const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  conflict: 400,
  too_large: 400,
  unsupported_media_type: 400,
  rate_limited: 429,
  internal: 500,
  unavailable: 500,
};

/**
 * Renders any error as `{"message": ...}` with the catalogue's status. The body is exactly the
 * vendor's; Parley's own code goes in the `X-Parley-Error-Code` header for debugging.
 */
export function renderCliqError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(err);
  if (appError.kind === 'internal') request.log.error({ err }, 'unhandled error');
  const status = STATUS[appError.kind];
  if (appError.kind === 'rate_limited') setRateLimitErrorHeaders(err, reply);
  if (appError.kind === 'unauthenticated')
    reply.header('www-authenticate', 'Bearer realm="parley", Zoho-oauthtoken');
  return reply
    .code(status)
    .header('x-parley-error-code', appError.code)
    .type('application/json; charset=utf-8')
    .send({ message: CLIQ_MESSAGES[status] });
}
