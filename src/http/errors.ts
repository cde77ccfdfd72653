import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  type ErrorKind,
  type FieldProblem,
  TooLargeError,
  ValidationError,
} from '../domain/errors.ts';
import { driverErrorKind } from '../store/errors.ts';
import { setRateLimitErrorHeaders } from './rate-limit.ts';

/** The only kind -> HTTP status table of the native API. */
export const NATIVE_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const PART: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

function problemOf(part: string, e: AjvError): FieldProblem {
  let path = `${part}${e.instancePath.replaceAll('/', '.')}`;
  let problem = e.message ?? 'is invalid';
  if (e.keyword === 'required') {
    path = `${path}.${String(e.params.missingProperty)}`;
    problem = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    path = `${path}.${String(e.params.additionalProperty)}`;
    problem = 'is not a known field';
  }
  return { path, problem };
}

/**
 * Normalizes anything thrown during a request into an AppError: our own errors pass through,
 * Fastify's own errors are recognized by their `code` (never by message text), and anything
 * else becomes `internal` (its message is logged, not sent).
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (e?.validation) {
    const part = PART[e.validationContext ?? 'body'] ?? 'body';
    // For a nullable field ajv also reports "must be null" and "must match a schema in
    // anyOf"; those say nothing the real problem does not, so they are dropped.
    const useful = e.validation.filter(
      (v) => v.keyword !== 'anyOf' && !(v.keyword === 'type' && v.params.type === 'null'),
    );
    const seen = new Set<string>();
    const details = (useful.length > 0 ? useful : e.validation)
      .map((v) => problemOf(part, v))
      .filter((d) => !seen.has(`${d.path} ${d.problem}`) && seen.add(`${d.path} ${d.problem}`));
    const first = details[0]!;
    return new ValidationError('invalid_request', `${first.path} ${first.problem}`, details);
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TooLargeError('body_too_large', 'The request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'unsupported_media_type',
        'unsupported_media_type',
        'Send the body as application/json',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('invalid_json', 'The body is empty but Content-Type says JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'PARLEY_INVALID_JSON':
      return new ValidationError('invalid_json', 'The body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ValidationError('invalid_content_length', 'Content-Length does not match the body');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new ValidationError('invalid_url', 'The URL is malformed');
  }
  switch (driverErrorKind(err)) {
    case 'invalid_text':
      return new ValidationError('invalid_text', 'Text must not contain the NUL character (\\u0000)');
    case 'write_conflict':
      return new AppError(
        'unavailable',
        'write_conflict',
        'This write collided with another one and was not made; try again',
      );
    case 'unavailable':
      return new AppError(
        'unavailable',
        'database_unavailable',
        'The database is unavailable; try again shortly',
      );
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413)
    return new TooLargeError('body_too_large', 'The request body is larger than the server accepts');
  if (status === 415)
    return new AppError(
      'unsupported_media_type',
      'unsupported_media_type',
      'Send the body as application/json',
    );
  if (status >= 400 && status < 500)
    return new ValidationError('invalid_request', 'The request is malformed');
  return new AppError('internal', 'internal', 'Something went wrong on our side; the error was logged');
}

/**
 * Renders an error in the native shape `{"error": {"code", "message", "details", "request_id"}}`
 * (`request_id` is the request's X-Request-Id).
 */
export function renderNativeError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(err);
  if (appError.kind === 'internal') request.log.error({ err }, 'unhandled error');
  if (appError.kind === 'unavailable') request.log.warn({ err }, 'dependency unavailable');
  const status = NATIVE_STATUS[appError.kind];
  if (appError.kind === 'unauthenticated') reply.header('www-authenticate', 'Bearer realm="parley"');
  if (appError.kind === 'unavailable') reply.header('retry-after', '5');
  if (appError.kind === 'rate_limited') {
    const ms = (appError.details as { retry_after_ms?: number } | undefined)?.retry_after_ms ?? 1000;
    reply.header('retry-after', String(Math.max(1, Math.ceil(ms / 1000))));
    setRateLimitErrorHeaders(err, reply);
  }
  reply.header('x-request-id', request.id);
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({
      error: {
        code: appError.code,
        message: appError.message,
        details: appError.details ?? null,
        request_id: request.id,
      },
    });
}

/**
 * The native API's answer for a path no route serves: 405 with `Allow` when the path exists
 * for other methods, else 404 `route_not_found`.
 */
export function nativeNotFound(allowedMethods: (url: string) => string[]) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = allowedMethods(request.url);
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
  };
}
