/**
 * The one error hierarchy of Parley. Domain code and services throw these; every surface
 * (native API, each compat dialect) maps `kind` to its own status and body in one place.
 * Fields are assigned in constructors because type stripping forbids parameter properties.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'not_acceptable'
  | 'unsupported_media_type'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export class AppError extends Error {
  readonly kind: ErrorKind;
  /** Stable snake_case code that clients and tests match on. */
  readonly code: string;
  /** Structured data safe to show to the caller. */
  readonly details: unknown;
  constructor(kind: ErrorKind, code: string, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.details = details;
  }
}

export interface FieldProblem {
  /** Where the problem is, e.g. `body.text` or `query.limit`. */
  path: string;
  problem: string;
}

export class ValidationError extends AppError {
  constructor(code: string, message: string, details?: FieldProblem[]) {
    super('invalid', code, message, details);
  }
  static field(path: string, problem: string, code = 'invalid_request'): ValidationError {
    return new ValidationError(code, `${path} ${problem}`, [{ path, problem }]);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(code = 'unauthenticated', message = 'A valid bearer token is required') {
    super('unauthenticated', code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super('forbidden', code, message, details);
  }
}

/** Also used for other orgs' data and objects the caller may not see: it never confirms existence. */
export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super('not_found', code, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super('conflict', code, message, details);
  }
}

export class TooLargeError extends AppError {
  constructor(code: string, message: string) {
    super('too_large', code, message);
  }
}

export class RateLimitedError extends AppError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = 'Too many requests') {
    super('rate_limited', 'rate_limited', message, { retry_after_ms: retryAfterMs });
    this.retryAfterMs = retryAfterMs;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
