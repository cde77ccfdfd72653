import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorKind } from '../../domain/errors.ts';
import { NATIVE_STATUS, toAppError } from '../../http/errors.ts';
import { setRateLimitErrorHeaders } from '../../http/rate-limit.ts';
import { SignatureError } from '../../services/apps.ts';

/**
 * Return codes of the in-app chat server API. The vendor's public codes where it has one;
 * REPLAYED_NONCE is Parley's own (the vendor documents no code for a reused nonce).
 */
export const ZimCode = {
  OK: 0,
  FAILED: 1,
  QPS_LIMIT: 7,
  APP_ID_FORMAT: 100000001,
  TIMESTAMP_EMPTY: 100000002,
  TIMESTAMP_FORMAT: 100000003,
  SIGNATURE_EXPIRED: 100000004,
  SIGNATURE_ERROR: 100000005,
  ACTION_EMPTY: 100000006,
  ACTION_UNSUPPORTED: 100000007,
  NONCE_EMPTY: 100000008,
  SIGNATURE_EMPTY: 100000009,
  NO_SERVER_SECRET: 100000010,
  SIGNATURE_VERSION_EMPTY: 100000013,
  SIGNATURE_VERSION_UNSUPPORTED: 100000014,
  REPLAYED_NONCE: 100000100,
  INPUT_PARAMETER: 660000002,
} as const;

/** An error with its vendor return code. */
export class ZimError extends AppError {
  readonly zimCode: number;
  constructor(kind: ErrorKind, zimCode: number, message: string) {
    super(kind, `zim_${zimCode}`, message);
    this.zimCode = zimCode;
  }
}

const SIGNATURE_CODES = {
  unknown_app: ZimCode.NO_SERVER_SECRET,
  timestamp_expired: ZimCode.SIGNATURE_EXPIRED,
  bad_signature: ZimCode.SIGNATURE_ERROR,
  nonce_replayed: ZimCode.REPLAYED_NONCE,
} as const;

function codeOf(e: AppError): number {
  if (e instanceof ZimError) return e.zimCode;
  if (e instanceof SignatureError) return SIGNATURE_CODES[e.failure];
  if (e.kind === 'rate_limited') return ZimCode.QPS_LIMIT;
  if (e.kind === 'internal' || e.kind === 'unavailable') return ZimCode.FAILED;
  // Everything about the call's own parameters (body, unknown user or conversation, a member's
  // rights) is the page's documented input-parameter error.
  return ZimCode.INPUT_PARAMETER;
}

export function zimBody(code: number, message: string) {
  return { Code: code, Message: message, RequestId: randomUUID() };
}

/**
 * Every failure as `{Code, Message, RequestId}` with the status the native API would give it
 * (the body is what a vendor client reads; the status lets plain HTTP clients see the failure).
 */
export function renderZimError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const e = toAppError(err);
  if (e.kind === 'internal') request.log.error({ err }, 'unhandled error');
  if (e.kind === 'rate_limited') setRateLimitErrorHeaders(err, reply);
  const message = e.kind === 'internal' ? 'Request failed.' : e.message;
  return reply
    .code(NATIVE_STATUS[e.kind])
    .type('application/json; charset=utf-8')
    .send(zimBody(codeOf(e), message));
}
