import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../domain/errors.ts';
import { normalizeId } from '../../domain/ids.ts';

export type Api = FastifyInstance;
export const typed = (app: FastifyInstance) => app.withTypeProvider<TypeBoxTypeProvider>();

/** An id from a JSON body (string or number) as its canonical string, or a 400 naming the field. */
export function bodyId(value: string | number, path: string): string {
  const id = normalizeId(value);
  if (!id)
    throw ValidationError.field(
      path,
      'must be a Parley id (a decimal string of up to 19 digits)',
      'invalid_id',
    );
  return id;
}

/** An optional id from a JSON body: undefined stays undefined, anything else as bodyId. */
export const optBodyId = (value: string | number | undefined, path: string): string | undefined =>
  value === undefined ? undefined : bodyId(value, path);

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** A time given as ISO 8601 (with a zone when it has a time of day) or epoch ms, or a 400 naming the field. */
export function parseTime(value: string | undefined, path: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^[0-9]{1,15}$/.test(value)
    ? Number(value)
    : ISO_8601.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw ValidationError.field(
      path,
      'must be an ISO 8601 time with a zone, or epoch milliseconds',
      'invalid_time',
    );
  }
  return ms;
}
