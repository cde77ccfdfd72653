import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FieldProblem } from '../../domain/errors.ts';
import { NATIVE_STATUS, toAppError } from '../../http/errors.ts';
import { setRateLimitErrorHeaders } from '../../http/rate-limit.ts';

/**
 * The bot vendor's error body: `{"errors": [{"msg": "...", "code": <HTTP status>}]}`, as its
 * public APIs answer, with the real HTTP status (the native API's table). A body with several
 * problems lists each one. Parley's own stable code is in the `X-Parley-Error-Code` header.
 */
export function koreErrorBody(msg: string, code: number) {
  return { errors: [{ msg, code }] };
}

/** Field paths as the vendor names them: `body.cId` -> `cId`. */
const field = (path: string) => path.replace(/^(body|query|path|header)\./, '');

export function renderKoreError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const e = toAppError(err);
  if (e.kind === 'internal') request.log.error({ err }, 'unhandled error');
  if (e.kind === 'rate_limited') {
    const ms = (e.details as { retry_after_ms?: number } | undefined)?.retry_after_ms ?? 1000;
    reply.header('retry-after', String(Math.max(1, Math.ceil(ms / 1000))));
    setRateLimitErrorHeaders(err, reply);
  }
  if (e.kind === 'unauthenticated') reply.header('www-authenticate', 'JWT realm="parley", header="auth"');
  const status = NATIVE_STATUS[e.kind];
  const problems = e.kind === 'invalid' && Array.isArray(e.details) ? (e.details as FieldProblem[]) : [];
  const errors =
    problems.length > 1
      ? problems.map((p) => ({ msg: `${field(p.path)} ${p.problem}`, code: status }))
      : koreErrorBody(e.kind === 'invalid' ? field(e.message) : e.message, status).errors;
  return reply
    .code(status)
    .header('x-parley-error-code', e.code)
    .type('application/json; charset=utf-8')
    .send({ errors });
}
