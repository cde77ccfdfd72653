import Type, { type Static, type TProperties, type TSchema } from 'typebox';

/**
 * The shared TypeBox pieces of the native API: ids, times, the Idempotency-Key header, the
 * conversation id in a path, the error body and error responses, and the list helpers
 * (listQuery, pageArgs, page). Each aggregate's own shapes are in http/schemas/<aggregate>.ts.
 */

/** A string that is one of the given values (a JSON Schema string enum). */
function literals<const T extends string[]>(values: readonly [...T]) {
  return Type.Enum<T>(values, { type: 'string' });
}
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** An id in a path or query: a decimal string of up to 19 digits, at most 2^63-1. */
export const IdString = Type.String({
  pattern: '^[0-9]{1,19}$',
  format: 'parley-id',
  description: 'A Parley id: a 64-bit number as a decimal string',
});
/** An id in a JSON body: a decimal string, or a JSON number (large ones keep every digit). */
export const IdInput = Type.Union([IdString, Type.Integer({ minimum: 1 })], {
  description: 'A Parley id as a decimal string (preferred) or a JSON number',
});
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601 time in UTC' });
/** The last millisecond of year 9999: the latest time any field accepts. */
export const MAX_EPOCH_MS = 253_402_300_799_999;
export const EpochMs = Type.Integer({ description: 'Epoch milliseconds' });
export const Limit = Type.Integer({
  minimum: 1,
  maximum: 100,
  default: 50,
  description: 'Page size, at most 100',
});
export const Cursor = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'Opaque cursor from next_cursor',
});

/** The optional Idempotency-Key of POSTs that create: a retry returns the first answer. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Retries with the same key return the first answer',
    }),
  ),
});

export const ConversationIdParams = Type.Object({ id: IdString });

/** The native error body; registered once as the shared schema `Error` (see app.ts). */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable snake_case code' }),
      message: Type.String(),
      details: Type.Unknown({ description: 'For validation errors: [{ path, problem }]' }),
      request_id: Type.String({
        description: "The request's X-Request-Id (quote it when reporting a problem)",
      }),
    }),
  },
  { $id: 'Error', description: 'An error' },
);

const errorRef = (description: string) =>
  Type.Unsafe<Static<typeof ErrorBody>>({ $ref: 'Error#', description });

/**
 * A list route's query string: its own filters, then `limit` and `cursor`; anything else is
 * refused (400 naming the parameter). The service gets `pageArgs(query)`, the answer is
 * `presentPage(result, present)` (http/present.ts) in the `page(item)` shape.
 */
export const listQuery = <P extends TProperties>(filters: P) =>
  Type.Object(
    { ...filters, limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
    { additionalProperties: false },
  );

/** The page a service reads, from a list route's query (`limit` defaults to 50). */
export const pageArgs = (q: { limit?: number | undefined; cursor?: string | undefined }) => ({
  limit: q.limit ?? 50,
  cursor: q.cursor,
});

export const page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    next_cursor: Nullable(Type.String({ description: 'Pass as cursor for the next page' })),
  });

const ERROR_TEXT = {
  400: 'Invalid request: details name each field and its problem',
  401: 'Missing, invalid, expired or revoked token',
  403: 'The token lacks the scope, or a policy refuses the action',
  404: 'Not found, or not visible to the caller',
  406: 'The client does not accept application/json',
  409: 'Conflicts with the current state',
  413: 'The body is larger than the server accepts',
  415: 'The body is not application/json',
  429: 'Over the rate limit (see Retry-After and the RateLimit-* headers)',
  500: 'An unexpected failure (logged with the request id)',
  503: 'The database is unavailable or this write collided with another; nothing was written, retry after Retry-After',
} as const;

/** Error responses of a route that reads: for OpenAPI and the typed client. */
export const readErrors = {
  400: errorRef(ERROR_TEXT[400]),
  401: errorRef(ERROR_TEXT[401]),
  403: errorRef(ERROR_TEXT[403]),
  404: errorRef(ERROR_TEXT[404]),
  406: errorRef(ERROR_TEXT[406]),
  429: errorRef(ERROR_TEXT[429]),
  500: errorRef(ERROR_TEXT[500]),
  503: errorRef(ERROR_TEXT[503]),
} as const;

/** Error responses of a route that takes a body or changes state. */
export const commonErrors = {
  ...readErrors,
  409: errorRef(ERROR_TEXT[409]),
  413: errorRef(ERROR_TEXT[413]),
  415: errorRef(ERROR_TEXT[415]),
} as const;

export { literals };
